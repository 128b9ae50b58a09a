//! The search index of customers (`customer_terms`) and the sort keys kept on each row,
//! written whenever what they come from changes. See `domain::search` for the rules.

use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::DbConnection;
use super::customers::{Backend, Customer};
use super::schema::{customer_terms, customers};
use super::types::CustomerId;
use crate::domain::search::{
    FuzzyQuery, SEARCH_VERSION, TERMS_VERSION, TermKind, fold, prefix_end, search_text, terms,
};

type Terms = std::collections::BTreeSet<(i16, String)>;

fn terms_of(customer: &Customer) -> Terms {
    terms(
        customer.name.as_deref(),
        customer.nickname.as_deref(),
        &customer.public_id,
    )
}

/// Whether a standard property feeds the display name (and so the name sort and the
/// search terms).
pub fn feeds_display_name(key: &str) -> bool {
    matches!(key, "name" | "nickname" | "email" | "phone")
}

/// The name sort's key of a customer.
pub fn sort_name(customer: &Customer) -> String {
    fold(&customer.display_name())
}

/// Indexes customers that are about to be inserted: fills their sort name and rules
/// version in place, writes their search terms (a few thousand per statement) and queues
/// them for the duplicates check.
pub fn index_new(conn: &mut DbConnection, customers: &mut [Customer]) -> QueryResult<()> {
    let mut rows = Vec::new();
    for customer in customers.iter_mut() {
        customer.sort_name = sort_name(customer);
        customer.search_text = search_text(customer.name.as_deref(), customer.nickname.as_deref());
        customer.search_version = SEARCH_VERSION;
        for (kind, term) in terms_of(customer) {
            rows.push((
                customer_terms::kind.eq(kind),
                customer_terms::term.eq(term),
                customer_terms::customer_id.eq(customer.id.0),
            ));
        }
    }
    for chunk in rows.chunks(super::rows_per_insert(3)) {
        either_backend!(&mut *conn, c => diesel::insert_into(customer_terms::table)
            .values(chunk)
            .execute(c)?);
    }
    let ids: Vec<CustomerId> = customers.iter().map(|c| c.id).collect();
    super::duplicate_checks::queue_checks(conn, &ids)
}

