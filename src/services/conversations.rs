//! Channel traffic: inbound messages, outbound replies through the outbox, linking
//! conversations to customers, ratings, callbacks and the blacklist.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::conversations::{self, Conversation, NewMessage, WebMetadata};
use crate::db::customers::{self, Customer};
use crate::db::events::{self, NewEvent};
use crate::db::identities::{self, Identity};
use crate::db::schema::customers as customers_table;
use crate::db::types::{ConversationId, CustomerId, IdentityId};
use crate::db::{DbConnection, now, outbox};
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::selfservice;

/// Longest message text, in characters.
pub const MAX_TEXT: usize = 10_000;

/// History actions of this module.
pub mod action {
    /// An identity was linked to the customer.
    pub const IDENTITY_LINKED: &str = "identity_linked";
    /// An identity was unlinked from the customer.
    pub const IDENTITY_UNLINKED: &str = "identity_unlinked";
    /// Added to the blacklist.
    pub const BLACKLISTED: &str = "blacklisted";
    /// Removed from the blacklist.
    pub const UNBLACKLISTED: &str = "unblacklisted";
}

/// An inbound message as an integration submits it.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    pub channel: String,
    pub external_id: String,
    pub display_name: Option<String>,
    pub text: String,
    pub message_id: Option<String>,
    pub sent_at: Option<String>,
    pub web: WebMetadata,
}

/// What happened to an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InboundOutcome {
    /// The conversation it joined, unless the sender is blacklisted.
    pub conversation_id: Option<ConversationId>,
    /// The customer's public ID, when known.
    pub customer_id: Option<String>,
    /// Whether the identity is linked to a customer.
    pub known: bool,
    /// Whether the message was suppressed by the blacklist.
    pub blocked: bool,
    /// Automatic replies sent back on the same channel.
    pub replies: Vec<Reply>,
}

/// An automatic reply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reply {
    /// Its text.
    pub text: String,
}

struct ValidInbound {
    channel: Channel,
    external_id: String,
    display_name: Option<String>,
    text: String,
    message_id: Option<String>,
    sent_at: NaiveDateTime,
    web: WebMetadata,
}

fn bounded(
    field: &str,
    value: &Option<String>,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.push(field, format!("At most {max} characters."));
        return None;
    }
    Some(value.to_owned())
}

