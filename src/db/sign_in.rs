//! Failed sign-in attempts, for throttling.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sign_in_failures;
use super::{DbConnection, now};

/// Failures recorded for `subject` since `since`.
pub fn count_failures_since(
    conn: &mut DbConnection,
    subject: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    sign_in_failures::table
        .filter(sign_in_failures::subject.eq(subject))
        .filter(sign_in_failures::failed_at.ge(since))
        .count()
        .get_result(conn)
}

/// Records one failure for each subject. (One statement per row: the connection enum does
/// not batch inserts.)
pub fn insert_failures(conn: &mut DbConnection, subjects: &[&str]) -> QueryResult<usize> {
    let at = now();
    let mut inserted = 0;
    for subject in subjects {
        inserted += diesel::insert_into(sign_in_failures::table)
            .values((
                sign_in_failures::subject.eq(*subject),
                sign_in_failures::failed_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(inserted)
}

/// Forgets the failures of `subject` (after a successful sign-in).
pub fn delete_failures(conn: &mut DbConnection, subject: &str) -> QueryResult<usize> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::subject.eq(subject)))
        .execute(conn)
}

/// Drops failures older than `before`, so the table stays small.
pub fn delete_failures_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::failed_at.lt(before)))
        .execute(conn)
}
