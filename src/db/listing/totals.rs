//! The Customers page's total, worked out at no more cost than the page itself: exact
//! when that is cheap, otherwise estimated from a uniform sample.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{CustomerFilter, Plans, filtered};
use crate::db::DbConnection;
use crate::db::kept;
use crate::db::schema::{customer_counts, customers, remembered_totals};
use crate::db::search;
use crate::db::types::CustomerId;

/// How many customers a filter matches, as the Customers page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Exactly this many.
    Exact(i64),
    /// About this many: estimated from a sample, rounded to two significant digits.
    About(i64),
    /// More than this many (the sample found none, but a page is full).
    MoreThan(i64),
}

/// Customer ids a total's sample reads, at most.
const SAMPLE_IDS: i64 = 2_000;

/// Windows the sample is spread over, evenly along the id range.
const SAMPLE_WINDOWS: i64 = 8;

/// How many customers match, at no more cost than the page itself, the way search engines
/// and mail clients do: exact from the first page when it holds every match
/// (`first_page_complete`), from the stage counters for everyone or one stage, or by
/// counting when the filter's candidates are a bounded list (a name search's matches, a
/// tag few hold, selected rows, the customers an agent served); otherwise estimated from
/// windows of the id range the filter's period spans (a few thousand rows, one query).
/// Paging, exports and bulk changes always work on the exact set.
pub fn total(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
    first_page_complete: Option<usize>,
) -> QueryResult<Total> {
    if let Some(rows) = first_page_complete {
        return Ok(Total::Exact(rows as i64));
    }
    if plans.match_nobody() {
        return Ok(Total::Exact(0));
    }
    if let Some(stage) = counted_stage(filter) {
        let mut query = customer_counts::table
            .select(customer_counts::customers)
            .into_boxed();
        if let Some(stage) = stage {
            query = query.filter(customer_counts::lifecycle.eq(stage.to_owned()));
        }
        let counts: Vec<i64> = query.load(conn)?;
        return Ok(Total::Exact(counts.iter().sum::<i64>().max(0)));
    }
    if let Some(matches) = search_alone(filter, plans) {
        return Ok(Total::Exact(matches as i64));
    }
    if bounded(filter, plans) {
        return Ok(Total::Exact(
            filtered(filter, plans, None).count().get_result(conn)?,
        ));
    }
    let key = filter_key(filter);
    if let Some(total) = recall(conn, &key)? {
        return Ok(total);
    }
    let (total, counted) = sampled(conn, filter, plans)?;
    match total {
        // A count made because the sample found too few to trust is, to the requests of
        // the next minute, the best estimate there is: counting on each of them cost more
        // than their page (at 10,000 customers, "is empty" on a property everyone holds
        // read every holder, a 55 ms p99 on both databases, 2026-11-30).
        Total::Exact(n) if counted => remember(conn, &key, n, false)?,
        Total::About(n) => remember(conn, &key, n, false)?,
        Total::MoreThan(n) => remember(conn, &key, n, true)?,
        Total::Exact(_) => {}
    }
    Ok(total)
}

/// The exact count, each condition's holders read from its index.
fn count_collected(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
) -> QueryResult<Total> {
    let collecting = CustomerFilter {
        probe_tags: false,
        probe_values: false,
        set_values: false,
        ..filter.clone()
    };
    Ok(Total::Exact(
        filtered(&collecting, plans, None)
            .count()
            .get_result(conn)?,
    ))
}

