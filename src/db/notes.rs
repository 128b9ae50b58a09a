//! Staff notes on a customer.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::customer_notes;
use super::types::CustomerId;
use super::{DbConnection, now};

/// A note as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_notes)]
pub struct Note {
    pub id: i64,
    pub customer_id: CustomerId,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Adds a note.
pub fn insert_note(
    conn: &mut DbConnection,
    customer: CustomerId,
    author_id: Option<i64>,
    author_name: &str,
    body: &str,
) -> QueryResult<usize> {
    diesel::insert_into(customer_notes::table)
        .values((
            customer_notes::customer_id.eq(customer),
            customer_notes::author_id.eq(author_id),
            customer_notes::author_name.eq(author_name),
            customer_notes::body.eq(body),
            customer_notes::created_at.eq(now()),
        ))
        .execute(conn)
}

/// A page of a customer's notes after note `after`, oldest first (the export).
pub fn list_notes_after(
    conn: &mut DbConnection,
    customer: CustomerId,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<Note>> {
    customer_notes::table
        .filter(customer_notes::customer_id.eq(customer))
        .filter(customer_notes::id.gt(after))
        .order(customer_notes::id.asc())
        .limit(limit)
        .select(Note::as_select())
        .load(conn)
}

/// A customer's latest notes, newest first (the card shows a few, on the
/// `(customer_id, created_at)` index).
pub fn list_latest_notes(
    conn: &mut DbConnection,
    customer: CustomerId,
    limit: i64,
) -> QueryResult<Vec<Note>> {
    customer_notes::table
        .filter(customer_notes::customer_id.eq(customer))
        .order((customer_notes::created_at.desc(), customer_notes::id.desc()))
        .limit(limit)
        .select(Note::as_select())
        .load(conn)
}
