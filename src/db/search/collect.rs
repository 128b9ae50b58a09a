//! Each word of a search collected as a list of ids when it is rare enough: the lists
//! are intersected and their tiers told apart by `plan`; a word too common to list is
//! tested on each row instead.

use diesel::prelude::*;

use super::plan::{IdQueryOf, Plan, Word};
use super::ranges::{Span, Start, remember_common, remembered_common};
use super::sorted::ascending;
use crate::db::DbConnection;
use crate::db::schema::customer_terms;
use crate::domain::search::{TermKind, prefix_end};

/// Ids as sorted lists, typed and any: tens of thousands are sorted and merged faster
/// than they are hashed.
pub(super) type Lists = (Vec<i64>, Vec<i64>);

/// The kinds of terms a word is contained in (an initial: the whole words it starts).
fn containing_kinds(word: &Word, id: bool) -> Vec<i16> {
    let (whole, part) = TermKind::for_field(id);
    if word.initial.is_some() {
        vec![whole.code()]
    } else {
        vec![whole.code(), part.code()]
    }
}

/// The ids of the terms a word is contained in.
fn containing(word: &Word, id: bool) -> IdQueryOf {
    customer_terms::table
        .filter(customer_terms::kind.eq_any(containing_kinds(word, id)))
        .filter(customer_terms::term.ge(word.typed.clone()))
        .filter(customer_terms::term.lt(prefix_end(&word.typed)))
        .select(customer_terms::customer_id)
        .into_boxed()
}

/// The ids of whole words.
fn holding(words: &[String], id: bool) -> IdQueryOf {
    let (whole, _) = TermKind::for_field(id);
    customer_terms::table
        .filter(customer_terms::kind.eq(whole.code()))
        .filter(customer_terms::term.eq_any(words.to_vec()))
        .select(customer_terms::customer_id)
        .into_boxed()
}

/// Whether a query finds more than `at_most` ids: the database skips them without
/// returning them.
fn more_than(conn: &mut DbConnection, query: IdQueryOf, at_most: usize) -> QueryResult<bool> {
    let past: Option<i64> = query
        .offset(at_most as i64)
        .limit(1)
        .first(conn)
        .optional()?;
    Ok(past.is_some())
}

/// Whether more than `at_most` names contain a word. A word found so is remembered with
/// the bound it passed (see `ranges`), and taken as common for a day by any search with
/// that bound or a lower one.
fn word_is_common(
    conn: &mut DbConnection,
    word: &Word,
    id: bool,
    at_most: usize,
) -> QueryResult<bool> {
    let kinds = containing_kinds(word, id);
    let span = Span {
        kinds: &kinds,
        start: Start::From,
    };
    if remembered_common(conn, &[(span, &word.typed)], at_most)? {
        return Ok(true);
    }
    let common = more_than(conn, containing(word, id), at_most)?;
    if common {
        remember_common(conn, span, &word.typed, at_most)?;
    }
    Ok(common)
}

/// A round of collecting each word's matches.
#[derive(Clone, Copy)]
pub(super) enum Round {
    /// Words with at most this many matches, a tier's list or less: one is enough.
    Listed(usize),
    /// Words with at most this many, when every word has more than a tier lists: only
    /// an intersection of two lists can be short enough, and initials are left out (a
    /// letter starts a large share of all names: at a million customers, testing whether
    /// "s" starts more than 60,000 of them cost 6 ms on PostgreSQL, more than the walk).
    Past(usize),
}

/// Each word's matches (as typed, and as typed or one typo away), for the words a round
/// collects; marks those words collected. Nothing is loaded unless enough words qualify:
/// "john s" at a million customers loaded 49,700 ids for "john" (within Johnson too) to
/// throw them away.
pub(super) fn collect(
    conn: &mut DbConnection,
    plan: &mut Plan,
    round: Round,
) -> QueryResult<Vec<Lists>> {
    let id = plan.id;
    let (at_most, at_least) = match round {
        Round::Listed(at_most) => (at_most, 1),
        Round::Past(at_most) => (at_most, 2),
    };
    // An initial that needs two words is tested on each listed row (the customers with
    // one word starting with the letter are more than its matches), and none is tried
    // past the listing bound (see `Round::Past`).
    let tried: Vec<usize> = (0..plan.words.len())
        .filter(|&i| match plan.words[i].initial {
            Some(needs) => needs == 1 && matches!(round, Round::Listed(_)),
            None => true,
        })
        .collect();
    let mut few = Vec::new();
    for (n, &i) in tried.iter().enumerate() {
        if few.len() + (tried.len() - n) < at_least {
            break;
        }
        if !word_is_common(conn, &plan.words[i], id, at_most)? {
            few.push(i);
        }
    }
    for word in plan.words.iter_mut() {
        word.collected = false;
    }
    if few.len() < at_least {
        return Ok(Vec::new());
    }
    let mut lists = Vec::new();
    for i in few {
        let word = &mut plan.words[i];
        let partial: Vec<i64> = containing(word, id).load(conn)?;
        let room = at_most - partial.len();
        let near: Vec<i64> = if word.near.is_empty() {
            Vec::new()
        } else if more_than(conn, holding(&word.near, id), room)? {
            continue;
        } else {
            holding(&word.near, id).load(conn)?
        };
        word.collected = true;
        let any = ascending([partial.as_slice(), near.as_slice()].concat());
        lists.push((ascending(partial), any));
    }
    Ok(lists)
}
