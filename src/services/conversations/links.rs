//! Which customer a conversation, an identity or a contact belongs to: link, unlink, add
//! and remove identities, create a customer from a contact, and the name a channel reports.

use crate::db::DbConnection;
use crate::db::conversations;
use crate::db::customers::{self, Customer};
use crate::db::events::{self, NewEvent};
use crate::db::identities::{self, Identity};
use crate::db::types::EventAction;
use crate::db::types::{ConversationId, CustomerId, IdentityId};
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::customer::Actor;
use crate::domain::scope::Scope;
use crate::error::AppError;

/// The display name a channel reports fills an empty customer name. The one place this
/// rule lives (locked profiles will be skipped here).
pub fn fill_name_from_channel(
    conn: &mut DbConnection,
    customer: &Customer,
    name: Option<&str>,
) -> Result<(), AppError> {
    let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
        return Ok(());
    };
    if customer.name.is_some() || crate::services::locks::is_locked(conn, customer.id)? {
        return Ok(());
    }
    let version = customers::bump_version(conn, customer.id, None)?.unwrap_or(customer.version);
    customers::update_standard(conn, customer, &[("name", Some(name.trim()))])?;
    events::insert_event(
        conn,
        NewEvent {
            customer: customer.id,
            actor: &Actor::System,
            action: EventAction::PropertyChanged,
            property_key: Some("name"),
            old_value: None,
            new_value: serde_json::to_string(&crate::domain::property::Value::Text {
                text: name.trim().to_owned(),
            })
            .ok(),
            reverts: None,
            customer_version: version,
        },
    )?;
    Ok(())
}

/// The History entry of linking or unlinking an identity.
fn link_entry<'a>(
    customer: CustomerId,
    version: i64,
    actor: &'a Actor,
    action: EventAction,
    channel: &str,
    external_id: &str,
) -> NewEvent<'a> {
    NewEvent {
        customer,
        actor,
        action,
        property_key: None,
        old_value: None,
        new_value: Some(format!("{channel}:{external_id}")),
        reverts: None,
        customer_version: version,
    }
}

pub(crate) fn link_event(
    conn: &mut DbConnection,
    customer: CustomerId,
    actor: &Actor,
    action: EventAction,
    identity: &Identity,
) -> Result<(), AppError> {
    let version = customers::get_customer(conn, customer)?.version;
    events::insert_event(
        conn,
        link_entry(
            customer,
            version,
            actor,
            action,
            &identity.channel,
            &identity.external_id,
        ),
    )?;
    Ok(())
}

/// Links identities that do not exist yet (checked by the caller in the same transaction)
/// to customers just created, recorded in History. An identity that exists already goes
/// through [`add_identity`], which also moves its conversations.
pub fn link_new_identities(
    conn: &mut DbConnection,
    actor: &Actor,
    links: &[(&Customer, &str, &str)],
) -> Result<(), AppError> {
    let rows: Vec<(&str, &str, CustomerId)> = links
        .iter()
        .map(|(customer, channel, external)| (*channel, *external, customer.id))
        .collect();
    identities::insert_linked(conn, &rows)?;
    let history: Vec<NewEvent<'_>> = links
        .iter()
        .map(|(customer, channel, external)| {
            link_entry(
                customer.id,
                customer.version,
                actor,
                EventAction::IdentityLinked,
                channel,
                external,
            )
        })
        .collect();
    events::insert_events(conn, &history)?;
    Ok(())
}

/// Creates a customer from a contact: the name the channel reported, and the phone or
/// e-mail the identity is. Used by "Create customer from this contact" and by the
/// self-service keyword from an unknown sender.
pub fn create_customer_from_identity(
    conn: &mut DbConnection,
    identity: &Identity,
    actor: &Actor,
) -> Result<Customer, AppError> {
    use crate::domain::property::RawValue;
    use crate::services::profiles::{self, Editor, ProfileEdit};
    let mut values = Vec::new();
    if let Some(name) = identity.display_name.clone() {
        values.push(("name".to_owned(), RawValue::One(name)));
    }
    match identity.channel.parse::<Channel>() {
        Ok(channel) if channel.is_phone() => values.push((
            "phone".to_owned(),
            RawValue::One(identity.external_id.clone()),
        )),
        Ok(Channel::Email) => values.push((
            "email".to_owned(),
            RawValue::One(identity.external_id.clone()),
        )),
        _ => {}
    }
    let registry = crate::db::properties::list_properties(conn)?;
    // The contact's own data is copied whatever the creator's property access.
    profiles::create_customer(
        conn,
        &registry,
        actor,
        Editor::Integration,
        &ProfileEdit {
            values,
            lifecycle: None,
        },
    )
}