fn validate(inbound: &Inbound) -> Result<ValidInbound, AppError> {
    let mut errors = FieldErrors::default();
    let channel = errors.check("channel", inbound.channel.parse::<Channel>());
    let external_id =
        channel.and_then(|c| errors.check("external_id", c.normalize(&inbound.external_id)));
    let text = inbound.text.trim();
    if text.is_empty() {
        errors.push("text", "The message text is empty.");
    } else if text.chars().count() > MAX_TEXT {
        errors.push(
            "text",
            format!("A message has at most {MAX_TEXT} characters."),
        );
    }
    let display_name = bounded("display_name", &inbound.display_name, 200, &mut errors);
    let message_id = bounded("message_id", &inbound.message_id, 200, &mut errors);
    let sent_at = match inbound
        .sent_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => errors.check(
            "sent_at",
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.naive_utc())
                .map_err(|_| "Use an RFC 3339 time such as 2026-11-20T10:00:00Z.".to_owned()),
        ),
        None => Some(now()),
    };
    let web = WebMetadata {
        ip: bounded("web.ip", &inbound.web.ip, 64, &mut errors),
        region: bounded("web.region", &inbound.web.region, 200, &mut errors),
        user_agent: bounded("web.user_agent", &inbound.web.user_agent, 1000, &mut errors),
        source: bounded("web.source", &inbound.web.source, 2000, &mut errors),
    };
    match (channel, external_id, sent_at, errors.is_empty()) {
        (Some(channel), Some(external_id), Some(sent_at), true) => Ok(ValidInbound {
            channel,
            external_id,
            display_name,
            text: text.to_owned(),
            message_id,
            sent_at,
            web,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// The one customer whose phone (phone channels) or e-mail (e-mail channel) equals the
/// identity's id, if exactly one.
fn auto_link_candidate(
    conn: &mut DbConnection,
    channel: Channel,
    external_id: &str,
) -> QueryResult<Option<CustomerId>> {
    let found: Vec<CustomerId> = if channel.is_phone() {
        customers_table::table
            .filter(customers_table::phone.eq(external_id))
            .select(customers_table::id)
            .limit(2)
            .load(conn)?
    } else if channel == Channel::Email {
        customers_table::table
            .filter(crate::db::lower(customers_table::email).eq(external_id))
            .select(customers_table::id)
            .limit(2)
            .load(conn)?
    } else {
        Vec::new()
    };
    Ok(if found.len() == 1 {
        found.first().copied()
    } else {
        None
    })
}

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
    if customer.name.is_some() {
        return Ok(());
    }
    let version = customers::bump_version(conn, customer.id, None)?.unwrap_or(customer.version);
    customers::update_standard(conn, customer, &[("name", Some(name.trim()))])?;
    events::insert_event(
        conn,
        NewEvent {
            customer: customer.id,
            actor: &Actor::System,
            action: crate::services::profiles::action::PROPERTY_CHANGED,
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
    action: &'a str,
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

fn link_event(
    conn: &mut DbConnection,
    customer: CustomerId,
    actor: &Actor,
    action: &str,
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
                action::IDENTITY_LINKED,
                channel,
                external,
            )
        })
        .collect();
    events::insert_events(conn, &history)?;
    Ok(())
}

/// Receives one inbound message, all in one transaction: identity, automatic link,
/// channel name, conversation, message and counters. A retry with the same message id
/// changes nothing and answers as the first time.
pub fn receive(
    conn: &mut DbConnection,
    inbound: &Inbound,
    base_url: &str,
) -> Result<InboundOutcome, AppError> {
    let valid = validate(inbound)?;
    crate::db::transaction(conn, |conn| {
        let mut identity = identities::upsert_identity(
            conn,
            valid.channel.as_str(),
            &valid.external_id,
            valid.display_name.as_deref(),
        )?;
        if let Some(client_id) = &valid.message_id
            && let Some(earlier) =
                conversations::find_message_by_client_id(conn, identity.id, client_id)?
        {
            let customer = match earlier.customer_id {
                Some(id) => Some(customers::get_customer(conn, id)?),
                None => None,
            };
            return Ok(InboundOutcome {
                conversation_id: earlier.conversation_id,
                known: customer.is_some(),
                customer_id: customer.map(|c| c.public_id),
                blocked: earlier.suppressed,
                replies: Vec::new(),
            });
        }
        if identity.customer_id.is_none()
            && let Some(customer) = auto_link_candidate(conn, valid.channel, &valid.external_id)?
        {
            identities::update_identity_customer(conn, identity.id, Some(customer))?;
            link_event(
                conn,
                customer,
                &Actor::System,
                action::IDENTITY_LINKED,
                &identity,
            )?;
            identity.customer_id = Some(customer);
        }
        let customer = match identity.customer_id {
            Some(id) => Some(customers::get_customer(conn, id)?),
            None => None,
        };
        if let Some(customer) = &customer {
            fill_name_from_channel(conn, customer, valid.display_name.as_deref())?;
        }
        let blocked = customer.as_ref().is_some_and(|c| c.blacklisted);
        let customer_id = customer.as_ref().map(|c| c.id);
        let conversation = if blocked {
            None
        } else {
            Some(
                match conversations::find_open_conversation(conn, identity.id)? {
                    Some(open) => (open, false),
                    None => (
                        conversations::insert_conversation(
                            conn,
                            identity.id,
                            customer_id,
                            valid.channel.as_str(),
                            "inbound",
                            valid.sent_at,
                            &valid.web,
                        )?,
                        true,
                    ),
                },
            )
        };
        conversations::insert_message(
            conn,
            &NewMessage {
                conversation: conversation.as_ref().map(|(c, _)| c.id),
                identity: identity.id,
                customer: customer_id,
                direction: "inbound",
                author_kind: "customer",
                author_user_id: None,
                author_name: valid.display_name.as_deref(),
                body: &valid.text,
                client_message_id: valid.message_id.as_deref(),
                suppressed: blocked,
                sent_at: valid.sent_at,
            },
        )?;
        if let Some((conversation, created)) = &conversation {
            conversations::touch_conversation(conn, conversation.id, valid.sent_at)?;
            if let Some(customer) = customer_id {
                conversations::count_on_customer(conn, customer, *created, valid.sent_at)?;
            }
        }
        let mut outcome = InboundOutcome {
            conversation_id: conversation.as_ref().map(|(c, _)| c.id),
            known: customer.is_some(),
            customer_id: customer.map(|c| c.public_id),
            blocked,
            replies: Vec::new(),
        };
        let config = selfservice::config(conn)?;
        if let (Some((conversation, _)), true) =
            (&conversation, selfservice::is_request(&config, &valid.text))
        {
            // The link needs a profile to open: an unknown sender gets one from the identity.
            let owner = match customer_id {
                Some(id) => id,
                None => {
                    let created = create_customer_from_identity(conn, &identity, &Actor::System)?;
                    link(conn, conversation.id, created.id, &Actor::System)?;
                    outcome.known = true;
                    outcome.customer_id = Some(created.public_id);
                    created.id
                }
            };
            let text = selfservice::issue(conn, owner, base_url, &config)?;
            let conversation = conversations::get_conversation(conn, conversation.id)?;
            send(
                conn,
                &conversation,
                &Author {
                    kind: "system",
                    user_id: None,
                    name: "Clientele",
                },
                &text,
            )?;
            outcome.replies.push(Reply { text });
        }
        Ok(outcome)
    })
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

/// Who writes an outbound message.
pub struct Author<'a> {
    /// `agent` or `system`.
    pub kind: &'a str,
    /// The staff member, for agent replies.
    pub user_id: Option<i64>,
    /// The name shown in the thread.
    pub name: &'a str,
}

/// Writes an outbound message into a conversation and queues it for delivery, in the
/// caller's transaction.
pub fn send(
    conn: &mut DbConnection,
    conversation: &Conversation,
    author: &Author<'_>,
    text: &str,
) -> Result<(), AppError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        let mut errors = FieldErrors::default();
        errors.push(
            "text",
            format!("Write a message of 1 to {MAX_TEXT} characters."),
        );
        return Err(AppError::Invalid(errors));
    }
    let at = now();
    let message = conversations::insert_message(
        conn,
        &NewMessage {
            conversation: Some(conversation.id),
            identity: conversation.identity_id,
            customer: conversation.customer_id,
            direction: "outbound",
            author_kind: author.kind,
            author_user_id: author.user_id,
            author_name: Some(author.name),
            body: text,
            client_message_id: None,
            suppressed: false,
            sent_at: at,
        },
    )?;
    conversations::touch_conversation(conn, conversation.id, at)?;
    if let Some(customer) = conversation.customer_id {
        conversations::count_on_customer(conn, customer, false, at)?;
    }
    outbox::insert_delivery(conn, message.id)?;
    Ok(())
}

