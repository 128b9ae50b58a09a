use diesel::prelude::*;

use super::collect::{Round, collect};
use super::pairs::{Paired, read_pairs};
use super::sorted::{both, only_first};
use crate::db::DbConnection;
use crate::db::among::{Condition, customer_among};
use crate::db::customers::Backend;
use crate::db::schema::{customer_terms, customers, name_word_keys};
use crate::db::types::CustomerId;
use crate::domain::search::{FuzzyQuery, TermKind, one_edit_apart, typo_keys};

/// How well a customer matches a fuzzy query; results are listed tier by tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// The whole name (or ID) equals the query.
    Exact = 0,
    /// Every query word is found in the name, none needed a typo.
    Partial = 1,
    /// At least one word matched only with a typo.
    Typo = 2,
}

impl Tier {
    /// In ranking order.
    pub const ALL: [Tier; 3] = [Tier::Exact, Tier::Partial, Tier::Typo];
}

/// A fuzzy search of two words or more is first looked up by word pairs; when the pairs
/// cannot tell, or for one word, each word's matches are collected within the listing
/// bound (see [`list_at_most`]), and when every word is more common than that, up to this
/// many and intersected. A word more common still is tested on each row.
pub const COLLECT_AT_MOST: usize = 60_000;

/// The most ids a query passes as a list (SQLite binds each; its limit is 32,766).
const LIST_AT_MOST: usize = 30_000;

/// Rows a page is assumed to need when choosing between a list and a walk.
const PAGE_ROWS: f64 = 26.0;

/// A query word resolved against the index.
#[derive(Debug, Clone, Default)]
pub struct Word {
    /// As typed, folded.
    pub typed: String,
    /// The whole words of the index one typo away from it.
    pub near: Vec<String>,
    /// Whether some name holds it as a whole word.
    pub whole: bool,
    /// Whether its matches were collected into the plan's lists; a word too common to
    /// collect is tested on each listed row, as typed.
    pub collected: bool,
    /// For a name's initial, how many of the name's words must start with it (see
    /// [`FuzzyQuery::is_initial`] and [`FuzzyQuery::initial_needs`]).
    pub initial: Option<usize>,
}

impl Word {
    /// The `LIKE` pattern of a search text holding the word as typed.
    fn typed_pattern(&self) -> String {
        // Each word of the search text follows a space.
        match self.initial {
            Some(needs) => format!("%{}", format!(" {}%", self.typed).repeat(needs)),
            None => format!("%{}%", self.typed),
        }
    }

    /// Whether a search text holds the word as typed.
    fn typed_in(&self, search_text: &str) -> bool {
        match self.initial {
            Some(needs) => {
                let starting = search_text
                    .split(' ')
                    .filter(|w| w.starts_with(&self.typed));
                starting.count() >= needs
            }
            None => search_text.contains(self.typed.as_str()),
        }
    }
}

/// A fuzzy search resolved against the index once per request. Each tier is either a
/// list of ids (few matches: the database reads those rows and sorts them) or `None`,
/// tested row by row on the search text while walking the sort's index (many matches: a
/// page is found within a few thousand rows, where listing would pass tens of thousands
/// of ids).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// On the customer ID instead of the name.
    pub id: bool,
    /// The whole query folded.
    pub exact: String,
    /// The query's words.
    pub words: Vec<Word>,
    /// Ids matching every collected word as typed.
    pub partial: Option<Vec<CustomerId>>,
    /// Ids matching every collected word, at least one only with a typo.
    pub typo: Option<Vec<CustomerId>>,
    /// Ids among which every match is (found by word pairs): each tier tests these rows
    /// for all words.
    pub candidates: Option<Vec<CustomerId>>,
    /// How many customers match, when every word was collected.
    pub matches: Option<usize>,
    /// Each match's creation time in microseconds, by id, when the word pairs carried
    /// them: the newest matches are then found without reading every match's row.
    pub created: Option<Vec<(CustomerId, i64)>>,
    /// Whether the matches were found by word pairs.
    pub paired: bool,
    /// Whether the database is SQLite (how a list of ids is passed).
    pub sqlite: bool,
}

pub(super) type IdQueryOf = customer_terms::BoxedQuery<'static, Backend, diesel::sql_types::BigInt>;

