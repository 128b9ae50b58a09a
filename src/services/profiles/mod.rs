//! Changing a customer: property values, lifecycle, tags, notes, revert. Every write path
//! (profile form, context card, self-service, API, import) comes through here, so access,
//! validation, history and conflict protection are the same everywhere.

use std::collections::HashMap;

use crate::db::DbConnection;
use crate::db::customers::{self, Customer};
use crate::db::events::{self, Event, NewEvent};
use crate::db::properties::Property;
use crate::db::types::CustomerId;
use crate::db::types::EventAction;
use crate::domain::customer::{Actor, Lifecycle};
use crate::domain::property::{Access, PropertyKind, RawValue, Value, parse_value};
use crate::domain::{FieldErrors, Role};
use crate::error::AppError;

mod create;
mod notes_tags;
mod revert;

pub use create::{NewProfile, check_new, create_customer, create_customers, tag_new_customers};
pub use notes_tags::{TagRef, add_note, set_tag};
pub use revert::revert_event;

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
                customers::replace_custom_value(conn, customer, property.id, *new)?
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
                // Read again: on PostgreSQL the save that won may have committed after the
                // read above, and the form must carry the version it made.
                let current = customers::get_customer(conn, customer_id)?;
                Ok(EditOutcome::Conflict {
                    current_version: current.version,
                    missed: events::list_events_since(conn, customer_id, base)?,
                })
            }
        }
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

/// Sets something kept beside a customer's properties (a lock, a pinned stage) with
/// `change`, which says whether anything changed. When it did, the profile's version moves
/// on, so forms open on it see the change, and History records `action` with `shown` of
/// the customer as its value; when it was already so, nothing is written.
pub fn set_marker(
    conn: &mut DbConnection,
    customer: CustomerId,
    actor: &Actor,
    action: EventAction,
    shown: fn(&Customer) -> Option<String>,
    change: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<bool>,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let current = customers::get_customer(conn, customer)?;
        if !change(conn)? {
            return Ok(());
        }
        let version = customers::bump_version(conn, customer, None)?.unwrap_or(current.version);
        events::insert_event(
            conn,
            NewEvent {
                customer,
                actor,
                action,
                property_key: None,
                old_value: None,
                new_value: shown(&current),
                reverts: None,
                customer_version: version,
            },
        )?;
        Ok(())
    })
}
