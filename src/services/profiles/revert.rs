//! Reverting a History entry: the old value comes back, as a new entry that says so.

use super::{TagRef, current_values, raw_of, to_json};
use crate::db::DbConnection;
use crate::db::customers::{self};
use crate::db::events::{self, NewEvent};
use crate::db::properties::Property;
use crate::db::tags;
use crate::db::types::EventAction;
use crate::db::types::{CustomerId, EventId, TagId};
use crate::domain::customer::{Actor, Lifecycle};
use crate::domain::property::{PropertyKind, RawValue, Value, parse_value};
use crate::error::AppError;

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
                            &customer,
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
