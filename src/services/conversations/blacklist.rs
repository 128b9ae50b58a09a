//! The blacklist: a customer on it can still write, but reaches no agent.

use super::outbound::note;
use crate::db::conversations::{self, Conversation};
use crate::db::customers;
use crate::db::events::{self, NewEvent};
use crate::db::identities;
use crate::db::types::ConversationId;
use crate::db::types::CustomerId;
use crate::db::types::EventAction;
use crate::db::{DbConnection, links};
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::error::AppError;

/// What the thread shows when a conversation is closed by the blacklist.
const CLOSED_NOTE: &str = "Conversation closed: the customer was added to the blacklist. Their messages are kept but reach no agent until they are removed from it.";

fn close_with_note(conn: &mut DbConnection, conversation: &Conversation) -> Result<(), AppError> {
    note(conn, conversation, CLOSED_NOTE)?;
    conversations::close_conversation(conn, conversation.id)?;
    Ok(())
}

fn checked_reason(reason: Option<&str>) -> Result<Option<&str>, AppError> {
    let reason = reason.map(str::trim);
    if reason.is_some_and(|r| r.is_empty() || r.chars().count() > 500) {
        let mut errors = FieldErrors::default();
        errors.push("reason", "Give a reason of 1 to 500 characters.");
        return Err(AppError::Invalid(errors));
    }
    Ok(reason)
}

/// The refusal every blocked action gives while a customer is on the blacklist.
pub fn refuse_blacklisted(what: &str) -> AppError {
    AppError::Conflict(format!(
        "This customer is on the blacklist: {what} until they are removed from it."
    ))
}

/// Adds the unknown contact of a conversation (an identity linked to no customer) to the
/// blacklist, or removes it. Its open conversation closes; its messages are stored but reach no agent.
/// A contact linked to a customer is blacklisted through its customer.
pub fn set_contact_blacklisted(
    conn: &mut DbConnection,
    conversation: ConversationId,
    reason: Option<&str>,
    actor: &Actor,
) -> Result<(), AppError> {
    let reason = checked_reason(reason)?;
    crate::db::transaction(conn, |conn| {
        let identity = conversations::get_conversation(conn, conversation)?.identity_id;
        let found = identities::get_identity(conn, identity)?;
        if found.customer_id.is_some() {
            return Err(AppError::Conflict(
                "This contact belongs to a customer: blacklist the customer from their profile."
                    .to_owned(),
            ));
        }
        if found.blacklisted() == reason.is_some() {
            return Ok(());
        }
        identities::update_blacklist(conn, identity, reason, reason.map(|_| actor.name()))?;
        if reason.is_some() {
            for open in conversations::list_open_of_identity(conn, identity)? {
                close_with_note(conn, &open)?;
            }
        }
        Ok(())
    })
}

/// Adds a customer to the blacklist (reason required) or removes them; recorded. Being
/// added closes their open conversations with a note and revokes their self-service links;
/// from then on replies, callbacks, links and self-service are refused. Messages that
/// arrive meanwhile are stored and listed on the profile; removal does not replay them.
pub fn set_blacklisted(
    conn: &mut DbConnection,
    customer: CustomerId,
    reason: Option<&str>,
    actor: &Actor,
) -> Result<(), AppError> {
    let reason = checked_reason(reason)?;
    crate::db::transaction(conn, |conn| {
        let current = customers::get_customer(conn, customer)?;
        let on = reason.is_some();
        if current.blacklisted == on {
            return Ok(());
        }
        let version = customers::bump_version(conn, customer, None)?.unwrap_or(current.version);
        customers::update_blacklist(conn, customer, reason, on.then(|| actor.name()))?;
        if on {
            // Nothing of theirs stays in an agent's queue, and no link of theirs opens.
            for open in conversations::list_open_of_customer(conn, customer)? {
                close_with_note(conn, &open)?;
            }
            links::revoke_all(conn, customer)?;
        }
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