/// Callback / Contact customer: opens a new outbound conversation on one of the
/// customer's identities with a first message.
pub fn contact(
    conn: &mut DbConnection,
    customer: CustomerId,
    identity: IdentityId,
    author: &Author<'_>,
    text: &str,
) -> Result<ConversationId, AppError> {
    crate::db::transaction(conn, |conn| {
        let identity = identities::get_identity(conn, identity)?;
        if identity.customer_id != Some(customer) {
            return Err(AppError::NotFound);
        }
        let customer_row = customers::get_customer(conn, customer)?;
        if customer_row.blacklisted {
            return Err(AppError::Conflict(
                "This customer is on the blacklist; remove them from it before contacting them."
                    .to_owned(),
            ));
        }
        let conversation = conversations::insert_conversation(
            conn,
            identity.id,
            Some(customer),
            &identity.channel,
            "outbound",
            now(),
            &WebMetadata::default(),
        )?;
        customers::count_new_conversation(conn, customer)?;
        send(conn, &conversation, author, text)?;
        Ok(conversation.id)
    })
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
        customers::get_customer(conn, customer)?;
        identities::update_identity_customer(conn, identity.id, Some(customer))?;
        conversations::reassign_identity(conn, identity.id, Some(customer))?;
        conversations::recount_customer(conn, customer)?;
        link_event(conn, customer, actor, action::IDENTITY_LINKED, &identity)?;
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
        identities::update_identity_customer(conn, identity.id, None)?;
        conversations::reassign_identity(conn, identity.id, None)?;
        conversations::recount_customer(conn, customer)?;
        link_event(conn, customer, actor, action::IDENTITY_UNLINKED, &identity)?;
        Ok(())
    })
}

