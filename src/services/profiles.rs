//! Changing a customer: property values, lifecycle, tags, notes, revert. Every write path
//! (profile form, context card, self-service, API, import) comes through here, so access,
//! validation, history and conflict protection are the same everywhere.

use std::collections::HashMap;

use crate::db::customers::{self, Customer};
use crate::db::events::{self, Event, NewEvent};
use crate::db::properties::Property;
use crate::db::tags;
use crate::db::types::EventAction;
use crate::db::types::{CustomerId, EventId, TagId};
use crate::db::{DbConnection, notes};
use crate::domain::customer::{Actor, Lifecycle, parse_note};
use crate::domain::property::{Access, PropertyKind, RawValue, Value, parse_value};
use crate::domain::{FieldErrors, Role};
use crate::error::AppError;

/// Who is editing, for access checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// A staff member of this role.
    Staff(Role),
    /// The customer, through the self-service page.
    Customer,
    /// An API token: may change every property that is not computed.
    Integration,
}

impl Editor {
    /// What this editor may do with a property.
    pub fn access(self, property: &Property) -> Access {
        match self {
            Editor::Staff(role) => property.staff_access(role),
            Editor::Integration => property.staff_access(Role::Supervisor),
            Editor::Customer if property.kind == PropertyKind::Computed => {
                property.customer_access.min(Access::View)
            }
            Editor::Customer => property.customer_access,
        }
    }
}

/// What was submitted: raw values by technical name, and optionally a lifecycle stage.
#[derive(Debug, Default, Clone)]
pub struct ProfileEdit {
    /// Submitted values by property key.
    pub values: Vec<(String, RawValue)>,
    /// A lifecycle stage, for staff.
    pub lifecycle: Option<String>,
}

/// What a save did.
#[derive(Debug)]
pub enum EditOutcome {
    /// Applied; how many fields changed.
    Saved(usize),
    /// Someone else saved since `expected_version`; nothing was applied.
    Conflict {
        /// The version to base a new attempt on.
        current_version: i64,
        /// What the others changed meanwhile.
        missed: Vec<Event>,
    },
}

/// A parsed edit: every value valid, every key editable.
struct ValidEdit<'p> {
    values: Vec<(&'p Property, Option<Value>)>,
    lifecycle: Option<Lifecycle>,
}

