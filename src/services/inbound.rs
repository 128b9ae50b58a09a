//! Inbound messages: the one path every channel's message takes — identity, automatic
//! link, channel name, conversation, message, counters and the self-service keyword.

use chrono::NaiveDateTime;

use crate::db::conversations::{self, NewMessage, WebMetadata};
use crate::db::customers;
use crate::db::identities;
use crate::db::types::EventAction;
use crate::db::types::{AuthorKind, ConversationId, Direction};
use crate::db::{DbConnection, now};
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::customer::Actor;
use crate::domain::customer::MatchKey;
use crate::error::AppError;
use crate::services::conversations::{self as traffic, Author, MAX_TEXT, Opening};
use crate::services::selfservice;

/// An inbound message as an integration submits it.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    pub channel: String,
    pub external_id: String,
    pub display_name: Option<String>,
    pub text: String,
    pub message_id: Option<String>,
    pub sent_at: Option<String>,
    /// The business account it was sent to (a WhatsApp number, a mailbox); optional.
    pub account: Option<String>,
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
    account: String,
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
    let account = channel.and_then(|c| {
        errors.check(
            "account",
            crate::domain::scope::normalize_account(c, inbound.account.as_deref().unwrap_or("")),
        )
    });
    match (channel, external_id, sent_at, account, errors.is_empty()) {
        (Some(channel), Some(external_id), Some(sent_at), Some(account), true) => {
            Ok(ValidInbound {
                channel,
                external_id,
                display_name,
                text: text.to_owned(),
                message_id,
                sent_at,
                account,
                web,
            })
        }
        _ => Err(AppError::Invalid(errors)),
    }
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
            && let Some(key) = MatchKey::of_channel(valid.channel)
            && let Some(customer) = customers::find_by_key(conn, key, &valid.external_id)?
        {
            identities::update_identity_customer(conn, identity.id, Some(customer))?;
            traffic::link_event(
                conn,
                customer,
                &Actor::System,
                EventAction::IdentityLinked,
                &identity,
            )?;
            identity.customer_id = Some(customer);
        }
        let customer = match identity.customer_id {
            Some(id) => Some(customers::get_customer(conn, id)?),
            None => None,
        };
        if let Some(customer) = &customer {
            traffic::fill_name_from_channel(conn, customer, valid.display_name.as_deref())?;
        }
        let blocked = identity.blacklisted() || customer.as_ref().is_some_and(|c| c.blacklisted);
        let customer_id = customer.as_ref().map(|c| c.id);
        let config = selfservice::config(conn)?;
        // The self-service keyword, answered by a link: at most one link a minute and five
        // a day per identity, as on the "text me my link" page; past that the keyword is
        // an ordinary message. Answered automatically, it moves nothing in the queue.
        let keyword = !blocked
            && selfservice::is_request(&config, &valid.text)
            && crate::services::link_requests::identity_may_get_link(conn, &identity)?;
        let conversation = if blocked {
            None
        } else {
            let opening = Opening::Inbound {
                at: valid.sent_at,
                account: &valid.account,
                web: &valid.web,
            };
            Some(traffic::open_conversation(conn, &identity, opening)?)
        };
        let message = conversations::insert_message(
            conn,
            &NewMessage {
                conversation: conversation.as_ref().map(|(c, _)| c.id),
                identity: identity.id,
                customer: customer_id,
                direction: Direction::Inbound,
                author_kind: AuthorKind::Customer,
                author_user_id: None,
                author_name: valid.display_name.as_deref(),
                body: &valid.text,
                client_message_id: valid.message_id.as_deref(),
                suppressed: blocked,
                sent_at: valid.sent_at,
            },
        )?;
        if let Some((conversation, opened)) = &conversation {
            if keyword {
                conversations::count_message(conn, conversation.id)?;
            } else {
                crate::db::queue::note_customer_message(
                    conn,
                    conversation.id,
                    message.id,
                    valid.sent_at,
                )?;
            }
            if let Some(customer) = customer_id {
                customers::count_on_customer(conn, customer, false, valid.sent_at)?;
                if *opened {
                    crate::services::lifecycle::on_activity(conn, customer)?;
                }
            }
        }
        let mut outcome = InboundOutcome {
            conversation_id: conversation.as_ref().map(|(c, _)| c.id),
            known: customer.is_some(),
            customer_id: customer.map(|c| c.public_id),
            blocked,
            replies: Vec::new(),
        };
        if let (Some((conversation, opened)), true) = (&conversation, keyword) {
            crate::services::link_requests::count_link_sent(conn, &identity)?;
            // The link needs a profile to open: an unknown sender gets one from the identity.
            let owner = match customer_id {
                Some(id) => id,
                None => {
                    let created =
                        traffic::create_customer_from_identity(conn, &identity, &Actor::System)?;
                    traffic::link(conn, conversation.id, created.id, &Actor::System)?;
                    outcome.known = true;
                    outcome.customer_id = Some(created.public_id);
                    created.id
                }
            };
            let link = selfservice::issue(conn, owner, base_url, &config)?;
            let conversation = conversations::get_conversation(conn, conversation.id)?;
            traffic::send_unshown(
                conn,
                &conversation,
                &Author {
                    kind: AuthorKind::System,
                    user_id: None,
                    name: "Clientele",
                },
                &link.shown,
                Some(&link.sent),
            )?;
            outcome.replies.push(Reply { text: link.sent });
            // Opened by the keyword alone: answered, so it never waits in the queue. The
            // customer's next message opens a new one.
            if *opened {
                conversations::close_conversation(conn, conversation.id)?;
            }
        }
        Ok(outcome)
    })
}
