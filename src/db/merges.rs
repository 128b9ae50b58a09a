//! Merging two customers: every row of the duplicate moved to the survivor (and, for an
//! undo, back), and the record of each merge that keeps the duplicate's public ID
//! resolving. Every table holding a customer id is named here, so a new one is added here.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::kept;
use super::orders::Order;
use super::schema::{
    channel_identities, conversations, customer_events, customer_locks, customer_merges,
    customer_notes, customer_tags, customer_values, customers, duplicate_checks, messages, orders,
    self_service_links, tags,
};
use super::types::{ConversationId, CustomerId, TagId};
use super::{DbConnection, now};

/// Where the duplicate's rows went, so an undo can take them back.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Moved {
    pub identities: Vec<i64>,
    pub conversations: Vec<ConversationId>,
    /// Messages of the duplicate outside any conversation (received while blacklisted).
    pub unthreaded: Vec<i64>,
    pub notes: Vec<i64>,
    pub orders: Vec<i64>,
    /// Orders the survivor already held under the same reference: kept here only.
    pub dropped_orders: Vec<Order>,
    /// The duplicate's History entries.
    pub events: Vec<i64>,
    /// The duplicate's tags.
    pub tags: Vec<TagId>,
    /// Of those, the ones the survivor did not have.
    pub tags_added: Vec<TagId>,
}

/// Moves every row of `duplicate` to `survivor` and deletes the duplicate's customer row,
/// in the caller's transaction. Counters are not touched: recount the survivor after.
pub fn move_everything(
    conn: &mut DbConnection,
    duplicate_row: &super::customers::Customer,
    survivor: CustomerId,
) -> QueryResult<Moved> {
    let duplicate = duplicate_row.id;
    let mut moved = Moved {
        identities: channel_identities::table
            .filter(channel_identities::customer_id.eq(duplicate))
            .select(channel_identities::id)
            .load(conn)?,
        conversations: conversations::table
            .filter(conversations::customer_id.eq(duplicate))
            .select(conversations::id)
            .load(conn)?,
        unthreaded: messages::table
            .filter(messages::customer_id.eq(duplicate))
            .filter(messages::conversation_id.is_null())
            .select(messages::id)
            .load(conn)?,
        notes: customer_notes::table
            .filter(customer_notes::customer_id.eq(duplicate))
            .select(customer_notes::id)
            .load(conn)?,
        events: customer_events::table
            .filter(customer_events::customer_id.eq(duplicate))
            .select(customer_events::id)
            .load(conn)?,
        tags: customer_tags::table
            .filter(customer_tags::customer_id.eq(duplicate))
            .select(customer_tags::tag_id)
            .load(conn)?,
        ..Moved::default()
    };
    kept::update(
        channel_identities::table.filter(channel_identities::customer_id.eq(duplicate)),
        channel_identities::customer_id.eq(survivor),
    )
    .execute(conn)?;
    kept::update(
        conversations::table.filter(conversations::customer_id.eq(duplicate)),
        conversations::customer_id.eq(survivor),
    )
    .execute(conn)?;
    kept::update(
        messages::table.filter(messages::customer_id.eq(duplicate)),
        messages::customer_id.eq(survivor),
    )
    .execute(conn)?;
    kept::update(
        customer_notes::table.filter(customer_notes::customer_id.eq(duplicate)),
        customer_notes::customer_id.eq(survivor),
    )
    .execute(conn)?;
    kept::update(
        customer_events::table.filter(customer_events::customer_id.eq(duplicate)),
        customer_events::customer_id.eq(survivor),
    )
    .execute(conn)?;

    // Orders: one reference is one order, so the survivor's copy wins.
    let held: Vec<String> = orders::table
        .filter(orders::customer_id.eq(survivor))
        .select(orders::order_ref)
        .load(conn)?;
    for order in orders::table
        .filter(orders::customer_id.eq(duplicate))
        .select(Order::as_select())
        .load::<Order>(conn)?
    {
        if held.contains(&order.order_ref) {
            diesel::delete(orders::table.find(order.id)).execute(conn)?;
            moved.dropped_orders.push(order);
        } else {
            kept::update(
                orders::table.find(order.id),
                orders::customer_id.eq(survivor),
            )
            .execute(conn)?;
            moved.orders.push(order.id);
        }
    }

    // Tags: the survivor gets those it lacked; each tag's counter loses the duplicate.
    let survivor_tags: Vec<TagId> = customer_tags::table
        .filter(customer_tags::customer_id.eq(survivor))
        .select(customer_tags::tag_id)
        .load(conn)?;
    moved.tags_added = moved
        .tags
        .iter()
        .copied()
        .filter(|t| !survivor_tags.contains(t))
        .collect();
    diesel::delete(customer_tags::table.filter(customer_tags::customer_id.eq(duplicate)))
        .execute(conn)?;
    kept::update(
        tags::table.filter(tags::id.eq_any(&moved.tags)),
        tags::customers_count.eq(tags::customers_count - 1),
    )
    .execute(conn)?;
    let added: Vec<(CustomerId, TagId)> = moved.tags_added.iter().map(|t| (survivor, *t)).collect();
    super::tags::insert_customer_tags(conn, &added)?;

    // What only meant something for the duplicate's own row.
    diesel::delete(self_service_links::table.filter(self_service_links::customer_id.eq(duplicate)))
        .execute(conn)?;
    diesel::delete(customer_values::table.filter(customer_values::customer_id.eq(duplicate)))
        .execute(conn)?;
    super::search::remove_terms(conn, duplicate_row)?;
    diesel::delete(customer_locks::table.filter(customer_locks::customer_id.eq(duplicate)))
        .execute(conn)?;
    diesel::delete(duplicate_checks::table.filter(duplicate_checks::customer_id.eq(duplicate)))
        .execute(conn)?;
    // Its suggested pairs and dismissals go with the row (ON DELETE CASCADE).
    diesel::delete(customers::table.find(duplicate)).execute(conn)?;
    Ok(moved)
}

