//! What an agent does with a conversation in the workspace: take it, reply, comment on
//! it, close it.

use super::{Author, send};
use crate::db::conversations::{self, Beside, Conversation};
use crate::db::types::{ConversationId, ConversationStatus};
use crate::db::{self, DbConnection};
use crate::domain::scope::Scope;
use crate::error::AppError;

/// What the conversation page shows around a conversation of its relationship, of what
/// the reader may see: the earlier ones asked for (oldest first), whether more lie
/// before them, and the next one.
pub struct Around {
    /// Up to the number asked for, oldest first, ending just before the conversation.
    pub earlier: Vec<Conversation>,
    /// Whether the reader may see more earlier ones than those.
    pub more_earlier: bool,
    /// The first the reader may see after it.
    pub next: Option<ConversationId>,
}

/// The reader's view around `conversation`, `earlier` conversations back: two reads of
/// the relationship's start index that stop once they have what the page shows, so a
/// contact with years of daily conversations costs the page what one with three does.
/// The reader's teams' reach is tested in the same statements (the database steps over
/// the conversations they cannot see).
pub fn around(
    conn: &mut DbConnection,
    conversation: &Conversation,
    scope: &Scope,
    earlier: usize,
) -> Result<Around, AppError> {
    let from = (conversation.started_at, conversation.id);
    let reach = scope.limited();
    let wanted = i64::try_from(earlier).unwrap_or(i64::MAX - 1) + 1;
    let mut before =
        conversations::list_beside(conn, conversation, from, Beside::Earlier, wanted, reach)?;
    let more_earlier = before.len() > earlier;
    before.truncate(earlier);
    before.reverse();
    let next = conversations::list_beside(conn, conversation, from, Beside::Later, 1, reach)?
        .first()
        .map(|c| c.id);
    Ok(Around {
        earlier: before,
        more_earlier,
        next,
    })
}

/// The agent assigns the conversation to themselves.
pub fn take(conn: &mut DbConnection, id: ConversationId, user_id: i64) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        conversations::get_conversation(conn, id)?;
        conversations::assign(conn, id, user_id)?;
        Ok(())
    })
}

/// The reader has seen the conversation up to its last customer message. Written only
/// when that message is newer than what they had read: reading again writes nothing.
pub fn mark_read(
    conn: &mut DbConnection,
    conversation: &conversations::Conversation,
    user_id: i64,
) -> Result<(), AppError> {
    let Some(last) = conversation.last_inbound_at else {
        return Ok(());
    };
    if crate::db::queue::read_at(conn, conversation.id, user_id)?.is_none_or(|read| read < last) {
        db::transaction(conn, |conn| {
            crate::db::queue::mark_read(conn, conversation.id, user_id, last)
        })?;
    }
    Ok(())
}

/// Closes the conversation.
pub fn close(conn: &mut DbConnection, id: ConversationId) -> Result<(), AppError> {
    db::transaction(conn, |conn| conversations::close_conversation(conn, id))?;
    Ok(())
}

/// An agent's reply: queued for delivery, and the agent is assigned. A closed
/// conversation takes no reply (the customer is contacted from their profile instead).
pub fn reply(
    conn: &mut DbConnection,
    id: ConversationId,
    user_id: i64,
    name: &str,
    text: &str,
) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        let conversation = conversations::get_conversation(conn, id)?;
        let blacklisted = match conversation.customer_id {
            Some(customer) => crate::db::customers::get_customer(conn, customer)?.blacklisted,
            None => {
                crate::db::identities::get_identity(conn, conversation.identity_id)?.blacklisted()
            }
        };
        if blacklisted {
            return Err(super::refuse_blacklisted("replies are refused"));
        }
        if conversation.status != ConversationStatus::Open {
            return Err(AppError::Conflict(
                "This conversation is closed; contact the customer from their profile to start a new one."
                    .to_owned(),
            ));
        }
        let author = Author::agent(user_id, name);
        send(conn, &conversation, &author, text)?;
        conversations::assign(conn, id, user_id)?;
        Ok(())
    })
}

/// The longest comment, in characters.
pub const MAX_COMMENT: usize = 2_000;

/// A staff comment on a conversation: internal, never delivered to the customer.
pub fn comment(
    conn: &mut DbConnection,
    id: ConversationId,
    author: &Author<'_>,
    body: &str,
) -> Result<(), AppError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_COMMENT {
        let mut errors = crate::domain::FieldErrors::default();
        errors.push(
            "comment",
            format!("Write a comment of 1 to {MAX_COMMENT} characters."),
        );
        return Err(AppError::Invalid(errors));
    }
    db::transaction(conn, |conn| {
        conversations::get_conversation(conn, id)?;
        crate::db::comments::insert_comment(conn, id, author.user_id, author.name, body)?;
        Ok(())
    })
}
