//! Messages out: the one way a conversation is opened, replies queued for delivery,
//! callbacks, and ratings.

use chrono::NaiveDateTime;

use super::{Author, MAX_TEXT};
use crate::db::conversations::{self, Conversation, NewConversation, NewMessage, WebMetadata};
use crate::db::identities::{self, Identity};
use crate::db::types::{AuthorKind, ConversationId, CustomerId, Direction, IdentityId, MessageId};
use crate::db::{DbConnection, customers, now, outbox};
use crate::domain::FieldErrors;
use crate::error::AppError;

/// How a conversation comes to be: the customer wrote (at the time their message was sent,
/// from a web page or not), or staff reach out.
pub enum Opening<'a> {
    /// A message from the customer.
    Inbound {
        /// When it was sent.
        at: NaiveDateTime,
        /// The business account it was sent to (empty when the channel has one).
        account: &'a str,
        /// What the web widget reported.
        web: &'a WebMetadata,
    },
    /// Staff write first: a callback, a self-service link.
    Outbound,
}

/// The one way a conversation is opened, for inbound messages, self-service links and
/// callbacks: the identity's open conversation on the business account the message came
/// to (an identity never has two there; staff reaching out continue any open one), or a
/// new one counted on its customer. Returns the conversation and whether it was created.
pub fn open_conversation(
    conn: &mut DbConnection,
    identity: &Identity,
    opening: Opening<'_>,
) -> Result<(Conversation, bool), AppError> {
    let wanted = match &opening {
        Opening::Inbound { account, .. } => Some(*account),
        Opening::Outbound => None,
    };
    if let Some(open) = conversations::find_open_conversation(conn, identity.id, wanted)? {
        return Ok((open, false));
    }
    let none = WebMetadata::default();
    let (direction, at, web, account) = match opening {
        Opening::Inbound { at, account, web } => (Direction::Inbound, at, web, account.to_owned()),
        // Staff write from the account the customer last wrote to.
        Opening::Outbound => (
            Direction::Outbound,
            now(),
            &none,
            conversations::latest_account(conn, identity.id)?,
        ),
    };
    let conversation = conversations::insert_conversation(
        conn,
        &NewConversation {
            identity: identity.id,
            customer: identity.customer_id,
            channel: &identity.channel,
            account: &account,
            direction,
            started_at: at,
            web,
        },
    )?;
    if let Some(customer) = identity.customer_id {
        customers::count_new_conversation(conn, customer)?;
    }
    Ok((conversation, true))
}

/// Writes an outbound message into a conversation and queues it for delivery, in the
/// caller's transaction; returns the message.
pub fn send(
    conn: &mut DbConnection,
    conversation: &Conversation,
    author: &Author<'_>,
    text: &str,
) -> Result<MessageId, AppError> {
    send_unshown(conn, conversation, author, text, None)
}

/// [`send`], delivering `delivered` while the conversation keeps `text`: a self-service
/// link reaches the customer and no one who reads the thread. Such a message does not
/// move the conversation in the queue.
pub fn send_unshown(
    conn: &mut DbConnection,
    conversation: &Conversation,
    author: &Author<'_>,
    text: &str,
    delivered: Option<&str>,
) -> Result<MessageId, AppError> {
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
            direction: Direction::Outbound,
            author_kind: author.kind,
            author_user_id: author.user_id,
            author_name: Some(author.name),
            body: text,
            client_message_id: None,
            suppressed: false,
            sent_at: at,
        },
    )?;
    if delivered.is_some() {
        conversations::count_message(conn, conversation.id)?;
    } else {
        conversations::touch_conversation(conn, conversation.id, at)?;
    }
    if author.kind == AuthorKind::Agent {
        crate::db::queue::note_agent_reply(conn, conversation.id)?;
    }
    if let Some(customer) = conversation.customer_id {
        customers::count_on_customer(conn, customer, false, at)?;
    }
    outbox::insert_delivery(conn, message.id, delivered)?;
    Ok(message.id)
}

/// A note from Clientele in a thread (e.g. why it was closed): shown with the messages,
/// never delivered to the customer, not counted as a message.
pub fn note(
    conn: &mut DbConnection,
    conversation: &Conversation,
    text: &str,
) -> Result<(), AppError> {
    conversations::insert_message(
        conn,
        &NewMessage {
            conversation: Some(conversation.id),
            identity: conversation.identity_id,
            customer: conversation.customer_id,
            direction: Direction::Outbound,
            author_kind: AuthorKind::System,
            author_user_id: None,
            author_name: Some("Clientele"),
            body: text,
            client_message_id: None,
            suppressed: false,
            sent_at: now(),
        },
    )?;
    Ok(())
}

/// Callback / Contact customer: a message on one of the customer's identities, in its open
/// conversation or a new outbound one. Returns the conversation and whether it is new.
pub fn contact(
    conn: &mut DbConnection,
    customer: CustomerId,
    identity: IdentityId,
    author: &Author<'_>,
    text: &str,
) -> Result<(ConversationId, bool), AppError> {
    crate::db::transaction(conn, |conn| {
        let identity = identities::get_identity(conn, identity)?;
        if identity.customer_id != Some(customer) {
            return Err(AppError::NotFound);
        }
        let customer_row = customers::get_customer(conn, customer)?;
        if customer_row.blacklisted {
            return Err(super::refuse_blacklisted("callbacks are refused"));
        }
        // An identity with an open conversation goes on in it: never two at once.
        let (conversation, created) = open_conversation(conn, &identity, Opening::Outbound)?;
        send(conn, &conversation, author, text)?;
        Ok((conversation.id, created))
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
            customers::recount_customer(conn, customer)?;
        }
        Ok(())
    })
}