/// How much a plan collects and lists.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The most ids collected for a word when pairs cannot serve (see
    /// [`COLLECT_AT_MOST`]).
    pub collect: usize,
    /// The most ids a tier lists; `None` for the table's break-even (see
    /// `list_at_most`).
    pub list: Option<usize>,
    /// A word with more matches than this is common: collected up to `collect` when
    /// every word is; `None` for `list`.
    pub common: Option<usize>,
    /// Whether several words are looked up by pairs (the duplicates check reads only the
    /// lists: a common name is no sign of a duplicate).
    pub pairs: bool,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            collect: COLLECT_AT_MOST,
            list: None,
            common: None,
            pairs: true,
        }
    }
}

/// Resolves a fuzzy search on the name (or, with `id`, the customer ID).
pub fn plan(conn: &mut DbConnection, search: &FuzzyQuery, id: bool) -> QueryResult<Plan> {
    plan_within(conn, search, id, Bounds::default())
}

/// [`plan`] within other bounds (tests use tiny ones, to take every path).
pub fn plan_within(
    conn: &mut DbConnection,
    search: &FuzzyQuery,
    id: bool,
    bounds: Bounds,
) -> QueryResult<Plan> {
    let listed = match bounds.list {
        Some(list) => list,
        None => list_at_most(crate::db::customers::count_everyone(conn)?),
    };
    let common = bounds.common.unwrap_or(listed);
    let mut plan = Plan {
        id,
        exact: search.folded.clone(),
        sqlite: crate::db::among::is_sqlite(conn),
        ..Plan::default()
    };
    for typed in &search.words {
        // A word typed twice is one condition (an initial typed twice needs two words:
        // its count says so). Twice, PostgreSQL took the two as independent and
        // estimated their matches at one row, then sorted them all instead of walking.
        if plan.words.iter().any(|w| &w.typed == typed) {
            continue;
        }
        let (whole, near) = known_words(conn, typed, id)?;
        plan.words.push(Word {
            typed: typed.clone(),
            near,
            whole,
            collected: false,
            initial: (!id && FuzzyQuery::is_initial(typed)).then(|| search.initial_needs(typed)),
        });
    }
    // Two words or more: their pairs first. They answer exactly whenever they can tell,
    // rare words or common, without testing how common each word is.
    let paired = if !id && bounds.pairs && plan.words.len() >= 2 {
        read_pairs(conn, &plan.words, listed)?
    } else {
        None
    };
    plan.paired = paired.is_some();
    let mut lists = Vec::new();
    match paired {
        Some(Paired::Lists(typed, any, times)) => {
            for word in plan.words.iter_mut() {
                word.collected = true;
            }
            plan.created = times.map(|times| {
                times
                    .into_iter()
                    .map(|(customer, at)| (CustomerId(customer), at))
                    .collect()
            });
            lists.push((typed, any));
        }
        Some(Paired::Candidates(candidates)) => {
            plan.candidates = Some(candidates.into_iter().map(CustomerId).collect());
            return Ok(plan);
        }
        None => {
            lists = collect(conn, &mut plan, Round::Listed(common))?;
            if lists.is_empty() && plan.words.len() >= 2 && bounds.collect > common {
                lists = collect(conn, &mut plan, Round::Past(bounds.collect))?;
            }
        }
    }
    let mut lists = lists.into_iter();
    let Some((mut partial, mut any)) = lists.next() else {
        return Ok(plan);
    };
    for (more_partial, more_any) in lists {
        partial = both(&partial, &more_partial);
        any = both(&any, &more_any);
    }
    if plan.words.iter().all(|w| w.collected) {
        plan.matches = Some(any.len());
    }
    let typo = only_first(&any, &partial);
    plan.typo = (typo.len() <= listed).then(|| typo.into_iter().map(CustomerId).collect());
    plan.partial = (partial.len() <= listed).then(|| partial.into_iter().map(CustomerId).collect());
    Ok(plan)
}