/// Takes back to `duplicate` (whose row is in again) what `moved` says came from it and
/// the survivor still holds, in the caller's transaction. Conversations started after
/// `since` on an identity that goes back go back with it. Counters are not touched.
pub fn move_back(
    conn: &mut DbConnection,
    moved: &Moved,
    duplicate: CustomerId,
    survivor: CustomerId,
    since: NaiveDateTime,
) -> QueryResult<()> {
    kept::update(
        channel_identities::table
            .filter(channel_identities::id.eq_any(&moved.identities))
            .filter(channel_identities::customer_id.eq(survivor)),
        channel_identities::customer_id.eq(duplicate),
    )
    .execute(conn)?;
    let later: Vec<ConversationId> = conversations::table
        .filter(conversations::identity_id.eq_any(&moved.identities))
        .filter(conversations::customer_id.eq(survivor))
        .filter(conversations::started_at.ge(since))
        .select(conversations::id)
        .load(conn)?;
    let back: Vec<ConversationId> = moved.conversations.iter().chain(&later).copied().collect();
    for chunk in back.chunks(5_000) {
        kept::update(
            conversations::table
                .filter(conversations::id.eq_any(chunk))
                .filter(conversations::customer_id.eq(survivor)),
            conversations::customer_id.eq(duplicate),
        )
        .execute(conn)?;
        kept::update(
            messages::table
                .filter(messages::conversation_id.eq_any(chunk.iter().map(|c| Some(*c))))
                .filter(messages::customer_id.eq(survivor)),
            messages::customer_id.eq(duplicate),
        )
        .execute(conn)?;
    }
    kept::update(
        messages::table
            .filter(messages::id.eq_any(&moved.unthreaded))
            .filter(messages::customer_id.eq(survivor)),
        messages::customer_id.eq(duplicate),
    )
    .execute(conn)?;
    kept::update(
        customer_notes::table
            .filter(customer_notes::id.eq_any(&moved.notes))
            .filter(customer_notes::customer_id.eq(survivor)),
        customer_notes::customer_id.eq(duplicate),
    )
    .execute(conn)?;
    kept::update(
        customer_events::table
            .filter(customer_events::id.eq_any(&moved.events))
            .filter(customer_events::customer_id.eq(survivor)),
        customer_events::customer_id.eq(duplicate),
    )
    .execute(conn)?;
    kept::update(
        orders::table
            .filter(orders::id.eq_any(&moved.orders))
            .filter(orders::customer_id.eq(survivor)),
        orders::customer_id.eq(duplicate),
    )
    .execute(conn)?;
    for order in &moved.dropped_orders {
        diesel::insert_into(orders::table)
            .values((
                orders::customer_id.eq(duplicate),
                orders::order_ref.eq(&order.order_ref),
                orders::placed_at.eq(order.placed_at),
                orders::status.eq(&order.status),
                orders::total.eq(&order.total),
                orders::currency.eq(&order.currency),
                orders::items_summary.eq(&order.items_summary),
                orders::created_at.eq(order.created_at),
                orders::updated_at.eq(order.updated_at),
            ))
            .execute(conn)?;
    }
    // Tags the merge gave the survivor leave it; the duplicate gets its own back.
    for tag in &moved.tags_added {
        super::tags::remove_customer_tag(conn, survivor, *tag)?;
    }
    let existing: Vec<TagId> = tags::table
        .filter(tags::id.eq_any(&moved.tags))
        .select(tags::id)
        .load(conn)?;
    let pairs: Vec<(CustomerId, TagId)> = existing.into_iter().map(|t| (duplicate, t)).collect();
    super::tags::insert_customer_tags(conn, &pairs)
}

