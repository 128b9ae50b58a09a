//! Locked profiles: while locked, what channels report (display names, automatic fills)
//! never changes the profile; staff edits still work, and customers' own edits unless the
//! self-service settings turn them off for locked profiles.

use crate::db::types::{CustomerId, EventAction};
use crate::db::{DbConnection, locks};
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
    let action = if locked {
        EventAction::Locked
    } else {
        EventAction::Unlocked
    };
    crate::services::profiles::set_marker(
        conn,
        customer,
        actor,
        action,
        |_| None,
        |conn| {
            if locked {
                locks::insert_lock(conn, customer, &actor.name())
            } else {
                locks::delete_lock(conn, customer)
            }
        },
    )
}

/// Whether the profile is locked.
pub fn is_locked(conn: &mut DbConnection, customer: CustomerId) -> Result<bool, AppError> {
    Ok(locks::find_lock(conn, customer)?.is_some())
}