/// Re-indexes a customer after a change: `before` is the row as it was (its terms are
/// replaced), `None` for a row never indexed by the current rules.
pub fn index_customer(
    conn: &mut DbConnection,
    before: Option<&Customer>,
    after: &Customer,
) -> QueryResult<()> {
    let old = before
        .filter(|b| b.search_version >= TERMS_VERSION)
        .map(terms_of)
        .unwrap_or_default();
    let new = terms_of(after);
    for (kind, term) in old.difference(&new) {
        diesel::delete(customer_terms::table.find((*kind, term, after.id.0))).execute(conn)?;
    }
    let rows: Vec<_> = new
        .difference(&old)
        .map(|(kind, term)| {
            (
                customer_terms::kind.eq(*kind),
                customer_terms::term.eq(term.as_str()),
                customer_terms::customer_id.eq(after.id.0),
            )
        })
        .collect();
    if !rows.is_empty() {
        either_backend!(conn, c => diesel::insert_into(customer_terms::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c)?);
    }
    diesel::update(customers::table.find(after.id))
        .set((
            customers::sort_name.eq(sort_name(after)),
            customers::search_text.eq(search_text(
                after.name.as_deref(),
                after.nickname.as_deref(),
            )),
            customers::search_version.eq(SEARCH_VERSION),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes a customer's search terms by their keys: the index is keyed by term first, so
/// a delete by customer alone would read all of it. Rows indexed by older rules (whose
/// terms this version cannot name) are removed by that read instead.
pub fn remove_terms(conn: &mut DbConnection, customer: &Customer) -> QueryResult<()> {
    if customer.search_version < TERMS_VERSION {
        diesel::delete(customer_terms::table.filter(customer_terms::customer_id.eq(customer.id.0)))
            .execute(conn)?;
        return Ok(());
    }
    for (kind, term) in terms_of(customer) {
        diesel::delete(customer_terms::table.find((kind, term, customer.id.0))).execute(conn)?;
    }
    Ok(())
}

/// Indexes up to `batch` customers that the current rules have not indexed yet (rows
/// from before the index existed, or from older rules). Returns how many it did.
pub fn index_pending(conn: &mut DbConnection, batch: i64) -> QueryResult<usize> {
    super::transaction(conn, |conn| {
        let pending: Vec<Customer> = customers::table
            .filter(customers::search_version.lt(SEARCH_VERSION))
            .select(Customer::as_select())
            .limit(batch)
            .load(conn)?;
        if pending
            .iter()
            .any(|c| c.search_version > 0 && c.search_version < TERMS_VERSION)
        {
            // Older rules wrote terms this version cannot reproduce: start over.
            diesel::delete(customer_terms::table).execute(conn)?;
            diesel::update(customers::table)
                .set(customers::search_version.eq(0))
                .execute(conn)?;
        }
        for customer in &pending {
            // Rows indexed since the terms last changed keep them.
            index_customer(conn, Some(customer), customer)?;
        }
        Ok(pending.len())
    })
}

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

/// A query word whose matches outnumber this is too common to collect: it is tested on
/// each row instead, as typed (no typos).
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
    /// The indexed whole words one typo away from it (looked up when a tier is tested
    /// row by row).
    pub near: Vec<String>,
    /// Whether the index holds a whole word one typo away from it.
    pub near_found: bool,
    /// Whether its matches were collected into the plan's lists; a word too common to
    /// collect is tested on each listed row, as typed.
    pub collected: bool,
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
    /// How many customers match, when every word was collected.
    pub matches: Option<usize>,
}

type IdQueryOf = customer_terms::BoxedQuery<'static, Backend, diesel::sql_types::BigInt>;

/// How much a plan collects and lists.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The most ids collected for a word (see [`COLLECT_AT_MOST`]).
    pub collect: usize,
    /// The most ids a tier lists; `None` for the table's break-even (see
    /// `list_at_most`).
    pub list: Option<usize>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            collect: COLLECT_AT_MOST,
            list: None,
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
    let at_most = bounds.collect;
    let (whole, part) = TermKind::for_field(id);
    let mut partial_all: Option<Vec<i64>> = None;
    let mut any_all: Option<Vec<i64>> = None;
    let mut words = Vec::new();
    for typed in &search.words {
        let mut word = Word {
            typed: typed.clone(),
            ..Word::default()
        };
        let contains: IdQueryOf = customer_terms::table
            .filter(customer_terms::kind.eq_any([whole.code(), part.code()]))
            .filter(customer_terms::term.ge(typed.clone()))
            .filter(customer_terms::term.lt(prefix_end(typed)))
            .select(customer_terms::customer_id)
            .into_boxed();
        let partial: Vec<i64> = contains.limit(at_most as i64 + 1).load(conn)?;
        let variants = FuzzyQuery::typo_variants(typed);
        let near: Vec<i64> = if partial.len() > at_most || variants.is_empty() {
            Vec::new()
        } else {
            let near: IdQueryOf = customer_terms::table
                .filter(customer_terms::kind.eq(whole.code()))
                .filter(customer_terms::term.eq_any(variants))
                .select(customer_terms::customer_id)
                .into_boxed();
            near.limit((at_most - partial.len()) as i64 + 1)
                .load(conn)?
        };
        if partial.len() + near.len() > at_most {
            words.push(word);
            continue;
        }
        word.collected = true;
        // The near words themselves are looked up only if a tier is walked.
        word.near_found = !near.is_empty();
        words.push(word);
        // Sets as sorted lists: tens of thousands of ids are sorted and merged faster
        // than they are hashed.
        let partial = ascending(partial);
        let any = ascending([partial.as_slice(), near.as_slice()].concat());
        partial_all = Some(match partial_all {
            None => partial,
            Some(previous) => both(&previous, &partial),
        });
        any_all = Some(match any_all {
            None => any,
            Some(previous) => both(&previous, &any),
        });
    }
    let mut plan = Plan {
        id,
        exact: search.folded.clone(),
        matches: any_all
            .as_ref()
            .filter(|_| words.iter().all(|w| w.collected))
            .map(Vec::len),
        words,
        partial: None,
        typo: None,
    };
    if let (Some(any), Some(partial)) = (any_all, partial_all) {
        let listed = match bounds.list {
            Some(list) => list,
            None => list_at_most(super::customers::count_everyone(conn)?),
        };
        let typo = only_first(&any, &partial);
        plan.typo = (typo.len() <= listed).then(|| typo.into_iter().map(CustomerId).collect());
        plan.partial =
            (partial.len() <= listed).then(|| partial.into_iter().map(CustomerId).collect());
    }
    if plan.partial.is_none() || plan.typo.is_none() {
        for word in plan.words.iter_mut().filter(|w| w.near_found) {
            word.near = customer_terms::table
                .filter(customer_terms::kind.eq(whole.code()))
                .filter(customer_terms::term.eq_any(FuzzyQuery::typo_variants(&word.typed)))
                .select(customer_terms::term)
                .distinct()
                .load(conn)?;
        }
    }
    Ok(plan)
}

/// Ids in ascending order, each once.
fn ascending(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The ids in both ascending lists.
fn both(a: &[i64], b: &[i64]) -> Vec<i64> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The ids of ascending list `a` that ascending list `b` lacks.
fn only_first(a: &[i64], b: &[i64]) -> Vec<i64> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|id| {
            while j < b.len() && b[j] < *id {
                j += 1;
            }
            j == b.len() || b[j] != *id
        })
        .collect()
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

/// A condition on `customers`.
type Condition = Box<dyn BoxableExpression<customers::table, Backend, SqlType = Bool>>;

impl Plan {
    /// The word contained, as typed, in the name (or the ID).
    fn typed(&self, word: &Word) -> Condition {
        // Folded words are letters and digits only: nothing to escape.
        if self.id {
            Box::new(customers::public_id.like(format!("%{}%", word.typed.to_uppercase())))
        } else {
            Box::new(customers::search_text.like(format!("%{}%", word.typed)))
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
    match tier {
        None => match (&plan.partial, &plan.typo) {
            (Some(partial), Some(typo)) => {
                let mut all = partial.clone();
                all.extend(typo.iter().copied());
                with(
                    query.filter(customers::id.eq_any(all)),
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
                not_exact(query).filter(customers::id.eq_any(partial.clone())),
                plan.uncollected_typed(),
            ),
            None => with(not_exact(query), plan.all_typed(plan.words.iter())),
        },
        Some(Tier::Typo) => match &plan.typo {
            Some(typo) => with(
                not_exact(query).filter(customers::id.eq_any(typo.clone())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_id_lists_intersect_and_subtract_as_sets_do() {
        let a = ascending(vec![9, 1, 4, 4, 7, 2]);
        let b = ascending(vec![4, 10, 2, 8, 9]);
        assert_eq!(a, vec![1, 2, 4, 7, 9]);
        assert_eq!(both(&a, &b), vec![2, 4, 9]);
        assert_eq!(only_first(&a, &b), vec![1, 7]);
        assert_eq!(only_first(&a, &[]), a);
        assert!(both(&a, &[]).is_empty());
    }
}
