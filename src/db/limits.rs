//! Limits that hold across instances: events counted per scope and subject in a window.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::limit_events;
use super::{DbConnection, now};

/// How many events of `scope` for `subject` happened at or after `since`.
pub fn count_since(
    conn: &mut DbConnection,
    scope: &str,
    subject: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    limit_events::table
        .filter(limit_events::scope.eq(scope))
        .filter(limit_events::subject.eq(subject))
        .filter(limit_events::at.ge(since))
        .count()
        .get_result(conn)
}

/// Records one event now.
pub fn record(conn: &mut DbConnection, scope: &str, subject: &str) -> QueryResult<usize> {
    diesel::insert_into(limit_events::table)
        .values((
            limit_events::scope.eq(scope),
            limit_events::subject.eq(subject),
            limit_events::at.eq(now()),
        ))
        .execute(conn)
}

/// Removes events older than `before` (no limit looks back that far).
pub fn delete_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(limit_events::table.filter(limit_events::at.lt(before))).execute(conn)
}
