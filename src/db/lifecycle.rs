//! What lifecycle rules read, for a batch of customers at once: one grouped query per
//! window on the `(customer_id, started_at)` and `(customer_id, placed_at)` indexes, never
//! one query per customer.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use super::DbConnection;
use super::kept;
use super::schema::{conversations, customer_tags, customers, orders};
use super::types::{CustomerId, TagId};

/// A customer as rules see them.
#[derive(Debug, Clone, Queryable)]
pub struct Subject {
    pub id: CustomerId,
    pub lifecycle: String,
    pub orders_count: i64,
    pub last_contact_at: Option<NaiveDateTime>,
}

type SubjectColumns = (
    customers::id,
    customers::lifecycle,
    customers::orders_count,
    customers::last_contact_at,
);

const SUBJECT: SubjectColumns = (
    customers::id,
    customers::lifecycle,
    customers::orders_count,
    customers::last_contact_at,
);

/// One step of a walk over every customer.
pub struct Walk {
    /// The unpinned customers of the step.
    pub subjects: Vec<Subject>,
    /// How many customers the step walked over (pinned ones too).
    pub walked: i64,
    /// The last one, where the next step starts; `None` at the end.
    pub last: Option<CustomerId>,
}

/// The next `limit` customers after `after` by id, the pinned ones left out.
pub fn subjects_after(conn: &mut DbConnection, after: CustomerId, limit: i64) -> QueryResult<Walk> {
    // The walk moves over pinned rows too, so a long run of them never stalls a batch.
    let ids: Vec<(CustomerId, bool)> = customers::table
        .filter(customers::id.gt(after))
        .order(customers::id.asc())
        .limit(limit)
        .select((customers::id, customers::lifecycle_pinned))
        .load(conn)?;
    let last = ids.last().map(|(id, _)| *id);
    let walked = ids.len() as i64;
    let free: Vec<CustomerId> = ids
        .into_iter()
        .filter(|(_, pinned)| !pinned)
        .map(|(id, _)| id)
        .collect();
    Ok(Walk {
        subjects: subjects(conn, &free)?,
        walked,
        last,
    })
}

/// Moves a customer from stage `from` to `to`, unless the stage changed meanwhile or is
/// pinned; whether it moved.
pub fn move_stage(
    conn: &mut DbConnection,
    id: CustomerId,
    from: &str,
    to: &str,
) -> QueryResult<bool> {
    let moved = kept::update(
        customers::table
            .find(id)
            .filter(customers::lifecycle.eq(from))
            .filter(customers::lifecycle_pinned.eq(false)),
        customers::lifecycle.eq(to),
    )
    .execute(conn)?;
    Ok(moved == 1)
}

/// The customers among `ids` whose stage is not pinned.
pub fn subjects(conn: &mut DbConnection, ids: &[CustomerId]) -> QueryResult<Vec<Subject>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    customers::table
        .filter(customers::id.eq_any(ids))
        .filter(customers::lifecycle_pinned.eq(false))
        .order(customers::id.asc())
        .select(SUBJECT)
        .load(conn)
}

/// Conversations started plus orders placed at or after `since`, per customer.
pub fn engaged_since(
    conn: &mut DbConnection,
    ids: &[CustomerId],
    since: NaiveDateTime,
) -> QueryResult<HashMap<CustomerId, i64>> {
    let talks: Vec<(Option<CustomerId>, i64)> = conversations::table
        .filter(conversations::customer_id.eq_any(ids.iter().map(|id| Some(*id))))
        .filter(conversations::started_at.ge(since))
        .group_by(conversations::customer_id)
        .select((conversations::customer_id, count_star()))
        .load(conn)?;
    let bought: Vec<(CustomerId, i64)> = orders::table
        .filter(orders::customer_id.eq_any(ids))
        .filter(orders::placed_at.ge(since))
        .group_by(orders::customer_id)
        .select((orders::customer_id, count_star()))
        .load(conn)?;
    let mut counts: HashMap<CustomerId, i64> = HashMap::new();
    for (id, n) in talks
        .into_iter()
        .filter_map(|(id, n)| Some((id?, n)))
        .chain(bought)
    {
        *counts.entry(id).or_default() += n;
    }
    Ok(counts)
}

/// When each customer last placed an order.
pub fn last_orders(
    conn: &mut DbConnection,
    ids: &[CustomerId],
) -> QueryResult<HashMap<CustomerId, NaiveDateTime>> {
    let rows: Vec<(CustomerId, Option<NaiveDateTime>)> = orders::table
        .filter(orders::customer_id.eq_any(ids))
        .group_by(orders::customer_id)
        .select((orders::customer_id, max(orders::placed_at)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| Some((id, at?)))
        .collect())
}

/// Every order total in `currency` of the customers, as the shop sent it (summed exactly
/// by the caller).
pub fn order_totals(
    conn: &mut DbConnection,
    ids: &[CustomerId],
    currency: &str,
) -> QueryResult<Vec<(CustomerId, String)>> {
    orders::table
        .filter(orders::customer_id.eq_any(ids))
        .filter(orders::currency.eq(currency))
        .select((orders::customer_id, orders::total))
        .load(conn)
}

/// The customers among `ids` that have `tag`.
pub fn tagged(
    conn: &mut DbConnection,
    ids: &[CustomerId],
    tag: TagId,
) -> QueryResult<Vec<CustomerId>> {
    customer_tags::table
        .filter(customer_tags::tag_id.eq(tag))
        .filter(customer_tags::customer_id.eq_any(ids))
        .select(customer_tags::customer_id)
        .load(conn)
}

/// Pins (`true`) or unpins a customer's stage; whether it changed.
pub fn set_pinned(conn: &mut DbConnection, id: CustomerId, pinned: bool) -> QueryResult<bool> {
    let changed = kept::update(
        customers::table
            .find(id)
            .filter(customers::lifecycle_pinned.ne(pinned)),
        customers::lifecycle_pinned.eq(pinned),
    )
    .execute(conn)?;
    Ok(changed == 1)
}