/// How long an estimate is remembered.
const REMEMBER_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// How long the requests arriving while an estimate past [`REMEMBER_FOR`] is made again
/// read the old one: the first request to find it old makes it, instead of every request
/// in flight sampling at once (10–30 ms each at a million customers).
const REMAKING_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// Estimates older than this are forgotten.
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A filter's key among remembered totals: a digest of all it says, its reach included.
fn filter_key(filter: &CustomerFilter) -> String {
    use sha2::Digest;
    let text = serde_json::to_string(filter).unwrap_or_default();
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The filter's estimate, if made within [`REMEMBER_FOR`], or older and being made again
/// by another request. `None`: this request makes it.
fn recall(conn: &mut DbConnection, key: &str) -> QueryResult<Option<Total>> {
    let found: Option<(i64, bool, NaiveDateTime)> = remembered_totals::table
        .find(key)
        .filter(remembered_totals::computed_at.gt(crate::db::now() - FORGET_AFTER))
        .select((
            remembered_totals::total,
            remembered_totals::more_than,
            remembered_totals::computed_at,
        ))
        .first(conn)
        .optional()?;
    let Some((n, more_than, computed_at)) = found else {
        return Ok(None);
    };
    if computed_at <= crate::db::now() - REMEMBER_FOR && take_remaking(conn, key, computed_at)? {
        return Ok(None);
    }
    Ok(Some(if more_than {
        Total::MoreThan(n)
    } else {
        Total::About(n)
    }))
}

/// Takes the remaking of an estimate found made at `seen_at`: it then reads as fresh for
/// [`REMAKING_FOR`] more, to every request and instance. True for the one request that
/// took it; a request that fails to remake it leaves it to the first one after that.
pub fn take_remaking(
    conn: &mut DbConnection,
    key: &str,
    seen_at: NaiveDateTime,
) -> QueryResult<bool> {
    let until = crate::db::now() - REMEMBER_FOR + REMAKING_FOR;
    let taken = kept::update(
        remembered_totals::table
            .find(key)
            .filter(remembered_totals::computed_at.eq(seen_at)),
        remembered_totals::computed_at.eq(until),
    )
    .execute(conn)?;
    Ok(taken == 1)
}

/// Remembers an estimate ("more than" `n` when `more_than`), and forgets the ones too old
/// to be read back.
fn remember(conn: &mut DbConnection, key: &str, n: i64, more_than: bool) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::delete(
        remembered_totals::table.filter(remembered_totals::computed_at.lt(at - FORGET_AFTER)),
    )
    .execute(conn)?;
    let row = (
        remembered_totals::filter_key.eq(key),
        remembered_totals::total.eq(n),
        remembered_totals::more_than.eq(more_than),
        remembered_totals::computed_at.eq(at),
    );
    either_backend!(conn, c => diesel::insert_into(remembered_totals::table)
        .values(row)
        .on_conflict(remembered_totals::filter_key)
        .do_update()
        .set((
            remembered_totals::total.eq(n),
            remembered_totals::more_than.eq(more_than),
            remembered_totals::computed_at.eq(at),
        ))
        .execute(c)?);
    Ok(())
}

/// `Some(None)` for a filter that is no filter (everyone), `Some(Some(stage))` for one
/// lifecycle stage alone: both answered by the stage counters.
pub(super) fn counted_stage(filter: &CustomerFilter) -> Option<Option<&str>> {
    let unfiltered = filter.from.is_none()
        && filter.until.is_none()
        && filter.any_tags.is_empty()
        && filter.all_tags.is_empty()
        && filter.name.is_none()
        && filter.public_id.is_none()
        && filter.email.is_none()
        && filter.phone.is_none()
        && filter.channel.is_none()
        && filter.contact.is_none()
        && filter.served_by.is_none()
        && filter.blacklisted.is_none()
        && filter.conditions.is_empty()
        && filter.ids.is_empty()
        && filter.reach.is_none();
    unfiltered.then_some(filter.lifecycle.as_deref())
}

/// How many customers a fuzzy search matches when it is the whole filter and every word
/// was collected: the plan counted them already.
pub(super) fn search_alone(filter: &CustomerFilter, plans: &Plans) -> Option<usize> {
    let stripped = CustomerFilter {
        name: None,
        public_id: None,
        ..filter.clone()
    };
    if counted_stage(&stripped) != Some(None) {
        return None;
    }
    match (&plans.name, &plans.public_id) {
        (Some(plan), None) | (None, Some(plan)) => plan.matches,
        _ => None,
    }
}

