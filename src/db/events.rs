//! A customer's history: every change, who made it, old and new value.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::customer_events;
use super::types::{CustomerId, EventAction, EventId};
use super::{DbConnection, now};
use crate::domain::customer::Actor;

/// A history entry as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_events)]
pub struct Event {
    pub id: EventId,
    pub customer_id: CustomerId,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: EventAction,
    pub property_key: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reverts_event_id: Option<i64>,
    pub customer_version: i64,
    pub created_at: NaiveDateTime,
}

/// What happened, for [`insert_event`].
pub struct NewEvent<'a> {
    pub customer: CustomerId,
    pub actor: &'a Actor,
    pub action: EventAction,
    pub property_key: Option<&'a str>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reverts: Option<EventId>,
    pub customer_version: i64,
}

/// Records one entry.
pub fn insert_event(conn: &mut DbConnection, event: NewEvent<'_>) -> QueryResult<usize> {
    insert_events(conn, &[event])
}

/// Records entries, a few thousand per statement, all stamped with the same time.
pub fn insert_events(conn: &mut DbConnection, events: &[NewEvent<'_>]) -> QueryResult<usize> {
    let at = now();
    let rows: Vec<_> = events
        .iter()
        .map(|event| {
            (
                customer_events::customer_id.eq(event.customer),
                customer_events::actor_kind.eq(event.actor.kind()),
                customer_events::actor_id.eq(event.actor.user_id()),
                customer_events::actor_name.eq(event.actor.name()),
                customer_events::action.eq(event.action),
                customer_events::property_key.eq(event.property_key),
                customer_events::old_value.eq(event.old_value.as_deref()),
                customer_events::new_value.eq(event.new_value.as_deref()),
                customer_events::reverts_event_id.eq(event.reverts.map(|e| e.0)),
                customer_events::customer_version.eq(event.customer_version),
                customer_events::created_at.eq(at),
            )
        })
        .collect();
    let mut written = 0;
    for chunk in rows.chunks(super::rows_per_insert(11)) {
        written += either_backend!(&mut *conn, c => diesel::insert_into(customer_events::table)
            .values(chunk)
            .execute(c)?);
    }
    Ok(written)
}

/// The newest entries of a customer.
pub fn list_events(
    conn: &mut DbConnection,
    customer: CustomerId,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    customer_events::table
        .filter(customer_events::customer_id.eq(customer))
        .order(customer_events::id.desc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)
}

/// A page of a customer's History after `after`, oldest first (the export).
pub fn list_events_after(
    conn: &mut DbConnection,
    customer: CustomerId,
    after: EventId,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    customer_events::table
        .filter(customer_events::customer_id.eq(customer))
        .filter(customer_events::id.gt(after))
        .order(customer_events::id.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)
}

/// Entries recorded after the customer was at `version` (what a conflicting editor missed).
pub fn list_events_since(
    conn: &mut DbConnection,
    customer: CustomerId,
    version: i64,
) -> QueryResult<Vec<Event>> {
    customer_events::table
        .filter(customer_events::customer_id.eq(customer))
        .filter(customer_events::customer_version.gt(version))
        .order(customer_events::id.asc())
        .select(Event::as_select())
        .load(conn)
}

/// One entry of one customer, or NotFound.
pub fn get_event(conn: &mut DbConnection, customer: CustomerId, id: EventId) -> QueryResult<Event> {
    customer_events::table
        .filter(customer_events::customer_id.eq(customer))
        .filter(customer_events::id.eq(id))
        .select(Event::as_select())
        .first(conn)
}

/// Whether an entry has been reverted already.
pub fn is_reverted(conn: &mut DbConnection, id: EventId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        customer_events::table.filter(customer_events::reverts_event_id.eq(id.0)),
    ))
    .get_result(conn)
}
