//! Staff comments on conversations: internal, never delivered.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::conversation_comments;
use super::types::ConversationId;
use super::{DbConnection, now};

/// A comment as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conversation_comments)]
pub struct Comment {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Adds a comment.
pub fn insert_comment(
    conn: &mut DbConnection,
    conversation: ConversationId,
    author_id: Option<i64>,
    author_name: &str,
    body: &str,
) -> QueryResult<usize> {
    diesel::insert_into(conversation_comments::table)
        .values((
            conversation_comments::conversation_id.eq(conversation),
            conversation_comments::author_id.eq(author_id),
            conversation_comments::author_name.eq(author_name),
            conversation_comments::body.eq(body),
            conversation_comments::created_at.eq(now()),
        ))
        .execute(conn)
}

/// The comments on these conversations, oldest first (one query for a page of them).
pub fn list_for(
    conn: &mut DbConnection,
    conversations: &[ConversationId],
) -> QueryResult<Vec<Comment>> {
    conversation_comments::table
        .filter(conversation_comments::conversation_id.eq_any(conversations))
        .order(conversation_comments::id.asc())
        .select(Comment::as_select())
        .load(conn)
}