/// Links an identity and all its conversations to a customer; counters follow; recorded.
fn attach(
    conn: &mut DbConnection,
    identity: &Identity,
    customer: CustomerId,
    actor: &Actor,
) -> Result<(), AppError> {
    identities::update_identity_customer(conn, identity.id, Some(customer))?;
    conversations::reassign_identity(conn, identity.id, Some(customer))?;
    customers::recount_customer(conn, customer)?;
    link_event(conn, customer, actor, EventAction::IdentityLinked, identity)
}

/// Makes an identity and all its conversations unknown again; the customer it leaves is
/// recounted; recorded on that customer.
fn detach(
    conn: &mut DbConnection,
    identity: &Identity,
    customer: CustomerId,
    actor: &Actor,
) -> Result<(), AppError> {
    identities::update_identity_customer(conn, identity.id, None)?;
    conversations::reassign_identity(conn, identity.id, None)?;
    customers::recount_customer(conn, customer)?;
    link_event(
        conn,
        customer,
        actor,
        EventAction::IdentityUnlinked,
        identity,
    )
}

/// Links the conversation's identity (and so all its conversations) to a customer.
pub fn link(
    conn: &mut DbConnection,
    conversation: ConversationId,
    customer: CustomerId,
    actor: &Actor,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let conversation = conversations::get_conversation(conn, conversation)?;
        let identity = identities::get_identity(conn, conversation.identity_id)?;
        if let Some(previous) = identity.customer_id {
            if previous == customer {
                return Ok(());
            }
            return Err(AppError::Conflict(
                "This conversation is linked to another customer; unlink it first.".to_owned(),
            ));
        }
        if customers::get_customer(conn, customer)?.blacklisted {
            return Err(super::refuse_blacklisted(
                "no conversation is linked to them",
            ));
        }
        attach(conn, &identity, customer, actor)
    })
}

/// "Create customer from this contact": a customer made from the conversation's unknown
/// contact, linked to it; returns the new customer's public ID.
pub fn link_new_customer(
    conn: &mut DbConnection,
    conversation: ConversationId,
    actor: &Actor,
) -> Result<String, AppError> {
    crate::db::transaction(conn, |conn| {
        let found = conversations::get_conversation(conn, conversation)?;
        let identity = identities::get_identity(conn, found.identity_id)?;
        if identity.customer_id.is_some() {
            return Err(AppError::Conflict(
                "This conversation is already linked to a customer.".to_owned(),
            ));
        }
        let customer = create_customer_from_identity(conn, &identity, actor)?;
        link(conn, conversation, customer.id, actor)?;
        Ok(customer.public_id)
    })
}

