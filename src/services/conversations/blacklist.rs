//! The blacklist: a customer on it can still write, but reaches no agent.

use crate::db::DbConnection;
use crate::db::customers;
use crate::db::events::{self, NewEvent};
use crate::db::types::CustomerId;
use crate::db::types::EventAction;
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::error::AppError;

/// Adds a customer to the blacklist (reason required) or removes them; recorded.
pub fn set_blacklisted(
    conn: &mut DbConnection,
    customer: CustomerId,
    reason: Option<&str>,
    actor: &Actor,
) -> Result<(), AppError> {
    let reason = reason.map(str::trim);
    if reason.is_some_and(|r| r.is_empty() || r.chars().count() > 500) {
        let mut errors = FieldErrors::default();
        errors.push("reason", "Give a reason of 1 to 500 characters.");
        return Err(AppError::Invalid(errors));
    }
    crate::db::transaction(conn, |conn| {
        let current = customers::get_customer(conn, customer)?;
        let on = reason.is_some();
        if current.blacklisted == on {
            return Ok(());
        }
        let version = customers::bump_version(conn, customer, None)?.unwrap_or(current.version);
        customers::update_blacklist(conn, customer, reason, on.then(|| actor.name()))?;
        events::insert_event(
            conn,
            NewEvent {
                customer,
                actor,
                action: if on {
                    EventAction::Blacklisted
                } else {
                    EventAction::Unblacklisted
                },
                property_key: None,
                old_value: current.blacklist_reason.clone(),
                new_value: reason.map(str::to_owned),
                reverts: None,
                customer_version: version,
            },
        )?;
        Ok(())
    })
}
