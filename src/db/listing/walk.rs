//! How far a page reads when nothing narrows its filter but testing customers one by one
//! along the sort's index. A condition few customers meet (a gender nobody recorded, a
//! company name nobody has) would otherwise read every customer before it could say so:
//! half a second of one core at a million customers. A page's walk stops at a window
//! instead, the way mail clients search older mail only when asked: the page shows the
//! matches among the customers it read and offers to search further, each time five
//! times as far, until the rest is read in one go.

use diesel::prelude::*;

use super::conditions::computed_condition;
use super::order::on_sort_column;
use super::totals::bounded;
use super::{Cursor, CustomerFilter, PageRequest, Plans, Query, SortKey, Target, sorted};
use crate::db::DbConnection;
use crate::db::schema::customers;
use crate::db::types::CustomerId;
use crate::domain::condition::Test;

/// Customers a first page's walk reads at most along SQLite's creation index, which
/// holds them in the order their rows were written: 2.4 ms of one core at a million
/// customers for the costliest test, a property's absence (2026-11-30).
pub const WALK_FIRST: i64 = 2_000;

/// … along any other index, or on PostgreSQL: the rows are scattered over the table, or
/// each costs the executor more (2–6 µs a customer against 0.5).
pub const WALK_FIRST_ELSEWHERE: i64 = 500;

/// Each "search further" reads this many times as far as the page before it. Five keeps
/// one step within a page's budget when many search at once: 10,000 customers along
/// SQLite's creation index cost about 2.5 ms of one core at a million, where ten times
/// (20,000, 5 ms) put sixteen such requests at once past 50 ms (2026-12-01).
const WALK_GROWTH: i64 = 5;

/// How many times a page may search further before it reads the rest whole: the last
/// window before it holds 250,000 customers on SQLite by creation, 62,500 otherwise.
pub const FURTHEST: u32 = 4;

/// How far a page's walk may read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Walk {
    /// How many times the reader searched further.
    pub further: u32,
    /// The first page's window, when not the one that fits the database and the sort
    /// (tests take tiny ones).
    pub first: Option<i64>,
}

impl Walk {
    /// A page searched `further` times.
    pub fn further(further: u32) -> Walk {
        Walk {
            further,
            first: None,
        }
    }

    /// How many customers the walk reads, on SQLite or not, along `key`: `None`, as many
    /// as it takes.
    pub fn window(self, sqlite: bool, key: SortKey) -> Option<i64> {
        let first = self.first.unwrap_or(if sqlite && key == SortKey::Created {
            WALK_FIRST
        } else {
            WALK_FIRST_ELSEWHERE
        });
        (self.further < FURTHEST).then(|| first * WALK_GROWTH.pow(self.further))
    }

    /// The walk of the page that searches further after this one.
    pub fn onward(self) -> Walk {
        Walk {
            further: self.further + 1,
            ..self
        }
    }
}

/// Whether the page's query finds its rows by testing each customer along the sort's
/// index, with nothing to narrow them first: no list of candidates (a search's matches, a
/// tag few hold, a property's few holders, an e-mail address or phone number, selected
/// rows) and at least one test no index serves in that order. A period on creation, a
/// lifecycle stage and the blacklist are read from their indexes in creation order.
pub(super) fn tests_each_row(filter: &CustomerFilter, plans: &Plans, key: SortKey) -> bool {
    if bounded(filter, plans) {
        return false;
    }
    let holds = |test: &Test| !matches!(test, Test::Empty | Test::NotEquals(_));
    let listed = |target: &Target, test: &Test| match target {
        Target::Custom(..) => !filter.probe_values && !filter.set_values && holds(test),
        Target::Standard(key, _) => {
            matches!(key.as_str(), "email" | "phone") && matches!(test, Test::Equals(_))
        }
        Target::Computed(_) => false,
    };
    if filter
        .conditions
        .iter()
        .any(|(target, test)| listed(target, test))
    {
        return false;
    }
    let by_creation = key == SortKey::Created;
    let served = |target: &Target| by_creation && is_created(target);
    let period = filter.from.is_some() || filter.until.is_some();
    filter.conditions.iter().any(|(target, _)| !served(target))
        || filter.channel.is_some()
        || filter.reach.is_some()
        || filter.probe_tags
        || filter.email.is_some()
        || filter.phone.is_some()
        || filter.contact.is_some()
        || (period && (filter.on_last_contact || !by_creation))
        || (!by_creation && (filter.lifecycle.is_some() || filter.blacklisted.is_some()))
}