/// Checks access first (a field the editor may not change is refused outright), then
/// parses every value; all refused fields are reported together.
fn validate<'p>(
    properties: &'p [Property],
    editor: Editor,
    edit: &ProfileEdit,
) -> Result<ValidEdit<'p>, AppError> {
    for (key, _) in &edit.values {
        let editable = properties
            .iter()
            .find(|p| &p.key == key)
            .is_some_and(|p| editor.access(p) == Access::Edit);
        if !editable {
            // Unknown and hidden keys get the same answer, so nothing leaks.
            return Err(AppError::Forbidden);
        }
    }
    if edit.lifecycle.is_some() && editor == Editor::Customer {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let mut values = Vec::new();
    for (key, raw) in &edit.values {
        let Some(property) = properties.iter().find(|p| &p.key == key) else {
            continue;
        };
        match parse_value(property.ty, &property.choices, raw) {
            Ok(value) => values.push((property, value)),
            Err(message) => errors.push(key, message),
        }
    }
    let lifecycle = match &edit.lifecycle {
        Some(raw) => errors.check("lifecycle", raw.parse::<Lifecycle>()),
        None => None,
    };
    if errors.is_empty() {
        Ok(ValidEdit { values, lifecycle })
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The current value of every property of a customer (standard, custom and computed,
/// computed ones as stored numbers), by property key.
pub fn current_values(
    conn: &mut DbConnection,
    customer: &Customer,
    properties: &[Property],
) -> Result<HashMap<String, Value>, AppError> {
    let custom = customers::list_custom_values(conn, customer.id, properties)?;
    Ok(assemble_values(customer, properties, &custom))
}

/// Every property value of a customer from its row and its custom values.
pub fn assemble_values(
    customer: &Customer,
    properties: &[Property],
    custom: &HashMap<crate::db::types::PropertyId, Value>,
) -> HashMap<String, Value> {
    properties
        .iter()
        .filter_map(|p| Some((p.key.clone(), value_of(customer, p, custom)?)))
        .collect()
}

/// One property value of a customer from its row and its custom values.
pub fn value_of(
    customer: &Customer,
    property: &Property,
    custom: &HashMap<crate::db::types::PropertyId, Value>,
) -> Option<Value> {
    match property.kind {
        PropertyKind::Standard => customer
            .standard_text(&property.key)
            .map(|text| Value::Text {
                text: text.to_owned(),
            }),
        PropertyKind::Custom => custom.get(&property.id).cloned(),
        PropertyKind::Computed => computed_value(customer, &property.key),
    }
}

/// A computed property's value. Times are UTC `YYYY-MM-DD HH:MM:SS`; pages show them in the
/// reader's time zone.
fn computed_value(customer: &Customer, key: &str) -> Option<Value> {
    use chrono::{Datelike, Timelike};
    let count = |n: i64| Value::Number {
        text: n.to_string(),
        number: n as f64,
    };
    // Written out rather than through a format string: exports print millions of these.
    let time = |at: chrono::NaiveDateTime| Value::Text {
        text: format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            at.year(),
            at.month(),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        ),
    };
    match key {
        "created_at" => Some(time(customer.created_at)),
        "conversations_count" => Some(count(customer.conversations_count)),
        "messages_count" => Some(count(customer.messages_count)),
        "orders_count" => Some(count(customer.orders_count)),
        "last_contact_at" => customer.last_contact_at.map(time),
        "csat_average" => customer.csat_average.map(|avg| Value::Number {
            text: format!("{avg:.2}"),
            number: avg,
        }),
        _ => None,
    }
}

fn to_json(value: Option<&Value>) -> Option<String> {
    value.and_then(|v| serde_json::to_string(v).ok())
}

/// A changed value: the property, its value before and after.
type Change<'a> = (&'a Property, Option<&'a Value>, Option<&'a Value>);

/// What `edit` would change on a customer with these current values: the values that
/// differ, and the new lifecycle stage if it differs.
fn diff<'a>(
    customer: &Customer,
    current: &'a HashMap<String, Value>,
    edit: &'a ValidEdit<'_>,
) -> (Vec<Change<'a>>, Option<Lifecycle>) {
    let changes = edit
        .values
        .iter()
        .map(|(p, new)| (*p, current.get(&p.key), new.as_ref()))
        .filter(|(_, old, new)| old != new)
        .collect();
    let lifecycle = edit.lifecycle.filter(|l| l.as_str() != customer.lifecycle);
    (changes, lifecycle)
}

/// Whether saving `edit` on a customer (its row and custom values as read) would change
/// nothing. An edit that would be refused counts as a change: saving it reports why.
pub fn changes_nothing(
    customer: &Customer,
    custom: &HashMap<crate::db::types::PropertyId, Value>,
    properties: &[Property],
    editor: Editor,
    edit: &ProfileEdit,
) -> bool {
    let Ok(valid) = validate(properties, editor, edit) else {
        return false;
    };
    let current = assemble_values(customer, properties, custom);
    let (changes, lifecycle) = diff(customer, &current, &valid);
    changes.is_empty() && lifecycle.is_none()
}

/// Writes the changed values of `edit` within the caller's transaction. Returns how many
/// fields changed, or `None` on a version conflict (nothing written).
fn write_changes(
    conn: &mut DbConnection,
    customer: &Customer,
    properties: &[Property],
    expected_version: Option<i64>,
    actor: &Actor,
    edit: &ValidEdit<'_>,
) -> Result<Option<usize>, AppError> {
    let current = current_values(conn, customer, properties)?;
    let (changes, lifecycle_change) = diff(customer, &current, edit);
    if changes.is_empty() && lifecycle_change.is_none() {
        return Ok(Some(0));
    }
    let Some(version) = customers::bump_version(conn, customer.id, expected_version)? else {
        return Ok(None);
    };
    let texts: Vec<(&str, Option<String>)> = changes
        .iter()
        .filter(|(property, _, _)| property.kind == PropertyKind::Standard)
        .map(|(property, _, new)| (property.key.as_str(), new.map(Value::form_text)))
        .collect();
    let texts: Vec<(&str, Option<&str>)> = texts.iter().map(|(k, t)| (*k, t.as_deref())).collect();
    customers::update_standard(conn, customer, &texts)?;
    let mut history = Vec::with_capacity(changes.len());
    for (property, old, new) in &changes {
        match property.kind {
            PropertyKind::Standard => {}
            PropertyKind::Custom => {
                customers::replace_custom_value(conn, customer.id, property.id, *new)?
            }
            PropertyKind::Computed => return Err(AppError::Forbidden),
        }
        history.push(NewEvent {
            customer: customer.id,
            actor,
            action: EventAction::PropertyChanged,
            property_key: Some(&property.key),
            old_value: to_json(*old),
            new_value: to_json(*new),
            reverts: None,
            customer_version: version,
        });
    }
    events::insert_events(conn, &history)?;
    if let Some(stage) = lifecycle_change {
        customers::update_lifecycle(conn, customer.id, stage.as_str())?;
        events::insert_event(
            conn,
            NewEvent {
                customer: customer.id,
                actor,
                action: EventAction::LifecycleChanged,
                property_key: None,
                old_value: Some(customer.lifecycle.clone()),
                new_value: Some(stage.as_str().to_owned()),
                reverts: None,
                customer_version: version,
            },
        )?;
    }
    Ok(Some(
        changes.len() + usize::from(lifecycle_change.is_some()),
    ))
}

