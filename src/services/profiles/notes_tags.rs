//! Tags put on and taken off a customer, and staff notes; each recorded in History.

use crate::db::customers::{self};
use crate::db::events::{self, NewEvent};
use crate::db::tags;
use crate::db::types::EventAction;
use crate::db::types::{CustomerId, TagId};
use crate::db::{DbConnection, notes};
use crate::domain::FieldErrors;
use crate::domain::customer::{Actor, parse_note};
use crate::error::AppError;

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