/// Whether a condition is on the creation time.
fn is_created(target: &Target) -> bool {
    matches!(target, Target::Computed(key) if key == "created_at")
}

/// The last customer a page's walk of `walk` customers reads: the `walk`th after the
/// cursor along the sort's index (within the period and conditions on creation, in
/// creation order), read from the index alone. `None` when fewer remain.
pub(super) fn edge(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    page: PageRequest<'_>,
    walk: i64,
) -> QueryResult<Option<Cursor>> {
    let mut everyone: Query = customers::table.into_boxed();
    if page.key == SortKey::Created && !filter.on_last_contact {
        if let Some(from) = filter.from {
            everyone = everyone.filter(customers::created_at.ge(from));
        }
        if let Some(until) = filter.until {
            everyone = everyone.filter(customers::created_at.lt(until));
        }
    }
    if page.key == SortKey::Created {
        for (target, test) in &filter.conditions {
            if is_created(target) {
                everyone = computed_condition(everyone, "created_at", test, false);
            }
        }
    }
    let last: Option<CustomerId> = sorted(everyone, page.key, page.ascending, page.after)
        .select(customers::id)
        .offset(walk - 1)
        .limit(1)
        .first(conn)
        .optional()?;
    let Some(last) = last else {
        return Ok(None);
    };
    let rows = super::rows_in_order(conn, &[last])?;
    Ok(rows.first().map(|c| Cursor::after(c, page.key, 0)))
}

/// The customers at or before `edge` along the sort, in its direction. The plain bound
/// beside the exact one lets the database stop its walk of the index there.
macro_rules! up_to {
    ($query:expr, $column:expr, $ascending:expr, $edge:expr) => {{
        let query = $query;
        match $edge {
            None => query,
            Some((value, id)) if $ascending => query.filter($column.le(value.clone())).filter(
                $column
                    .lt(value.clone())
                    .or($column.eq(value).and(customers::id.le(id))),
            ),
            Some((value, id)) => query.filter($column.ge(value.clone())).filter(
                $column
                    .gt(value.clone())
                    .or($column.eq(value).and(customers::id.ge(id))),
            ),
        }
    }};
}

/// Narrows a page's query to the customers its walk reads: up to `edge`, included.
pub(super) fn up_to(query: Query, key: SortKey, ascending: bool, edge: &Cursor) -> Query {
    on_sort_column!(up_to, query, key, ascending, Some(edge))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_search_further_reads_five_times_as_far_until_the_rest() {
        let created = |n| Walk::further(n).window(true, SortKey::Created);
        assert_eq!(created(0), Some(2_000));
        assert_eq!(created(1), Some(10_000));
        assert_eq!(created(2), Some(50_000));
        assert_eq!(created(3), Some(250_000));
        assert_eq!(created(4), None);
        assert_eq!(created(9), None);
        assert_eq!(Walk::default().window(false, SortKey::Created), Some(500));
        assert_eq!(Walk::further(1).window(true, SortKey::Name), Some(2_500));
        assert_eq!(Walk::further(3).window(false, SortKey::Name), Some(62_500));
        assert_eq!(Walk::further(4).window(false, SortKey::Name), None);
        let tiny = Walk {
            further: 0,
            first: Some(25),
        };
        assert_eq!(tiny.window(true, SortKey::Name), Some(25));
        assert_eq!(tiny.onward().window(false, SortKey::Name), Some(125));
    }
}