/// Saves an edit of an existing customer made from a form based on `expected_version`.
pub fn edit_customer(
    conn: &mut DbConnection,
    customer_id: CustomerId,
    properties: &[Property],
    expected_version: Option<i64>,
    actor: &Actor,
    editor: Editor,
    edit: &ProfileEdit,
) -> Result<EditOutcome, AppError> {
    let valid = validate(properties, editor, edit)?;
    crate::db::transaction(conn, |conn| {
        let customer = customers::get_customer(conn, customer_id)?;
        match write_changes(conn, &customer, properties, expected_version, actor, &valid)? {
            Some(changed) => Ok(EditOutcome::Saved(changed)),
            None => {
                let base = expected_version.unwrap_or(customer.version);
                Ok(EditOutcome::Conflict {
                    current_version: customer.version,
                    missed: events::list_events_since(conn, customer_id, base)?,
                })
            }
        }
    })
}

/// A new customer's values, checked: what [`create_customers`] writes.
pub struct NewProfile<'p>(ValidEdit<'p>);

/// Checks a new customer's values as [`create_customer`] would, writing nothing.
pub fn check_new<'p>(
    properties: &'p [Property],
    editor: Editor,
    edit: &ProfileEdit,
) -> Result<NewProfile<'p>, AppError> {
    validate(properties, editor, edit).map(NewProfile)
}

/// Creates a customer with the submitted values; the creation and each value are recorded.
pub fn create_customer(
    conn: &mut DbConnection,
    properties: &[Property],
    actor: &Actor,
    editor: Editor,
    edit: &ProfileEdit,
) -> Result<Customer, AppError> {
    let new = check_new(properties, editor, edit)?;
    crate::db::transaction(conn, |conn| {
        create_customers(conn, actor, &[&new])?
            .pop()
            .ok_or(AppError::NotFound)
    })
}

/// Creates customers in a few statements however many there are (within the caller's
/// transaction): their rows with sort keys and search terms, their custom values, and
/// History — the creation at version 1, then each value at version 2, as a customer
/// created and then filled in. Returns them as stored, in the order given.
pub fn create_customers(
    conn: &mut DbConnection,
    actor: &Actor,
    new: &[&NewProfile<'_>],
) -> Result<Vec<Customer>, AppError> {
    let ids = customers::reserve_ids(conn, new.len())?;
    let at = crate::db::now();
    let mut rows = Vec::with_capacity(new.len());
    let mut custom = Vec::new();
    let mut history = Vec::new();
    for (id, NewProfile(valid)) in ids.into_iter().zip(new.iter().copied()) {
        let stage = valid.lifecycle.unwrap_or(Lifecycle::Prospect);
        let mut row = customers::blank(id, stage.as_str(), at);
        history.push(NewEvent {
            customer: id,
            actor,
            action: EventAction::Created,
            property_key: None,
            old_value: None,
            new_value: None,
            reverts: None,
            customer_version: row.version,
        });
        // Two columns for one property: the last one wins, as in a form.
        let mut set: Vec<(&Property, &Value)> = Vec::new();
        for (property, value) in &valid.values {
            set.retain(|(p, _)| p.key != property.key);
            if let Some(value) = value {
                set.push((property, value));
            }
        }
        if !set.is_empty() {
            row.version += 1;
        }
        for (property, value) in set {
            match property.kind {
                PropertyKind::Standard => {
                    row.set_standard_text(&property.key, Some(value.form_text()));
                }
                PropertyKind::Custom => custom.push((id, property.id, value)),
                PropertyKind::Computed => return Err(AppError::Forbidden),
            }
            history.push(NewEvent {
                customer: id,
                actor,
                action: EventAction::PropertyChanged,
                property_key: Some(&property.key),
                old_value: None,
                new_value: to_json(Some(value)),
                reverts: None,
                customer_version: row.version,
            });
        }
        rows.push(row);
    }
    crate::db::search::index_new(conn, &mut rows)?;
    customers::insert_customers(conn, &rows)?;
    customers::insert_custom_values(conn, &custom)?;
    events::insert_events(conn, &history)?;
    Ok(rows)
}

/// Tags customers just made by [`create_customers`] (who hold no tag yet), recorded in
/// History; a pair given twice counts once.
pub fn tag_new_customers(
    conn: &mut DbConnection,
    actor: &Actor,
    tagged: &[(&Customer, &tags::Tag)],
) -> Result<(), AppError> {
    let mut seen = std::collections::HashSet::with_capacity(tagged.len());
    let pairs: Vec<(&Customer, &tags::Tag)> = tagged
        .iter()
        .filter(|(customer, tag)| seen.insert((customer.id, tag.id)))
        .copied()
        .collect();
    let ids: Vec<(CustomerId, TagId)> = pairs.iter().map(|(c, t)| (c.id, t.id)).collect();
    tags::insert_customer_tags(conn, &ids)?;
    let history: Vec<NewEvent<'_>> = pairs
        .iter()
        .map(|(customer, tag)| NewEvent {
            customer: customer.id,
            actor,
            action: EventAction::TagAdded,
            property_key: None,
            old_value: None,
            new_value: serde_json::to_string(&TagRef {
                id: tag.id.0,
                name: tag.name.clone(),
            })
            .ok(),
            reverts: None,
            customer_version: customer.version,
        })
        .collect();
    events::insert_events(conn, &history)?;
    Ok(())
}

/// The tag named in a tag event.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct TagRef {
    /// The tag's id.
    pub id: i64,
    /// Its name at the time.
    pub name: String,
}