/// "This conversation is not from this customer": moves only this conversation, its
/// messages and counters, to another customer (by public ID) or to nobody, leaving the
/// contact's other conversations where they are. A moved conversation is closed, so the
/// contact's next message opens a new one for the contact's own customer. Both customers'
/// History record it.
pub fn move_conversation(
    conn: &mut DbConnection,
    conversation: ConversationId,
    to: Option<&str>,
    actor: &Actor,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let found = conversations::get_conversation(conn, conversation)?;
        let Some(from) = found.customer_id else {
            return Err(AppError::Conflict(
                "This conversation belongs to no customer.".to_owned(),
            ));
        };
        let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
            Some(public_id) => {
                let Some(target) =
                    customers::find_customer_by_public_id(conn, &public_id.to_uppercase())?
                else {
                    let mut errors = FieldErrors::default();
                    errors.push(
                        "customer_id",
                        format!("No customer has the ID {public_id}."),
                    );
                    return Err(AppError::Invalid(errors));
                };
                if target.blacklisted {
                    return Err(super::refuse_blacklisted(
                        "no conversation is linked to them",
                    ));
                }
                Some(target)
            }
            None => None,
        };
        if to.as_ref().is_some_and(|t| t.id == from) {
            return Ok(());
        }
        conversations::close_conversation(conn, conversation)?;
        conversations::reassign_conversation(conn, conversation, to.as_ref().map(|t| t.id))?;
        customers::recount_customer(conn, from)?;
        let from_row = customers::get_customer(conn, from)?;
        let what = format!("{} conversation {}", found.channel, conversation.0);
        let record = |conn: &mut DbConnection,
                      customer: &Customer,
                      old: Option<String>,
                      new: Option<String>| {
            let version =
                customers::bump_version(conn, customer.id, None)?.unwrap_or(customer.version);
            events::insert_event(
                conn,
                NewEvent {
                    customer: customer.id,
                    actor,
                    action: EventAction::ConversationMoved,
                    property_key: None,
                    old_value: old,
                    new_value: new,
                    reverts: None,
                    customer_version: version,
                },
            )
        };
        let destination = to
            .as_ref()
            .map_or_else(|| "no customer".to_owned(), |t| t.public_id.clone());
        record(
            conn,
            &from_row,
            Some(what.clone()),
            Some(format!("moved to {destination}")),
        )?;
        if let Some(target) = &to {
            customers::recount_customer(conn, target.id)?;
            let target = customers::get_customer(conn, target.id)?;
            record(
                conn,
                &target,
                Some(format!("moved from {}", from_row.public_id)),
                Some(what),
            )?;
        }
        Ok(())
    })
}

/// Unlinks a wrongly linked conversation: its identity and all its conversations go back
/// to being unknown; the customer's counters follow.
pub fn unlink(
    conn: &mut DbConnection,
    conversation: ConversationId,
    actor: &Actor,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let conversation = conversations::get_conversation(conn, conversation)?;
        let identity = identities::get_identity(conn, conversation.identity_id)?;
        let Some(customer) = identity.customer_id else {
            return Ok(());
        };
        detach(conn, &identity, customer, actor)
    })
}

/// A channel and an external id as typed, checked and in stored form.
pub fn check_identity(channel: &str, external_id: &str) -> Result<(Channel, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    let channel = errors.check("channel", channel.parse::<Channel>());
    let external = channel.and_then(|c| errors.check("external_id", c.normalize(external_id)));
    match (channel, external) {
        (Some(channel), Some(external)) => Ok((channel, external)),
        _ => Err(errors),
    }
}

/// Adds an identity to a customer. One linked elsewhere is refused, naming its customer
/// when `scope` reaches them (an agent learns nothing of a customer outside their teams).
pub fn add_identity(
    conn: &mut DbConnection,
    customer: CustomerId,
    channel: &str,
    external_id: &str,
    actor: &Actor,
    scope: &Scope,
) -> Result<(), AppError> {
    let (channel, external) = check_identity(channel, external_id).map_err(AppError::Invalid)?;
    crate::db::transaction(conn, |conn| {
        let identity = identities::upsert_identity(conn, channel.as_str(), &external, None)?;
        match identity.customer_id {
            Some(owner) if owner == customer => return Ok(()),
            Some(owner) => {
                let message = if crate::services::teams::sees_customer(conn, scope, owner)? {
                    let owner = customers::get_customer(conn, owner)?;
                    format!("This identity belongs to customer {}.", owner.public_id)
                } else {
                    "This identity belongs to another customer.".to_owned()
                };
                let mut errors = FieldErrors::default();
                errors.push("external_id", message);
                return Err(AppError::Invalid(errors));
            }
            None => {}
        }
        attach(conn, &identity, customer, actor)
    })
}

/// Removes an identity from a customer; its conversations become unknown again.
pub fn remove_identity(
    conn: &mut DbConnection,
    customer: CustomerId,
    identity: IdentityId,
    actor: &Actor,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let identity = identities::get_identity(conn, identity)?;
        if identity.customer_id != Some(customer) {
            return Err(AppError::NotFound);
        }
        detach(conn, &identity, customer, actor)
    })
}
