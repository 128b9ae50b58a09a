//! A customer's counters of conversations, messages and ratings, kept in their columns so
//! lists sort and filter on them without counting.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{conversations, customers};
use crate::db::types::CustomerId;
use crate::db::{DbConnection, kept};

/// Counts a new conversation (one without a message yet) on the customer.
pub fn count_new_conversation(conn: &mut DbConnection, id: CustomerId) -> QueryResult<usize> {
    kept::update(
        customers::table.find(id),
        customers::conversations_count.eq(customers::conversations_count + 1),
    )
    .execute(conn)
}

/// Counts a new message (and, if `new_conversation`, a new conversation) on the customer.
pub fn count_on_customer(
    conn: &mut DbConnection,
    customer: CustomerId,
    new_conversation: bool,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let current: Option<NaiveDateTime> = customers::table
        .find(customer)
        .select(customers::last_contact_at)
        .first(conn)?;
    let latest = current.map_or(at, |c| c.max(at));
    kept::update(
        customers::table.find(customer),
        (
            customers::messages_count.eq(customers::messages_count + 1),
            customers::conversations_count
                .eq(customers::conversations_count + i64::from(new_conversation)),
            customers::last_contact_at.eq(latest),
            customers::contact_sort.eq(contact_sort(Some(latest))),
        ),
    )
    .execute(conn)
}

/// The last-contact sort key: microseconds, 0 for never.
fn contact_sort(at: Option<NaiveDateTime>) -> i64 {
    at.map_or(0, |t| t.and_utc().timestamp_micros())
}

/// Recomputes a customer's conversation counters from their conversations. Used after
/// link, unlink and rating, where a whole set of conversations changes hands.
pub fn recount_customer(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<()> {
    let rows: Vec<(i64, NaiveDateTime, Option<i32>)> = conversations::table
        .filter(conversations::customer_id.eq(customer))
        .select((
            conversations::messages_count,
            conversations::last_message_at,
            conversations::rating,
        ))
        .load(conn)?;
    let conversations_count = rows.len() as i64;
    let messages_count: i64 = rows.iter().map(|r| r.0).sum();
    let last_contact = rows.iter().map(|r| r.1).max();
    let ratings: Vec<i64> = rows.iter().filter_map(|r| r.2.map(i64::from)).collect();
    let csat_sum: i64 = ratings.iter().sum();
    let csat_count = ratings.len() as i64;
    let average = (csat_count > 0).then(|| csat_sum as f64 / csat_count as f64);
    kept::update(
        customers::table.find(customer),
        (
            customers::conversations_count.eq(conversations_count),
            customers::messages_count.eq(messages_count),
            customers::last_contact_at.eq(last_contact),
            customers::csat_sum.eq(csat_sum),
            customers::csat_count.eq(csat_count),
            customers::csat_average.eq(average),
            customers::contact_sort.eq(contact_sort(last_contact)),
            // Thousandths, -1 when unrated.
            customers::csat_sort.eq(average.map_or(-1, |a| (a * 1000.0).round() as i64)),
        ),
    )
    .execute(conn)?;
    Ok(())
}
