//! Ranges of the search index: the terms of some kinds that start with a word, read as
//! ids; and what searches learned of ranges too long to list (`common_ranges`), so that
//! the next ones within a day do not walk them past the bound again.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::kept;
use crate::db::schema::{common_ranges, customer_terms};
use crate::domain::search::prefix_end;

/// Where a range of terms starting with a word begins.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// At the word itself.
    From,
    /// Past it: longer terms only.
    After,
}

/// A range of terms: its kinds, and where it begins.
#[derive(Clone, Copy)]
pub(super) struct Span<'a> {
    pub kinds: &'a [i16],
    pub start: Start,
}

impl Span<'_> {
    /// As remembered: a bit per kind, then where it begins.
    fn code(self) -> i16 {
        let kinds = self.kinds.iter().fold(0_i16, |bits, kind| bits | 1 << kind);
        kinds << 1 | i16::from(self.start == Start::After)
    }
}

/// How long a range found common is taken as common without walking it again.
const COMMON_FOR: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Whether a search within the day found one of these ranges (each with its word) to hold
/// more than `at_most` terms. One query for them all.
pub(super) fn remembered_common(
    conn: &mut DbConnection,
    ranges: &[(Span<'_>, &str)],
    at_most: usize,
) -> QueryResult<bool> {
    let codes: Vec<i16> = ranges.iter().map(|(span, _)| span.code()).collect();
    let words: Vec<&str> = ranges.iter().map(|(_, word)| *word).collect();
    let bound = i64::try_from(at_most).unwrap_or(i64::MAX);
    let since = crate::db::now() - COMMON_FOR;
    let found: Vec<(i16, String)> = either_backend!(conn, c => common_ranges::table
        .filter(common_ranges::span.eq_any(&codes))
        .filter(common_ranges::word.eq_any(&words))
        .filter(common_ranges::above.ge(bound))
        .filter(common_ranges::seen_at.gt(since))
        .select((common_ranges::span, common_ranges::word))
        .load(c))?;
    Ok(found.iter().any(|(code, word)| {
        ranges
            .iter()
            .any(|(span, w)| span.code() == *code && w == word)
    }))
}

/// Remembers that a range holds more than `at_most` terms, unless a fresher verdict says
/// more than that already.
pub(super) fn remember_common(
    conn: &mut DbConnection,
    span: Span<'_>,
    word: &str,
    at_most: usize,
) -> QueryResult<()> {
    let bound = i64::try_from(at_most).unwrap_or(i64::MAX);
    let now = crate::db::now();
    let key = common_ranges::table.find((span.code(), word));
    let updated = kept::update(
        key.filter(
            common_ranges::above
                .le(bound)
                .or(common_ranges::seen_at.le(now - COMMON_FOR)),
        ),
        (
            common_ranges::above.eq(bound),
            common_ranges::seen_at.eq(now),
        ),
    )
    .execute(conn)?;
    if updated == 0 {
        either_backend!(conn, c => diesel::insert_into(common_ranges::table)
            .values((
                common_ranges::span.eq(span.code()),
                common_ranges::word.eq(word),
                common_ranges::above.eq(bound),
                common_ranges::seen_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c)?);
    }
    Ok(())
}

/// The customers of up to `limit` terms of a kind that start with `word`. Each range is
/// read on its own: joined by OR, PostgreSQL estimated them together as a large share of
/// the table and read it whole for the `LIMIT` ("m garcia" at a million customers: 17.5
/// million rows, 1.2 s, for none found); apart, each is a range of the primary key. On
/// each backend's own connection, so that both statements stay prepared.
pub(super) fn terms_starting(
    conn: &mut DbConnection,
    kind: i16,
    word: &str,
    start: Start,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let end = prefix_end(word);
    either_backend!(conn, c => {
        let range = customer_terms::table
            .filter(customer_terms::kind.eq(kind))
            .filter(customer_terms::term.lt(end))
            .select(customer_terms::customer_id)
            .limit(limit);
        match start {
            Start::From => range.filter(customer_terms::term.ge(word)).load(c),
            Start::After => range.filter(customer_terms::term.gt(word)).load(c),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_range_has_a_code_of_its_own() {
        let kinds: [&[i16]; 5] = [&[0], &[1], &[0, 1], &[2, 3], &[4]];
        let mut codes = Vec::new();
        for kinds in kinds {
            for start in [Start::From, Start::After] {
                codes.push(Span { kinds, start }.code());
            }
        }
        let mut distinct = codes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), codes.len(), "{codes:?}");
    }
}