/// Tags or untags a customer, recorded in History. Returns whether anything changed.
pub fn set_tag(
    conn: &mut DbConnection,
    customer: CustomerId,
    tag: TagId,
    on: bool,
    actor: &Actor,
) -> Result<bool, AppError> {
    crate::db::transaction(conn, |conn| {
        let tag = tags::get_tag(conn, tag)?;
        let changed = if on {
            tags::add_customer_tag(conn, customer, tag.id)?
        } else {
            tags::remove_customer_tag(conn, customer, tag.id)?
        };
        if changed {
            let version = customers::get_customer(conn, customer)?.version;
            let reference = serde_json::to_string(&TagRef {
                id: tag.id.0,
                name: tag.name.clone(),
            })
            .ok();
            let (action, old_value, new_value) = if on {
                (EventAction::TagAdded, None, reference)
            } else {
                (EventAction::TagRemoved, reference, None)
            };
            events::insert_event(
                conn,
                NewEvent {
                    customer,
                    actor,
                    action,
                    property_key: None,
                    old_value,
                    new_value,
                    reverts: None,
                    customer_version: version,
                },
            )?;
        }
        Ok(changed)
    })
}

/// Adds a staff note, recorded in History.
pub fn add_note(
    conn: &mut DbConnection,
    customer: CustomerId,
    actor: &Actor,
    body: &str,
) -> Result<(), AppError> {
    let body = parse_note(body).map_err(|message| {
        let mut errors = FieldErrors::default();
        errors.push("body", message);
        AppError::Invalid(errors)
    })?;
    crate::db::transaction(conn, |conn| {
        let version = customers::get_customer(conn, customer)?.version;
        notes::insert_note(conn, customer, actor.user_id(), &actor.name(), &body)?;
        events::insert_event(
            conn,
            NewEvent {
                customer,
                actor,
                action: EventAction::NoteAdded,
                property_key: None,
                old_value: None,
                new_value: serde_json::to_string(&body).ok(),
                reverts: None,
                customer_version: version,
            },
        )?;
        Ok(())
    })
}

/// Why a revert was refused.
fn refuse(message: &str) -> AppError {
    AppError::Conflict(message.to_owned())
}