/// Whether the filter is a search by name and nothing else but an agent's reach.
pub(super) fn search_within_reach(filter: &CustomerFilter) -> bool {
    let stripped = CustomerFilter {
        name: None,
        reach: None,
        ..filter.clone()
    };
    filter.name.is_some() && counted_stage(&stripped) == Some(None)
}

/// Whether the filter's candidates are a bounded list, so counting them costs no more than
/// reading the list.
pub(super) fn bounded(filter: &CustomerFilter, plans: &Plans) -> bool {
    let listed = |plan: &Option<search::Plan>| {
        plan.as_ref()
            .is_some_and(|p| (p.partial.is_some() && p.typo.is_some()) || p.candidates.is_some())
    };
    !filter.ids.is_empty()
        || filter.served_by.is_some()
        || (!filter.probe_tags && (!filter.any_tags.is_empty() || !filter.all_tags.is_empty()))
        || listed(&plans.name)
        || listed(&plans.public_id)
        || (filter.contact.is_some() && plans.contact.is_some())
        || (filter.email.is_some() && plans.email.is_some())
        || (filter.phone.is_some() && plans.phone.is_some())
}

/// A period on creation holding at most this many customers is counted exactly.
const SMALL_PERIOD: i64 = 5_000;

/// … and at most this many when the period is the whole filter (an index-only count).
/// A week at a million customers created over two years is about 9,600; the last 30
/// days, about 41,000, cost PostgreSQL a 61 ms p99 to count on every request (2026-11-30),
/// where a sample's estimate is made once a minute.
const LONE_PERIOD: i64 = 10_000;

/// Whether the filter is a period on creation and nothing else.
fn is_period_alone(filter: &CustomerFilter) -> bool {
    let stripped = CustomerFilter {
        from: None,
        until: None,
        ..filter.clone()
    };
    !filter.on_last_contact && counted_stage(&stripped) == Some(None)
}

/// Estimates a total from a sample: windows spread evenly over the customer ids (a
/// uniform sample whatever the order customers came in), each window a primary-key range
/// with every condition tested row by row; the share that matches times everyone (the
/// stage counters). Exact instead when the whole table, or a period on creation, is
/// small enough to read; `true` beside an exact count made because the sample found too
/// few to trust (remembered as the next requests' estimate).
fn sampled(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    plans: &Plans,
) -> QueryResult<(Total, bool)> {
    let probing = CustomerFilter {
        probe_tags: true,
        probe_values: true,
        ..filter.clone()
    };
    // Counting a small period, each condition is tested on its rows; counting a small
    // table, each condition's holders are read from its index instead
    // ([`count_collected`]).
    let count = |conn: &mut DbConnection, filter: &CustomerFilter| -> QueryResult<Total> {
        Ok(Total::Exact(
            filtered(filter, plans, None).count().get_result(conn)?,
        ))
    };
    if !filter.on_last_contact && (filter.from.is_some() || filter.until.is_some()) {
        // How far the period goes, counted on the creation index up to the bound: for a
        // period alone that one walk is the total.
        let alone = is_period_alone(filter);
        let bound = if alone { LONE_PERIOD } else { SMALL_PERIOD };
        let within: i64 = CreatedWithin {
            from: filter.from,
            until: filter.until,
            at_most: bound + 1,
        }
        .get_result(conn)?;
        if within <= bound {
            let total = if alone {
                Total::Exact(within)
            } else {
                count(conn, &probing)?
            };
            return Ok((total, false));
        }
    }
    // Two queries: SQLite answers a lone MIN or MAX from the index, but scans the table
    // for both at once.
    let low: Option<CustomerId> = customers::table
        .select(diesel::dsl::min(customers::id))
        .first(conn)?;
    let high: Option<CustomerId> = customers::table
        .select(diesel::dsl::max(customers::id))
        .first(conn)?;
    let (Some(low), Some(high)) = (low, high) else {
        return Ok((Total::Exact(0), false));
    };
    let span = high.0 - low.0 + 1;
    if span <= SAMPLE_IDS {
        return Ok((count_collected(conn, filter, plans)?, false));
    }
    let everyone = crate::db::customers::count_everyone(conn)?;
    let mut size = SAMPLE_IDS;
    loop {
        let (found, read) = sample(conn, &probing, plans, (low, span), size)?;
        if found >= FEW_HITS || size > SAMPLE_IDS {
            if found == 0 || read == 0 {
                return Ok((Total::MoreThan(0), false));
            }
            return Ok((Total::About(two_digits(found * everyone / read)), false));
        }
        // Few hits make a rough estimate (8 hits: ± a third), and a rough one can choose
        // the wrong way to fetch the page: a sample eight times larger, once, or the exact
        // count when that would read the whole table anyway.
        if span <= size * 8 {
            return Ok((count_collected(conn, filter, plans)?, true));
        }
        size *= 8;
    }
}

