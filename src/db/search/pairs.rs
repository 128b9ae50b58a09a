//! Two words or more found through the pairs of whole words each name is indexed under
//! (see `domain::search`), without reading either word's customers.

use diesel::prelude::*;

use super::plan::Word;
use super::ranges::{Span, Start, remember_common, remembered_common, terms_starting};
use super::sorted::{ascending, both};
use crate::db::DbConnection;
use crate::db::schema::{customer_terms, customers};
use crate::db::stamp::MaybeStamp;
use crate::db::types::CustomerId;
use crate::domain::search::{MANY_WORDS, PAIRS_VERSION, TermKind, prefix_end};

/// What the pairs of two words found.
pub(super) enum Paired {
    /// The matches of a two-word search, as typed and any, and each match's creation
    /// time (microseconds, by id) when every pair carried it.
    Lists(Vec<i64>, Vec<i64>, Option<Vec<(i64, i64)>>),
    /// Ids among which the matches are, to be tested row by row.
    Candidates(Vec<i64>),
}

/// The most other words a search of three or more pairs with its pivot.
const PAIRED_OTHERS: usize = 3;

/// How well a word anchors pairs: a word rather than an initial (a letter follows a
/// word in a great many pairs), and a whole word (the other may start a common one).
fn anchor_rank(word: &Word) -> (bool, bool) {
    (word.initial.is_none(), word.whole)
}

/// What the pairs tell of a search of two words or more. Two words: see
/// [`pair_candidates`]. More: the best anchoring word is paired with each other word
/// (up to [`PAIRED_OTHERS`]; initials only when no other word is left), and a match is
/// among the customers of every pairing, so their candidates are intersected. "maria
/// garcia lopez" at a million customers tested the 632 rows of "maria garcia" for
/// "lopez"; with "garcia lopez" it tests the few names holding all three.
pub(super) fn read_pairs(
    conn: &mut DbConnection,
    words: &[Word],
    listed: usize,
) -> QueryResult<Option<Paired>> {
    if words.len() < 3 {
        return pair_candidates(conn, words, listed);
    }
    let pivot = (0..words.len())
        .rev()
        .max_by_key(|&i| anchor_rank(&words[i]))
        .unwrap_or(0);
    let others: Vec<&Word> = words
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != pivot)
        .map(|(_, word)| word)
        .collect();
    let named = others.iter().any(|word| word.initial.is_none());
    let mut among: Option<Vec<i64>> = None;
    for other in others
        .into_iter()
        .filter(|word| !named || word.initial.is_none())
        .take(PAIRED_OTHERS)
    {
        let two = [words[pivot].clone(), other.clone()];
        let found = match pair_candidates(conn, &two, listed)? {
            Some(Paired::Lists(_, any, _)) => any,
            Some(Paired::Candidates(candidates)) => candidates,
            None => continue,
        };
        among = Some(match among {
            Some(among) => both(&among, &found),
            None => found,
        });
    }
    Ok(among.map(Paired::Candidates))
}

