//! A filter whose candidates are a bounded list, read whole in one pass: each match's
//! sort key (and what tells its search tier) comes back, and the page and the exact
//! total are worked out from them. Tier by tier and then counting would read every
//! candidate's row twice or more (an agent's fuzzy search tested each one's team reach
//! once for the page and again for the total).

use diesel::prelude::*;

use super::totals::{Total, bounded, search_alone, search_within_reach, two_digits};
use super::{Cursor, CustomerFilter, PageRequest, Plans, SortKey, SortValue, filtered};
use crate::db::DbConnection;
use crate::db::customers::Customer;
use crate::db::schema::customers;
use crate::db::search::{Ranked, Tier};
use crate::db::teams::list_unreached;
use crate::db::types::CustomerId;
use crate::domain::scope::Grants;

/// Customers of a page, each with its search tier (0 without a search).
pub type Tiered = Vec<(Customer, u8)>;

/// The most matches read whole; a filter holding more is read tier by tier.
const WHOLE_AT_MOST: i64 = 30_000;

/// A page after the cursor and the total, when the filter's candidates are a bounded
/// list whose total is not already known (see `totals::total`) and the sort is by a
/// number or a time; `None` otherwise, or when more than [`WHOLE_AT_MOST`] match. Sorted
/// names are left to the database: its collation orders them. The total is exact, but
/// for an agent's search of many matches (see [`paired_by_time`]).
pub fn page_with_total(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    page: PageRequest<'_>,
) -> QueryResult<Option<(Tiered, Total)>> {
    let PageRequest {
        key,
        ascending,
        after,
        limit,
    } = page;
    if plans.match_nobody() {
        return Ok(Some((Vec::new(), Total::Exact(0))));
    }
    let ranking = match filter.ranking() {
        Some((_, false)) => plans.name.as_ref(),
        Some((_, true)) => plans.public_id.as_ref(),
        None => None,
    };
    if let Some(found) = paired_by_time(conn, filter, plans, page)? {
        return Ok(Some(found));
    }
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
    let listed: Vec<Listed> = matches
        .into_iter()
        .filter_map(|(row, value)| {
            let tier = match ranking {
                Some(plan) => plan.tier_of(&row)? as u8,
                None => 0,
            };
            Some((tier, value, row.id))
        })
        .collect();
    let (listed, start) = ordered(listed, ascending, after, ranking.is_some());
    let page = read_page(conn, listed.into_iter().skip(start), limit)?;
    Ok(Some((page, Total::Exact(total))))
}

/// A match's tier, sort value (as a cursor holds it) and id.
type Listed = (u8, i64, CustomerId);

/// Matches in the page's order, and where the page after the cursor starts among them.
fn ordered(
    mut listed: Vec<Listed>,
    ascending: bool,
    after: Option<&Cursor>,
    searched: bool,
) -> (Vec<Listed>, usize) {
    listed.sort_unstable_by(|a, b| listing_order(*a, *b, ascending));
    // Past the cursor's row, read as the database's keyset reads a cursor: its tier only
    // with a search, and one whose value is not a number (never written for these sorts)
    // from the start of its tier.
    let start = after.map_or(0, |cursor| {
        let tier = if searched { cursor.tier } else { 0 };
        match cursor.value {
            SortValue::Int(value) => listed.partition_point(|row| {
                listing_order(*row, (tier, value, cursor.id), ascending).is_le()
            }),
            SortValue::Text(_) => listed.partition_point(|row| row.0 < tier),
        }
    });
    (listed, start)
}

/// The rows of the first `limit` matches, with their tiers.
fn read_page(
    conn: &mut DbConnection,
    matches: impl Iterator<Item = Listed>,
    limit: i64,
) -> QueryResult<Tiered> {
    let page: Vec<Listed> = matches.take(usize::try_from(limit).unwrap_or(0)).collect();
    let ids: Vec<CustomerId> = page.iter().map(|(_, _, id)| *id).collect();
    let rows = super::rows_in_order(conn, &ids)?;
    let tiers = page.iter().map(|(tier, _, _)| *tier);
    Ok(rows.into_iter().zip(tiers).collect())
}

/// An agent's search of at most this many matches has every match's reach tested, and
/// its total is exact. Past it, matches are tested a few pages' worth at a time from the
/// cursor on until the page is full, and the total is estimated from the share reached
/// (each test reads a match's identities: hundreds of index lookups on every page).
pub const REACH_TESTED_AT_MOST: usize = 200;