/// Whether a query word is a whole word of some name (always false for the ID), and the
/// whole words of the index one typo away from it.
fn known_words(conn: &mut DbConnection, typed: &str, id: bool) -> QueryResult<(bool, Vec<String>)> {
    let typos = FuzzyQuery::tolerates_typo(typed);
    if id {
        let variants = FuzzyQuery::typo_variants(typed);
        if variants.is_empty() {
            return Ok((false, Vec::new()));
        }
        let near = among_backend!(conn, customer_terms::term, &variants, |c, among| {
            customer_terms::table
                .filter(customer_terms::kind.eq(TermKind::IdWord.code()))
                .filter(among)
                .select(customer_terms::term)
                .distinct()
                .load(c)
        })?;
        return Ok((false, near));
    }
    // A word's typos are among the words sharing one of its keys (`name_word_keys`).
    let keys: Vec<String> = if typos {
        typo_keys(typed).into_iter().collect()
    } else {
        vec![typed.to_owned()]
    };
    // On each backend's own connection, with the keys as one value: the statement stays
    // prepared whatever their number.
    let found: Vec<String> = among_backend!(conn, name_word_keys::key, &keys, |c, among| {
        name_word_keys::table
            .filter(among)
            .select(name_word_keys::word)
            .load(c)
    })?;
    let whole = found.iter().any(|w| w == typed);
    let near: std::collections::BTreeSet<String> = found
        .into_iter()
        .filter(|w| typos && one_edit_apart(typed, w))
        .collect();
    Ok((whole, near.into_iter().collect()))
}

/// The most candidates worth listing, for a table of `everyone` customers; above it, a
/// condition is tested row by row along the sort's index. A list costs the database
/// about its length; a walk about the page times the share of customers that do not
/// match, at a similar cost a row. They break even near √(page × everyone): about 5,000
/// at a million customers, 500 at ten thousand. Used for search tiers, tags and property
/// conditions alike.
pub fn list_at_most(everyone: i64) -> usize {
    let even = (PAGE_ROWS * everyone.max(0) as f64).sqrt() as usize;
    even.clamp(500, LIST_AT_MOST)
}

impl Plan {
    /// The word contained, as typed, in the name (or the ID).
    fn typed(&self, word: &Word) -> Condition {
        // Folded words are letters and digits only: nothing to escape.
        if self.id {
            return Box::new(customers::public_id.like(format!("%{}%", word.typed.to_uppercase())));
        }
        let like = customers::search_text.like(word.typed_pattern());
        match word.initial {
            // PostgreSQL estimates `LIKE` by the pattern's letters alone, a fifth each:
            // an initial needing two words, `% m% m%`, came to a thousandth of the table,
            // and a page by creation then scanned the table and sorted every match ("ma
            // m" at a million customers: 174 ms) instead of walking the creation index
            // (1.7 ms). Inside a `coalesce` the estimate is half the table. Other words
            // keep theirs: a typo tier walked as though half the table matched was slower.
            Some(needs) if needs > 1 => Box::new(crate::db::coalesce_bool(like.nullable(), false)),
            _ => Box::new(like),
        }
    }

    /// A word of the name (or the ID) one typo away from the word; `None` when the index
    /// holds none.
    fn near(&self, word: &Word) -> Option<Condition> {
        if word.near.is_empty() {
            return None;
        }
        if self.id {
            let ids: Vec<String> = word.near.iter().map(|n| n.to_uppercase()).collect();
            return Some(Box::new(customers::public_id.eq_any(ids)));
        }
        word.near.iter().fold(None, |any: Option<Condition>, near| {
            let this = customers::search_text.like(format!("% {near} %"));
            Some(match any {
                None => Box::new(this),
                Some(any) => Box::new(any.or(this)),
            })
        })
    }

    /// Every word contained as typed.
    fn all_typed<'w>(&self, words: impl Iterator<Item = &'w Word>) -> Option<Condition> {
        words.fold(None, |all: Option<Condition>, word| {
            let this = self.typed(word);
            Some(match all {
                None => this,
                Some(all) => Box::new(all.and(this)),
            })
        })
    }

    /// Every word contained as typed or found one typo away.
    fn all_matched(&self) -> Option<Condition> {
        self.words
            .iter()
            .fold(None, |all: Option<Condition>, word| {
                let typed = self.typed(word);
                let this: Condition = match self.near(word) {
                    Some(near) => Box::new(typed.or(near)),
                    None => typed,
                };
                Some(match all {
                    None => this,
                    Some(all) => Box::new(all.and(this)),
                })
            })
    }

    /// The words too common to collect, each contained as typed.
    fn uncollected_typed(&self) -> Option<Condition> {
        self.all_typed(self.words.iter().filter(|w| !w.collected))
    }
}

/// `query` narrowed by `condition`, if there is one.
fn with(
    query: customers::BoxedQuery<'static, Backend>,
    condition: Option<Condition>,
) -> customers::BoxedQuery<'static, Backend> {
    match condition {
        Some(condition) => query.filter(condition),
        None => query,
    }
}

/// What [`Plan::tier_of`] reads of a customer that matched the plan.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub id: CustomerId,
    pub sort_name: String,
    /// Whether the customer has a name or a nickname (an exact match needs one).
    pub named: bool,
    pub search_text: String,
    pub public_id: String,
}

