//! A filter whose candidates are a bounded list, read whole in one pass: each match's
//! sort key (and what tells its search tier) comes back, and the page and the exact
//! total are worked out from them. Tier by tier and then counting would read every
//! candidate's row twice or more (an agent's fuzzy search tested each one's team reach
//! once for the page and again for the total).

use diesel::prelude::*;

use super::totals::{bounded, search_alone};
use super::{Cursor, CustomerFilter, Plans, SortKey, SortValue, filtered};
use crate::db::DbConnection;
use crate::db::customers::Customer;
use crate::db::schema::customers;
use crate::db::search::Ranked;
use crate::db::types::CustomerId;

/// Customers of a page, each with its search tier (0 without a search).
pub type Tiered = Vec<(Customer, u8)>;

/// The most matches read whole; a filter holding more is read tier by tier.
const WHOLE_AT_MOST: i64 = 30_000;

/// A page after the cursor and the exact total, when the filter's candidates are a
/// bounded list whose total is not already known (see `totals::total`) and the sort is
/// by a number or a time; `None` otherwise, or when more than [`WHOLE_AT_MOST`] match.
/// Sorted names are left to the database: its collation orders them.
pub fn page_with_total(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    key: SortKey,
    ascending: bool,
    after: Option<&Cursor>,
    limit: i64,
) -> QueryResult<Option<(Tiered, i64)>> {
    let ranking = match filter.ranking() {
        Some((_, false)) => plans.name.as_ref(),
        Some((_, true)) => plans.public_id.as_ref(),
        None => None,
    };
    if key == SortKey::Name
        || !bounded(filter, plans)
        || search_alone(filter, plans).is_some()
        || ranking.is_some_and(|plan| !plan.tiers_listed())
    {
        return Ok(None);
    }
    let Some(matches) = keyed(conn, filter, plans, key)? else {
        return Ok(None);
    };
    let total = matches.len() as i64;
    let mut listed: Vec<(u8, i64, CustomerId)> = matches
        .into_iter()
        .filter_map(|(row, value)| {
            let tier = match ranking {
                Some(plan) => plan.tier_of(&row)? as u8,
                None => 0,
            };
            Some((tier, value, row.id))
        })
        .collect();
    listed.sort_unstable_by(|a, b| listing_order(*a, *b, ascending));
    // Past the cursor's row, read as the database's keyset reads a cursor: its tier only
    // with a search, and one whose value is not a number (never written for these sorts)
    // from the start of its tier.
    let start = after.map_or(0, |cursor| {
        let tier = if ranking.is_some() { cursor.tier } else { 0 };
        match cursor.value {
            SortValue::Int(value) => listed.partition_point(|row| {
                listing_order(*row, (tier, value, cursor.id), ascending).is_le()
            }),
            SortValue::Text(_) => listed.partition_point(|row| row.0 < tier),
        }
    });
    let page: Vec<(u8, i64, CustomerId)> = listed
        .into_iter()
        .skip(start)
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let ids: Vec<CustomerId> = page.iter().map(|(_, _, id)| *id).collect();
    let rows = super::rows_in_order(conn, &ids)?;
    let tiers = page.iter().map(|(tier, _, _)| *tier);
    Ok(Some((rows.into_iter().zip(tiers).collect(), total)))
}

/// The order of a page: tier by tier, then by the sort value and the id in the sort's
/// direction.
fn listing_order(
    (tier, value, id): (u8, i64, CustomerId),
    (other_tier, other_value, other_id): (u8, i64, CustomerId),
    ascending: bool,
) -> std::cmp::Ordering {
    let within = (value, id).cmp(&(other_value, other_id));
    tier.cmp(&other_tier)
        .then(if ascending { within } else { within.reverse() })
}

/// Each match's tier inputs and sort value (as the cursor holds it), or `None` when
/// more than [`WHOLE_AT_MOST`] match.
fn keyed(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    key: SortKey,
) -> QueryResult<Option<Vec<(Ranked, i64)>>> {
    type Row<K> = (CustomerId, String, bool, String, String, K);
    macro_rules! load {
        ($column:expr, $value:expr) => {{
            let rows: Vec<Row<_>> = filtered(filter, plans, None)
                .select((
                    customers::id,
                    customers::sort_name,
                    customers::name
                        .is_not_null()
                        .or(customers::nickname.is_not_null()),
                    customers::search_text,
                    customers::public_id,
                    $column,
                ))
                .limit(WHOLE_AT_MOST + 1)
                .load(conn)?;
            rows.into_iter()
                .map(|(id, sort_name, named, search_text, public_id, k)| {
                    let ranked = Ranked {
                        id,
                        sort_name,
                        named,
                        search_text,
                        public_id,
                    };
                    (ranked, $value(k))
                })
                .collect::<Vec<_>>()
        }};
    }
    let micros = |at: chrono::NaiveDateTime| at.and_utc().timestamp_micros();
    let same = |v: i64| v;
    let rows = match key {
        SortKey::Created => load!(customers::created_at, micros),
        SortKey::Updated => load!(customers::updated_at, micros),
        SortKey::LastContact => load!(customers::contact_sort, same),
        SortKey::Conversations => load!(customers::conversations_count, same),
        SortKey::Satisfaction => load!(customers::csat_sort, same),
        SortKey::Name => return Ok(None),
    };
    Ok((rows.len() as i64 <= WHOLE_AT_MOST).then_some(rows))
}
