//! The pieces of a customer's activity log, each the newest `limit` at or before a time: the
//! log merges them (a few indexed reads per page, whatever the customer's history).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::conversations::{Conversation, Message};
use super::events::Event;
use super::notes::Note;
use super::schema::{conversations, customer_events, customer_notes, messages};
use super::types::{ConversationId, CustomerId};

/// Conversations started at or before `before`, newest first, but the `hidden` ones.
pub fn conversations_before(
    conn: &mut DbConnection,
    customer: CustomerId,
    hidden: &[ConversationId],
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    let mut query = conversations::table
        .filter(conversations::customer_id.eq(customer))
        .filter(conversations::started_at.le(before))
        .order((conversations::started_at.desc(), conversations::id.desc()))
        .limit(limit)
        .select(Conversation::as_select())
        .into_boxed();
    query = super::conversations::excluding(query, hidden);
    query.load(conn)
}

/// Conversations rated at or before `before`, newest rating first, but the `hidden` ones.
pub fn ratings_before(
    conn: &mut DbConnection,
    customer: CustomerId,
    hidden: &[ConversationId],
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    let mut query = conversations::table
        .filter(conversations::customer_id.eq(customer))
        .filter(conversations::rated_at.le(before))
        .order(conversations::rated_at.desc())
        .limit(limit)
        .select(Conversation::as_select())
        .into_boxed();
    query = super::conversations::excluding(query, hidden);
    query.load(conn)
}

/// Messages sent at or before `before`, newest first (walking the customer's message
/// index), but those of the `hidden` conversations.
pub fn messages_before(
    conn: &mut DbConnection,
    customer: CustomerId,
    hidden: &[ConversationId],
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    let mut query = messages::table
        .filter(messages::customer_id.eq(customer))
        .filter(messages::sent_at.le(before))
        .order(messages::id.desc())
        .limit(limit)
        .select(Message::as_select())
        .into_boxed();
    if !hidden.is_empty() {
        let hidden: Vec<Option<ConversationId>> = hidden.iter().map(|c| Some(*c)).collect();
        query = query.filter(
            messages::conversation_id
                .is_null()
                .or(diesel::dsl::not(messages::conversation_id.eq_any(hidden))),
        );
    }
    query.load(conn)
}

/// Notes written at or before `before`, newest first.
pub fn notes_before(
    conn: &mut DbConnection,
    customer: CustomerId,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Note>> {
    customer_notes::table
        .filter(customer_notes::customer_id.eq(customer))
        .filter(customer_notes::created_at.le(before))
        .order(customer_notes::created_at.desc())
        .limit(limit)
        .select(Note::as_select())
        .load(conn)
}

/// History entries recorded at or before `before`, newest first.
pub fn events_before(
    conn: &mut DbConnection,
    customer: CustomerId,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    customer_events::table
        .filter(customer_events::customer_id.eq(customer))
        .filter(customer_events::created_at.le(before))
        .order(customer_events::id.desc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)
}
