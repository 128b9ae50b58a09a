//! What a customer's engagement figures are read from: their conversations since a moment
//! and all their orders, on the `(customer_id, started_at)` and `(customer_id, placed_at)`
//! indexes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{conversations, orders};
use super::types::{ConversationId, CustomerId};
use crate::domain::engagement::{ConversationPoint, OrderPoint};

/// The most rows read for one customer's figures, newest first: a customer with more
/// conversations (or orders) than this in the charts' year is charted from the newest.
pub const POINTS_AT_MOST: i64 = 20_000;

/// The customer's conversations started or rated at or after `since`, newest first, but
/// the `hidden` ones (on channels the reader's teams do not work).
pub fn conversations_since(
    conn: &mut DbConnection,
    customer: CustomerId,
    since: NaiveDateTime,
    hidden: &[ConversationId],
) -> QueryResult<Vec<ConversationPoint>> {
    let query = conversations::table
        .filter(conversations::customer_id.eq(customer))
        .filter(
            conversations::started_at
                .ge(since)
                .or(conversations::rated_at.ge(since)),
        )
        .order(conversations::started_at.desc())
        .limit(POINTS_AT_MOST)
        .select((
            conversations::started_at,
            conversations::channel,
            conversations::messages_count,
            conversations::rating,
            conversations::rated_at,
        ))
        .into_boxed();
    type Row = (
        NaiveDateTime,
        String,
        i64,
        Option<i32>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = super::conversations::excluding(query, hidden).load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(started_at, channel, messages, rating, rated_at)| ConversationPoint {
                started_at,
                channel,
                messages,
                // A rating without its time counts when the conversation started.
                rating: rating.map(|r| (r, rated_at.unwrap_or(started_at))),
            },
        )
        .collect())
}

/// The customer's orders, newest first.
pub fn orders_of(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<Vec<OrderPoint>> {
    let rows: Vec<(NaiveDateTime, String, String)> = orders::table
        .filter(orders::customer_id.eq(customer))
        .order(orders::placed_at.desc())
        .limit(POINTS_AT_MOST)
        .select((orders::placed_at, orders::total, orders::currency))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(placed_at, total, currency)| OrderPoint {
            placed_at,
            total,
            currency,
        })
        .collect())
}