/// A page by creation time and the total of a search of two words whose pairs carried
/// each match's creation time (`search::Plan::created`), when nothing else but an
/// agent's reach filters: the matches are ordered from the pairs, and only the exact
/// tier, the reach (see [`REACH_TESTED_AT_MOST`]) and the page's rows are read from the
/// database, where the tiers read every match's row to sort them. `None` when that does
/// not apply.
fn paired_by_time(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    page: PageRequest<'_>,
) -> QueryResult<Option<(Tiered, Total)>> {
    let PageRequest {
        key,
        ascending,
        after,
        limit,
    } = page;
    let Some(plan) = plans.name.as_ref() else {
        return Ok(None);
    };
    let (Some(created), Some(partial)) = (&plan.created, &plan.partial) else {
        return Ok(None);
    };
    if key != SortKey::Created || !search_within_reach(filter) {
        return Ok(None);
    }
    // The exact tier: the matches whose sort name is the query. Their ids come from the
    // sort-name index alone and their times from the pairs: a row whose sort name is the
    // query but has no pairs is named by no words (its sort name is its e-mail or phone)
    // and is in no tier. Reading each one's row for its time and name cost a table
    // lookup per match: "maria garcia", 632 customers at a million, 430 requests/s
    // against 1,390 for "maria garc" (2026-12-02).
    let mut exact: Vec<CustomerId> = either_backend!(conn, c => customers::table
        .filter(customers::sort_name.eq(&plan.exact))
        .select(customers::id)
        .limit(WHOLE_AT_MOST + 1)
        .load(c))?;
    if exact.len() as i64 > WHOLE_AT_MOST {
        return Ok(None);
    }
    exact.sort_unstable();
    let listed: Vec<Listed> = created
        .iter()
        .map(|(id, at)| {
            let tier = if exact.binary_search(id).is_ok() {
                Tier::Exact
            } else if partial.binary_search(id).is_ok() {
                Tier::Partial
            } else {
                Tier::Typo
            };
            (tier as u8, *at, *id)
        })
        .collect();
    let (listed, start) = ordered(listed, ascending, after, true);
    let (page, total) = match &filter.reach {
        None => (listed[start..].to_vec(), Total::Exact(listed.len() as i64)),
        Some(grants) => reached_page(conn, &listed, start, grants, limit)?,
    };
    Ok(Some((read_page(conn, page.into_iter(), limit)?, total)))
}

/// The matches an agent's teams reach among ordered matches, from `start` on (at least
/// a page of them when there are), and the total: exact when every match was tested,
/// otherwise estimated from the share of tested matches reached (see
/// [`REACH_TESTED_AT_MOST`]).
fn reached_page(
    conn: &mut DbConnection,
    listed: &[Listed],
    start: usize,
    grants: &Grants,
    limit: i64,
) -> QueryResult<(Vec<Listed>, Total)> {
    let everyone = listed.len();
    let (from, step) = if everyone <= REACH_TESTED_AT_MOST {
        (0, everyone.max(1))
    } else {
        (start, usize::try_from(limit).unwrap_or(1).max(1) * 2)
    };
    let unreached = |conn: &mut DbConnection, rows: &[Listed]| {
        let ids: Vec<CustomerId> = rows.iter().map(|(_, _, id)| *id).collect();
        list_unreached(conn, &ids, grants)
    };
    // Reached matches from `from` on, a step at a time, each with its place in the list.
    let (mut reached, mut tested) = (Vec::new(), 0);
    for chunk in listed[from..].chunks(step) {
        let out = unreached(conn, chunk)?;
        reached.extend(
            chunk
                .iter()
                .enumerate()
                .filter(|(_, (_, _, id))| out.binary_search(id).is_err())
                .map(|(at, row)| (from + tested + at, *row)),
        );
        tested += chunk.len();
        let past_cursor = reached.iter().filter(|(at, _)| *at >= start).count();
        if everyone > REACH_TESTED_AT_MOST && past_cursor as i64 >= limit {
            break;
        }
    }
    let total = if from == 0 && tested == everyone {
        Total::Exact(reached.len() as i64)
    } else {
        // Near the end of the list few are tested past the cursor: the step before
        // `from` joins the estimate's sample.
        let before = &listed[from.saturating_sub(step.saturating_sub(tested))..from];
        let missed = unreached(conn, before)?.len();
        let (found, read) = (reached.len() + before.len() - missed, tested + before.len());
        Total::About(two_digits((found * everyone / read.max(1)) as i64))
    };
    let page = reached
        .into_iter()
        .filter(|(at, _)| *at >= start)
        .map(|(_, row)| row)
        .collect();
    Ok((page, total))
}

/// Microseconds since the epoch, as a cursor holds a time.
fn micros(at: chrono::NaiveDateTime) -> i64 {
    at.and_utc().timestamp_micros()
}

/// The order of a page: tier by tier, then by the sort value and the id in the sort's
/// direction.
fn listing_order(
    (tier, value, id): Listed,
    (other_tier, other_value, other_id): Listed,
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