/// Every customer matching the first two words, and a few that may not, found without
/// reading either word's customers; `None` when more than `listed`, or when the
/// pairs cannot tell. With `a` one of the words (a whole word if one is) and `b` the
/// other, a match has a word holding `a` and a word holding `b`, and either:
/// - its word holding `a` is `a` itself or one typo from it (an anchor), and its word
///   holding `b` is another word that starts with `b` or is one typo from it: the pair
///   terms of the anchors followed by `b` find it;
/// - or its word holding `a` is another word (`a` within it, or a longer word): read from
///   the few terms of those;
/// - or its word holding `b` holds it within (an ending): read likewise; never for an
///   initial, which starts its word.
///
/// An initial `b` starting the anchors (`maria m`) needs a second word starting with it,
/// which the pair is. A name of more words than are paired is a candidate too. A search
/// of two words found by its pairs alone is answered from them: a pair term starting with
/// both words as typed is a match as typed, any other a match with a typo. Not used while
/// rows indexed before pairs are left, nor when one word could hold both (`maria mari`),
/// nor for two initials.
fn pair_candidates(
    conn: &mut DbConnection,
    words: &[Word],
    listed: usize,
) -> QueryResult<Option<Paired>> {
    let [first, second, ..] = words else {
        return Ok(None);
    };
    let (a, b) = if anchor_rank(second) > anchor_rank(first) {
        (second, first)
    } else {
        (first, second)
    };
    // One anchor word could hold both. An initial stands for a word of its own when the
    // typed anchor starts with it (`maria m`: a second word starting with "m"), and may
    // start the anchor's word otherwise (`aria m`, Maria): a pair tells either only when
    // every anchor starts with the initial as the typed one does.
    let holds_b = |word: &str| match b.initial {
        Some(_) => {
            let initial = b.typed.as_str();
            word.starts_with(initial) != a.typed.starts_with(initial)
        }
        None => word.contains(b.typed.as_str()),
    };
    let unpaired: Option<CustomerId> = either_backend!(&mut *conn, c => customers::table
        .filter(super::indexed_before(PAIRS_VERSION))
        .select(customers::id)
        .first(c)
        .optional())?;
    let anchors: Vec<&str> = std::iter::once(a.typed.as_str())
        .chain(a.near.iter().map(String::as_str))
        .collect();
    if unpaired.is_some()
        || a.initial.is_some()
        || anchors
            .iter()
            .any(|x| holds_b(x) || b.near.iter().any(|n| n == x))
    {
        return Ok(None);
    }
    let (whole, part) = (TermKind::NameWord.code(), TermKind::NamePart.code());
    // `a` within a word, a longer word starting with `a`, and `b` within a word: read
    // first, since too many of them leave the pairs unable to tell ("john s" at a million
    // customers: Johnson, past the bound after the pairs of "john s…" had been read).
    // A range found too long by an earlier search is not read again (see `ranges`).
    let mut candidates = Vec::new();
    let (wholes, parts) = ([whole], [part]);
    let mut others = vec![
        (
            Span {
                kinds: &parts,
                start: Start::From,
            },
            a.typed.as_str(),
        ),
        (
            Span {
                kinds: &wholes,
                start: Start::After,
            },
            a.typed.as_str(),
        ),
    ];
    if b.initial.is_none() {
        others.push((
            Span {
                kinds: &parts,
                start: Start::From,
            },
            b.typed.as_str(),
        ));
    }
    if remembered_common(conn, &others, listed)? {
        return Ok(None);
    }
    for (span, word) in others {
        let found = terms_starting(conn, span.kinds[0], word, span.start, listed as i64 + 1)?;
        if found.len() > listed {
            remember_common(conn, span, word, listed)?;
            return Ok(None);
        }
        candidates.extend(found);
    }
    // Each anchor's range read on its own, and the exact terms together: PostgreSQL reads
    // one range from its pair index alone, where ranges joined by OR became a bitmap
    // visiting a table page per match. A range holds hundreds of rows for a common name
    // at a million customers ("maria garc" 632): each is read as an id and a time on the
    // backend's own connection, the time by `Stamp`, and the term left in the index (the
    // first anchor's range is exactly the matches as typed).
    let pair = TermKind::NamePair.code();
    let mut exact = vec![MANY_WORDS.to_owned()];
    let mut ranges = Vec::new();
    for anchor in &anchors {
        // A near word starting with `b` is in the anchor's range already.
        exact.extend(
            b.near
                .iter()
                .filter(|n| !n.starts_with(b.typed.as_str()))
                .map(|n| format!("{anchor} {n}")),
        );
        let start = format!("{anchor} {}", b.typed);
        let end = prefix_end(&start);
        ranges.push((start, end));
    }
    let (mut typed, mut any) = (Vec::new(), Vec::new());
    // Pairs written before they carried times (by an older release) leave them unknown.
    let mut times = Some(Vec::new());
    let mut add = |customer: i64, created: MaybeStamp| {
        any.push(customer);
        times = times.take().zip(created.0).map(|(mut times, at)| {
            times.push((customer, at.and_utc().timestamp_micros()));
            times
        });
    };
    let mut read = 0;
    for (i, (start, end)) in ranges.into_iter().enumerate() {
        let room = (listed + 1 - read) as i64;
        let found: Vec<(i64, MaybeStamp)> = either_backend!(&mut *conn, c => customer_terms::table
            .filter(customer_terms::kind.eq(pair))
            .filter(customer_terms::term.ge(start))
            .filter(customer_terms::term.lt(end))
            .select((customer_terms::customer_id, customer_terms::created_at))
            .limit(room)
            .load(c))?;
        read += found.len();
        if read > listed {
            return Ok(None);
        }
        if i == 0 {
            typed.extend(found.iter().map(|(customer, _)| *customer));
        }
        for (customer, created) in found {
            add(customer, created);
        }
    }
    let room = (listed + 1 - read) as i64;
    let found: Vec<(String, i64, MaybeStamp)> =
        among_backend!(&mut *conn, customer_terms::term, &exact, |c, among| {
            customer_terms::table
                .filter(customer_terms::kind.eq(pair))
                .filter(among)
                .select((
                    customer_terms::term,
                    customer_terms::customer_id,
                    customer_terms::created_at,
                ))
                .limit(room)
                .load(c)
        })?;
    if read + found.len() > listed {
        return Ok(None);
    }
    for (term, customer, created) in found {
        if term == MANY_WORDS {
            candidates.push(customer);
        } else {
            add(customer, created);
        }
    }
    if candidates.is_empty() && words.len() == 2 {
        let times = times.map(|mut times| {
            times.sort_unstable();
            times.dedup_by_key(|(customer, _)| *customer);
            times
        });
        return Ok(Some(Paired::Lists(ascending(typed), ascending(any), times)));
    }
    candidates.extend(any);
    let candidates = ascending(candidates);
    Ok((candidates.len() <= listed).then_some(Paired::Candidates(candidates)))
}