/// Records a satisfaction rating (1–5) and updates the customer's average.
pub fn rate(
    conn: &mut DbConnection,
    conversation: ConversationId,
    rating: i64,
) -> Result<(), AppError> {
    if !(1..=5).contains(&rating) {
        let mut errors = FieldErrors::default();
        errors.push("rating", "A rating is a whole number from 1 to 5.");
        return Err(AppError::Invalid(errors));
    }
    crate::db::transaction(conn, |conn| {
        let conversation = conversations::get_conversation(conn, conversation)?;
        conversations::update_rating(conn, conversation.id, i32::try_from(rating).unwrap_or(5))?;
        if let Some(customer) = conversation.customer_id {
            conversations::recount_customer(conn, customer)?;
        }
        Ok(())
    })
}

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
        diesel::update(customers_table::table.find(customer))
            .set((
                customers_table::blacklisted.eq(on),
                customers_table::blacklist_reason.eq(reason),
                customers_table::blacklisted_by.eq(on.then(|| actor.name())),
                customers_table::blacklisted_at.eq(on.then(now)),
            ))
            .execute(conn)?;
        events::insert_event(
            conn,
            NewEvent {
                customer,
                actor,
                action: if on {
                    action::BLACKLISTED
                } else {
                    action::UNBLACKLISTED
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

/// Adds an identity to a customer. One linked elsewhere is refused, naming its customer.
pub fn add_identity(
    conn: &mut DbConnection,
    customer: CustomerId,
    channel: &str,
    external_id: &str,
    actor: &Actor,
) -> Result<(), AppError> {
    let (channel, external) = check_identity(channel, external_id).map_err(AppError::Invalid)?;
    crate::db::transaction(conn, |conn| {
        let identity = identities::upsert_identity(conn, channel.as_str(), &external, None)?;
        match identity.customer_id {
            Some(owner) if owner == customer => return Ok(()),
            Some(owner) => {
                let owner = customers::get_customer(conn, owner)?;
                let mut errors = FieldErrors::default();
                errors.push(
                    "external_id",
                    format!("This identity belongs to customer {}.", owner.public_id),
                );
                return Err(AppError::Invalid(errors));
            }
            None => {}
        }
        identities::update_identity_customer(conn, identity.id, Some(customer))?;
        conversations::reassign_identity(conn, identity.id, Some(customer))?;
        conversations::recount_customer(conn, customer)?;
        link_event(conn, customer, actor, action::IDENTITY_LINKED, &identity)?;
        Ok(())
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
        identities::update_identity_customer(conn, identity.id, None)?;
        conversations::reassign_identity(conn, identity.id, None)?;
        conversations::recount_customer(conn, customer)?;
        link_event(conn, customer, actor, action::IDENTITY_UNLINKED, &identity)?;
        Ok(())
    })
}