/// Undoes one recorded change (property value, lifecycle or tag); the undo is recorded
/// too, pointing at the entry it reverts. A value the property no longer accepts (a choice
/// removed since, a type changed) is refused with a message.
pub fn revert_event(
    conn: &mut DbConnection,
    customer_id: CustomerId,
    event_id: EventId,
    properties: &[Property],
    actor: &Actor,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let event = events::get_event(conn, customer_id, event_id)?;
        if events::is_reverted(conn, event_id)? {
            return Err(refuse("This change has already been reverted."));
        }
        let customer = customers::get_customer(conn, customer_id)?;
        match event.action {
            EventAction::PropertyChanged => {
                let key = event.property_key.clone().unwrap_or_default();
                let property = properties
                    .iter()
                    .find(|p| p.key == key)
                    .ok_or_else(|| refuse("The property of this change no longer exists."))?;
                let old: Option<Value> = match &event.old_value {
                    Some(json) => Some(
                        serde_json::from_str(json)
                            .map_err(|_| refuse("The earlier value cannot be read back."))?,
                    ),
                    None => None,
                };
                let raw = old.as_ref().map_or(RawValue::One(String::new()), raw_of);
                let value =
                    parse_value(property.ty, &property.choices, &raw).map_err(|message| {
                        refuse(&format!(
                            "The earlier value is no longer valid for {}: {message}",
                            property.label
                        ))
                    })?;
                let current = current_values(conn, &customer, properties)?;
                let version =
                    customers::bump_version(conn, customer_id, None)?.unwrap_or(customer.version);
                match property.kind {
                    PropertyKind::Standard => {
                        let text = value.as_ref().map(Value::form_text);
                        customers::update_standard(
                            conn,
                            &customer,
                            &[(property.key.as_str(), text.as_deref())],
                        )?;
                    }
                    PropertyKind::Custom => {
                        customers::replace_custom_value(
                            conn,
                            customer_id,
                            property.id,
                            value.as_ref(),
                        )?;
                    }
                    PropertyKind::Computed => return Err(AppError::Forbidden),
                }
                events::insert_event(
                    conn,
                    NewEvent {
                        customer: customer_id,
                        actor,
                        action: EventAction::PropertyChanged,
                        property_key: Some(&property.key),
                        old_value: to_json(current.get(&property.key)),
                        new_value: to_json(value.as_ref()),
                        reverts: Some(event_id),
                        customer_version: version,
                    },
                )?;
            }
            EventAction::LifecycleChanged => {
                let old = event.old_value.clone().unwrap_or_default();
                let stage: Lifecycle = old
                    .parse()
                    .map_err(|_| refuse("The earlier stage cannot be read back."))?;
                let version =
                    customers::bump_version(conn, customer_id, None)?.unwrap_or(customer.version);
                customers::update_lifecycle(conn, customer_id, stage.as_str())?;
                events::insert_event(
                    conn,
                    NewEvent {
                        customer: customer_id,
                        actor,
                        action: EventAction::LifecycleChanged,
                        property_key: None,
                        old_value: Some(customer.lifecycle.clone()),
                        new_value: Some(stage.as_str().to_owned()),
                        reverts: Some(event_id),
                        customer_version: version,
                    },
                )?;
            }
            EventAction::TagAdded | EventAction::TagRemoved => {
                let added = event.action == EventAction::TagAdded;
                let json = if added {
                    &event.new_value
                } else {
                    &event.old_value
                };
                let tag: TagRef = json
                    .as_deref()
                    .and_then(|j| serde_json::from_str(j).ok())
                    .ok_or_else(|| refuse("The tag of this change cannot be read back."))?;
                let tag_id = TagId(tag.id);
                tags::get_tag(conn, tag_id)
                    .map_err(|_| refuse("This tag has been deleted since."))?;
                let changed = if added {
                    tags::remove_customer_tag(conn, customer_id, tag_id)?
                } else {
                    tags::add_customer_tag(conn, customer_id, tag_id)?
                };
                if changed {
                    let reference = serde_json::to_string(&tag).ok();
                    let (action, old_value, new_value) = if added {
                        (EventAction::TagRemoved, reference, None)
                    } else {
                        (EventAction::TagAdded, None, reference)
                    };
                    events::insert_event(
                        conn,
                        NewEvent {
                            customer: customer_id,
                            actor,
                            action,
                            property_key: None,
                            old_value,
                            new_value,
                            reverts: Some(event_id),
                            customer_version: customer.version,
                        },
                    )?;
                }
            }
            _ => return Err(refuse("This kind of entry cannot be reverted.")),
        }
        Ok(())
    })
}

/// The submission that would produce `value` again (for re-validation).
pub fn raw_of(value: &Value) -> RawValue {
    match value {
        Value::Choices { choices } => RawValue::Many(choices.clone()),
        Value::Location {
            address,
            latitude,
            longitude,
        } => RawValue::Location {
            address: address.clone(),
            latitude: latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude: longitude.map(|v| v.to_string()).unwrap_or_default(),
        },
        other => RawValue::One(other.form_text()),
    }
}