/// How many identities, notes and tags a customer holds.
pub fn count_rows(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<(i64, i64, i64)> {
    Ok((
        channel_identities::table
            .filter(channel_identities::customer_id.eq(customer))
            .count()
            .get_result(conn)?,
        customer_notes::table
            .filter(customer_notes::customer_id.eq(customer))
            .count()
            .get_result(conn)?,
        customer_tags::table
            .filter(customer_tags::customer_id.eq(customer))
            .count()
            .get_result(conn)?,
    ))
}

/// Recounts a customer's orders.
pub fn recount_orders(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<()> {
    let count: i64 = orders::table
        .filter(orders::customer_id.eq(customer))
        .count()
        .get_result(conn)?;
    kept::update(
        customers::table.find(customer),
        customers::orders_count.eq(count),
    )
    .execute(conn)?;
    Ok(())
}

/// A merge as recorded.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_merges)]
pub struct Merge {
    pub id: i64,
    pub duplicate_id: CustomerId,
    pub duplicate_public_id: String,
    pub survivor_id: CustomerId,
    pub merged_by: String,
    pub merged_at: NaiveDateTime,
    pub snapshot: Option<String>,
    pub undone_at: Option<NaiveDateTime>,
    pub undone_by: Option<String>,
}

/// Records a merge; returns its id.
pub fn insert_merge(
    conn: &mut DbConnection,
    duplicate: CustomerId,
    duplicate_public_id: &str,
    survivor: CustomerId,
    by: &str,
    snapshot: &str,
) -> QueryResult<i64> {
    diesel::insert_into(customer_merges::table)
        .values((
            customer_merges::duplicate_id.eq(duplicate),
            customer_merges::duplicate_public_id.eq(duplicate_public_id),
            customer_merges::survivor_id.eq(survivor),
            customer_merges::merged_by.eq(by),
            customer_merges::merged_at.eq(now()),
            customer_merges::snapshot.eq(Some(snapshot)),
        ))
        .returning(customer_merges::id)
        .get_result(conn)
}

/// The merge with this id.
pub fn get_merge(conn: &mut DbConnection, id: i64) -> QueryResult<Merge> {
    customer_merges::table
        .find(id)
        .select(Merge::as_select())
        .first(conn)
}

/// The customer a merged public ID now resolves to, following later merges (the last
/// merge of each ID that was not undone); `None` when the ID was never merged away.
pub fn resolve(conn: &mut DbConnection, public_id: &str) -> QueryResult<Option<CustomerId>> {
    let mut wanted = public_id.to_owned();
    let mut found = None;
    // A chain is as long as the merges made one after another; a cycle cannot form (a
    // survivor exists when merged into), the bound only guards against the unforeseen.
    for _ in 0..32 {
        let Some(survivor) = customer_merges::table
            .filter(customer_merges::duplicate_public_id.eq(&wanted))
            .filter(customer_merges::undone_at.is_null())
            .order(customer_merges::id.desc())
            .select(customer_merges::survivor_id)
            .first::<CustomerId>(conn)
            .optional()?
        else {
            break;
        };
        found = Some(survivor);
        match customers::table
            .find(survivor)
            .select(customers::public_id)
            .first::<String>(conn)
            .optional()?
        {
            Some(_) => break,
            None => wanted = crate::domain::customer::public_id_for(survivor.0),
        }
    }
    Ok(found)
}

/// The merges into `survivor` that still hold their snapshot and were not undone: id and
/// time.
pub fn list_undoable_into(
    conn: &mut DbConnection,
    survivor: CustomerId,
) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
    customer_merges::table
        .filter(customer_merges::survivor_id.eq(survivor))
        .filter(customer_merges::snapshot.is_not_null())
        .filter(customer_merges::undone_at.is_null())
        .select((customer_merges::id, customer_merges::merged_at))
        .load(conn)
}

/// Marks a merge undone (once: 0 when it was already) and drops its snapshot.
pub fn mark_undone(conn: &mut DbConnection, id: i64, by: &str) -> QueryResult<usize> {
    kept::update(
        customer_merges::table
            .find(id)
            .filter(customer_merges::undone_at.is_null()),
        (
            customer_merges::undone_at.eq(Some(now())),
            customer_merges::undone_by.eq(Some(by)),
            customer_merges::snapshot.eq(None::<String>),
        ),
    )
    .execute(conn)
}

/// Drops the snapshots of merges made before `before` (they can no longer be undone).
pub fn drop_snapshots_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    kept::update(
        customer_merges::table
            .filter(customer_merges::snapshot.is_not_null())
            .filter(customer_merges::merged_at.lt(before)),
        customer_merges::snapshot.eq(None::<String>),
    )
    .execute(conn)
}

/// Drops the snapshots of merges into `survivor` (its data was erased).
pub fn drop_snapshots_into(conn: &mut DbConnection, survivor: CustomerId) -> QueryResult<usize> {
    kept::update(
        customer_merges::table
            .filter(customer_merges::survivor_id.eq(survivor))
            .filter(customer_merges::snapshot.is_not_null()),
        customer_merges::snapshot.eq(None::<String>),
    )
    .execute(conn)
}
