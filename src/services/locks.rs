//! Locked profiles: while locked, what channels report (display names, automatic fills)
//! never changes the profile; staff edits still work, and customers' own edits unless the
//! self-service settings turn them off for locked profiles.

use crate::db::events::{self, NewEvent};
use crate::db::types::{CustomerId, EventAction};
use crate::db::{self, DbConnection, customers, locks};
use crate::domain::customer::Actor;
use crate::error::AppError;

/// Locks (`true`) or unlocks a profile; recorded in History. Nothing changes when it is
/// already so.
pub fn set_locked(
    conn: &mut DbConnection,
    customer: CustomerId,
    locked: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        let current = customers::get_customer(conn, customer)?;
        let changed = if locked {
            locks::insert_lock(conn, customer, &actor.name())?
        } else {
            locks::delete_lock(conn, customer)?
        };
        if !changed {
            return Ok(());
        }
        let version = customers::bump_version(conn, customer, None)?.unwrap_or(current.version);
        events::insert_event(
            conn,
            NewEvent {
                customer,
                actor,
                action: if locked {
                    EventAction::Locked
                } else {
                    EventAction::Unlocked
                },
                property_key: None,
                old_value: None,
                new_value: None,
                reverts: None,
                customer_version: version,
            },
        )?;
        Ok(())
    })
}

/// Whether the profile is locked.
pub fn is_locked(conn: &mut DbConnection, customer: CustomerId) -> Result<bool, AppError> {
    Ok(locks::find_lock(conn, customer)?.is_some())
}
