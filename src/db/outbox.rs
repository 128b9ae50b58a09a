//! The outbox: outbound messages and their delivery state.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::kept;
use super::schema::outbox;
use super::types::{DeliveryStatus, MessageId};
use super::{DbConnection, now};

/// An outbox row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Delivery {
    pub id: i64,
    pub message_id: MessageId,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// What to send instead of the message's text (a self-service link), until delivered.
    pub text: Option<String>,
    /// While being sent: until when the sender's lease runs.
    pub sending_until: Option<NaiveDateTime>,
    /// How long the receiver took to answer the last attempt, in milliseconds.
    pub response_ms: Option<i32>,
}

/// The most deliveries in flight to the receiver at once, over every instance.
pub const IN_FLIGHT_AT_MOST: i64 = 2;

/// Queues a message for delivery (in the caller's transaction); `text`, when given, is sent
/// instead of the message as stored.
pub fn insert_delivery(
    conn: &mut DbConnection,
    message: MessageId,
    text: Option<&str>,
) -> QueryResult<usize> {
    let at = now();
    diesel::insert_into(outbox::table)
        .values((
            outbox::message_id.eq(message),
            outbox::status.eq(DeliveryStatus::Pending),
            outbox::next_attempt_at.eq(at),
            outbox::created_at.eq(at),
            outbox::text.eq(text),
        ))
        .execute(conn)
}

/// Pending deliveries that are due.
pub fn list_due(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Delivery>> {
    outbox::table
        .filter(outbox::status.eq(DeliveryStatus::Pending))
        .filter(outbox::next_attempt_at.le(now()))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// Claims a due delivery for sending: its next attempt moves out by the lease, and it
/// counts as in flight until the lease ends or its attempt is recorded. False when another
/// worker (or instance) claimed it first, or when [`IN_FLIGHT_AT_MOST`] deliveries are
/// already in flight (a slow receiver is not sent more than it can take).
pub fn claim(
    conn: &mut DbConnection,
    delivery: &Delivery,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let at = now();
    super::transaction(conn, |conn| {
        // Claims take turns over every instance (SQLite's writers already do), so two
        // cannot both see one delivery in flight and both start a second.
        if let super::DbConnection::Postgresql(pg) = conn {
            pg.batch_execute("SELECT pg_advisory_xact_lock(7714200002)")?;
        }
        let in_flight: i64 = outbox::table
            .filter(outbox::sending_until.gt(at))
            .count()
            .get_result(conn)?;
        if in_flight >= IN_FLIGHT_AT_MOST {
            return Ok(false);
        }
        let claimed = kept::update(
            outbox::table
                .find(delivery.id)
                .filter(outbox::status.eq(DeliveryStatus::Pending))
                .filter(outbox::next_attempt_at.eq(delivery.next_attempt_at)),
            (
                outbox::next_attempt_at.eq(lease_until),
                outbox::sending_until.eq(lease_until),
            ),
        )
        .execute(conn)?;
        Ok(claimed == 1)
    })
}

/// Records a successful delivery and how long the receiver took.
pub fn mark_delivered(conn: &mut DbConnection, id: i64, response_ms: i32) -> QueryResult<usize> {
    kept::update(
        outbox::table.find(id),
        (
            outbox::sending_until.eq(None::<NaiveDateTime>),
            outbox::response_ms.eq(response_ms),
            outbox::status.eq(DeliveryStatus::Delivered),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::delivered_at.eq(now()),
            outbox::last_error.eq(None::<String>),
            outbox::text.eq(None::<String>),
        ),
    )
    .execute(conn)
}

/// Records a failed attempt and when to try again (or that it gave up).
pub fn mark_failed(
    conn: &mut DbConnection,
    id: i64,
    error: &str,
    response_ms: Option<i32>,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let status = if retry_at.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    kept::update(
        outbox::table.find(id),
        (
            outbox::status.eq(status),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::sending_until.eq(None::<NaiveDateTime>),
            outbox::response_ms.eq(response_ms),
            outbox::next_attempt_at.eq(retry_at.unwrap_or_else(now)),
        ),
    )
    .execute(conn)
}

/// The delivery state of several messages (one query for a whole thread).
pub fn list_for_messages(
    conn: &mut DbConnection,
    messages: &[MessageId],
) -> QueryResult<Vec<Delivery>> {
    outbox::table
        .filter(outbox::message_id.eq_any(messages))
        .select(Delivery::as_select())
        .load(conn)
}

/// Puts failed deliveries back in the queue (after the receiver was fixed).
pub fn retry_failed(conn: &mut DbConnection) -> QueryResult<usize> {
    kept::update(
        outbox::table.filter(outbox::status.eq(DeliveryStatus::Failed)),
        (
            outbox::status.eq(DeliveryStatus::Pending),
            outbox::next_attempt_at.eq(now()),
        ),
    )
    .execute(conn)
}

/// Marks every pending delivery as delivered (demo data has no real channel behind it).
pub fn mark_all_pending_delivered(conn: &mut DbConnection) -> QueryResult<usize> {
    kept::update(
        outbox::table.filter(outbox::status.eq(DeliveryStatus::Pending)),
        (
            outbox::status.eq(DeliveryStatus::Delivered),
            outbox::attempts.eq(1),
            outbox::delivered_at.eq(now()),
            outbox::text.eq(None::<String>),
        ),
    )
    .execute(conn)
}

/// The latest deliveries, newest first (the delivery log).
pub fn list_recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Delivery>> {
    outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// How many deliveries are in this state (`pending`, `failed`, …).
pub fn count_by_status(conn: &mut DbConnection, status: DeliveryStatus) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::status.eq(status))
        .count()
        .get_result(conn)
}

/// How many deliveries wait to be sent, and how many were given up as failed.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<(i64, i64)> {
    let count = |conn: &mut DbConnection, status: DeliveryStatus| -> QueryResult<i64> {
        outbox::table
            .filter(outbox::status.eq(status))
            .count()
            .get_result(conn)
    };
    Ok((
        count(conn, DeliveryStatus::Pending)?,
        count(conn, DeliveryStatus::Failed)?,
    ))
}