impl Plan {
    /// Whether the plan's tiers can be told from a matching row's columns: every match
    /// is listed (tiers by list) or among listed candidates (tiers by the words as typed).
    pub fn tiers_listed(&self) -> bool {
        self.candidates.is_some() || (self.partial.is_some() && self.typo.is_some())
    }

    /// The tier [`restrict`] lists a customer in, for a customer the plan matches (the
    /// query `restrict` builds without a tier), worked out from its columns; `None` for
    /// a match no tier lists (its sort name equals the query, but it has no name). Only
    /// for a plan whose [`tiers_listed`](Plan::tiers_listed).
    pub fn tier_of(&self, row: &Ranked) -> Option<Tier> {
        if self.id {
            if row.public_id == self.exact.to_uppercase() {
                return Some(Tier::Exact);
            }
        } else if row.sort_name == self.exact {
            return row.named.then_some(Tier::Exact);
        }
        let typed = |word: &Word| {
            if self.id {
                row.public_id.contains(&word.typed.to_uppercase())
            } else {
                word.typed_in(&row.search_text)
            }
        };
        let partial = match (&self.candidates, &self.partial) {
            (Some(_), _) => self.words.iter().all(typed),
            // Matches by list are listed with their uncollected words as typed.
            (None, Some(partial)) => partial.binary_search(&row.id).is_ok(),
            (None, None) => return None,
        };
        Some(if partial { Tier::Partial } else { Tier::Typo })
    }
}

/// Restricts `query` to the customers matching a planned search; with a `tier`, to the
/// ones matching that well and no better.
pub fn restrict(
    query: customers::BoxedQuery<'static, Backend>,
    plan: &Plan,
    tier: Option<Tier>,
) -> customers::BoxedQuery<'static, Backend> {
    let exact = plan.exact.clone();
    let not_exact = |query: customers::BoxedQuery<'static, Backend>| {
        if plan.id {
            query.filter(customers::public_id.ne(exact.to_uppercase()))
        } else {
            query.filter(customers::sort_name.ne(exact.clone()))
        }
    };
    if let (Some(candidates), Some(matched), Some(typed)) = (
        &plan.candidates,
        plan.all_matched(),
        plan.all_typed(plan.words.iter()),
    ) && tier != Some(Tier::Exact)
    {
        let listed = query.filter(customer_among(candidates, plan.sqlite));
        return match tier {
            Some(Tier::Partial) => not_exact(listed).filter(typed),
            Some(Tier::Typo) => not_exact(listed)
                .filter(matched)
                .filter(diesel::dsl::not(typed)),
            _ => listed.filter(matched),
        };
    }
    match tier {
        None => match (&plan.partial, &plan.typo) {
            (Some(partial), Some(typo)) => {
                let mut all = partial.clone();
                all.extend(typo.iter().copied());
                with(
                    query.filter(customer_among(&all, plan.sqlite)),
                    plan.uncollected_typed(),
                )
            }
            _ => with(query, plan.all_matched()),
        },
        Some(Tier::Exact) => {
            if plan.id {
                query.filter(customers::public_id.eq(plan.exact.to_uppercase()))
            } else {
                query.filter(
                    customers::sort_name.eq(plan.exact.clone()).and(
                        customers::name
                            .is_not_null()
                            .or(customers::nickname.is_not_null()),
                    ),
                )
            }
        }
        Some(Tier::Partial) => match &plan.partial {
            Some(partial) => with(
                not_exact(query).filter(customer_among(partial, plan.sqlite)),
                plan.uncollected_typed(),
            ),
            None => with(not_exact(query), plan.all_typed(plan.words.iter())),
        },
        Some(Tier::Typo) => match &plan.typo {
            Some(typo) => with(
                not_exact(query).filter(customer_among(typo, plan.sqlite)),
                plan.uncollected_typed(),
            ),
            None => match (plan.all_matched(), plan.all_typed(plan.words.iter())) {
                // No word has a near match: nothing in this tier.
                _ if plan.words.iter().all(|w| w.near.is_empty()) => {
                    query.filter(customers::id.lt(CustomerId(0)))
                }
                (Some(matched), Some(typed)) => not_exact(query)
                    .filter(matched)
                    .filter(diesel::dsl::not(typed)),
                _ => query.filter(customers::id.lt(CustomerId(0))),
            },
        },
    }
}