/// How many customers were created in a period, counted up to `at_most`: one walk of the
/// creation index that stops there. Planned for each run's period, as the Customers page's
/// other period statements are.
struct CreatedWithin {
    from: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
    at_most: i64,
}

impl diesel::query_builder::QueryId for CreatedWithin {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for CreatedWithin {
    type SqlType = diesel::sql_types::BigInt;
}

impl<Conn> RunQueryDsl<Conn> for CreatedWithin {}

impl<DB> diesel::query_builder::QueryFragment<DB> for CreatedWithin
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>,
    NaiveDateTime: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("SELECT COUNT(*) FROM (SELECT 1 FROM customers WHERE TRUE");
        if let Some(from) = &self.from {
            out.push_sql(" AND created_at >= ");
            out.push_bind_param::<diesel::sql_types::Timestamp, _>(from)?;
        }
        if let Some(until) = &self.until {
            out.push_sql(" AND created_at < ");
            out.push_bind_param::<diesel::sql_types::Timestamp, _>(until)?;
        }
        out.push_sql(" LIMIT ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.at_most)?;
        out.push_sql(") within_period");
        Ok(())
    }
}

/// Below this many hits in the first sample, a larger one is read.
const FEW_HITS: i64 = 40;

/// How many of `size` ids, in windows spread evenly from `low` over `span`, match the
/// filter; and how many ids the windows held.
fn sample(
    conn: &mut DbConnection,
    probing: &CustomerFilter,
    plans: &Plans,
    (low, span): (CustomerId, i64),
    size: i64,
) -> QueryResult<(i64, i64)> {
    let width = size / SAMPLE_WINDOWS;
    let step = span / SAMPLE_WINDOWS;
    let mut sample: Vec<CustomerId> = Vec::new();
    for k in 0..SAMPLE_WINDOWS {
        let start = low.0 + k * step;
        sample.extend(
            customers::table
                .filter(customers::id.between(CustomerId(start), CustomerId(start + width - 1)))
                .select(customers::id)
                .load::<CustomerId>(conn)?,
        );
    }
    // The sample's ids as a list: the database reads those rows and no index of a
    // condition (a period read through the creation index would cost more than the sample).
    let read = sample.len() as i64;
    let found: i64 = filtered(probing, plans, None)
        .filter(crate::db::among::customer_among(&sample, plans.sqlite))
        .count()
        .get_result(conn)?;
    Ok((found, read))
}

/// Rounds to two significant digits (12,345 → 12,000), as estimates are read.
pub(super) fn two_digits(n: i64) -> i64 {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    (n + unit / 2) / unit * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_keep_two_significant_digits() {
        assert_eq!(two_digits(7), 7);
        assert_eq!(two_digits(99), 99);
        assert_eq!(two_digits(12_345), 12_000);
        assert_eq!(two_digits(987), 990);
        assert_eq!(two_digits(1_049_999), 1_000_000);
    }
}
