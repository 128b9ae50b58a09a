//! The search index of customers (`customer_terms`) and the sort keys kept on each row,
//! written whenever what they come from changes. See `domain::search` for the rules.

use diesel::prelude::*;

use super::DbConnection;
use super::customers::{Backend, Customer};
use super::schema::{customer_terms, customers};
use super::types::CustomerId;
use crate::domain::search::{FuzzyQuery, SEARCH_VERSION, TermKind, fold, prefix_end, terms};

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
        .filter(|b| b.search_version == SEARCH_VERSION)
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
            customers::search_version.eq(SEARCH_VERSION),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes a customer's search terms by their keys: the index is keyed by term first, so
/// a delete by customer alone would read all of it. Rows indexed by older rules (whose
/// terms this version cannot name) are removed by that read instead.
pub fn remove_terms(conn: &mut DbConnection, customer: &Customer) -> QueryResult<()> {
    if customer.search_version != SEARCH_VERSION {
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
        if pending.iter().any(|c| c.search_version > 0) {
            // Older rules wrote terms this version cannot reproduce: start over.
            diesel::delete(customer_terms::table).execute(conn)?;
            diesel::update(customers::table)
                .set(customers::search_version.eq(0))
                .execute(conn)?;
        }
        for customer in &pending {
            index_customer(conn, None, customer)?;
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
/// each listed row instead (`LIKE` on the folded name or the ID), without typos.
pub const COLLECT_AT_MOST: usize = 60_000;

/// The most ids a query passes as a list (SQLite binds each; its limit is 32,766): a search
/// matching more is tested row by row instead.
const LIST_AT_MOST: usize = 30_000;

/// A fuzzy search resolved against the index once per request: the ids matching the
/// uncommon words (collected and intersected here), and the common words left to test.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// On the customer ID instead of the name.
    pub id: bool,
    /// The whole query folded.
    pub exact: String,
    /// Ids matching every uncommon word without a typo; `None` when every word is common.
    pub partial: Option<Vec<CustomerId>>,
    /// Ids matching every uncommon word, at least one only with a typo.
    pub typo: Vec<CustomerId>,
    /// Common words.
    pub common: Vec<String>,
}

fn collect(query: IdQueryOf, limit: usize, conn: &mut DbConnection) -> QueryResult<Vec<i64>> {
    query.limit(limit as i64 + 1).load(conn)
}

type IdQueryOf = customer_terms::BoxedQuery<'static, Backend, diesel::sql_types::BigInt>;

/// Resolves a fuzzy search on the name (or, with `id`, the customer ID).
pub fn plan(conn: &mut DbConnection, search: &FuzzyQuery, id: bool) -> QueryResult<Plan> {
    plan_collecting(conn, search, id, COLLECT_AT_MOST)
}

/// [`plan`] with another bound on what is collected (tests use a tiny one).
pub fn plan_collecting(
    conn: &mut DbConnection,
    search: &FuzzyQuery,
    id: bool,
    at_most: usize,
) -> QueryResult<Plan> {
    use std::collections::HashSet;
    let (whole, part) = TermKind::for_field(id);
    let mut partial_all: Option<HashSet<i64>> = None;
    let mut any_all: Option<HashSet<i64>> = None;
    let mut common = Vec::new();
    for word in &search.words {
        let contains = customer_terms::table
            .filter(customer_terms::kind.eq_any([whole.code(), part.code()]))
            .filter(customer_terms::term.ge(word.clone()))
            .filter(customer_terms::term.lt(prefix_end(word)))
            .select(customer_terms::customer_id)
            .into_boxed();
        let partial = collect(contains, at_most, conn)?;
        if partial.len() > at_most {
            common.push(word.clone());
            continue;
        }
        let variants = FuzzyQuery::typo_variants(word);
        let typo = if variants.is_empty() {
            Vec::new()
        } else {
            let near = customer_terms::table
                .filter(customer_terms::kind.eq(whole.code()))
                .filter(customer_terms::term.eq_any(variants))
                .select(customer_terms::customer_id)
                .into_boxed();
            collect(near, at_most, conn)?
        };
        if partial.len() + typo.len() > at_most {
            common.push(word.clone());
            continue;
        }
        let partial: HashSet<i64> = partial.into_iter().collect();
        let mut any = partial.clone();
        any.extend(typo);
        partial_all = Some(match partial_all {
            None => partial,
            Some(previous) => previous.intersection(&partial).copied().collect(),
        });
        any_all = Some(match any_all {
            None => any,
            Some(previous) => previous.intersection(&any).copied().collect(),
        });
    }
    if any_all.as_ref().is_some_and(|any| any.len() > LIST_AT_MOST) {
        // Too many matches to list: every word is tested on the rows instead.
        return Ok(Plan {
            id,
            exact: search.folded.clone(),
            partial: None,
            typo: Vec::new(),
            common: search.words.clone(),
        });
    }
    let typo = match (&any_all, &partial_all) {
        (Some(any), Some(partial)) => any.difference(partial).map(|i| CustomerId(*i)).collect(),
        _ => Vec::new(),
    };
    Ok(Plan {
        id,
        exact: search.folded.clone(),
        partial: partial_all.map(|set| set.into_iter().map(CustomerId).collect()),
        typo,
        common,
    })
}

/// Restricts `query` to the customers matching a planned search; with a `tier`, to the
/// ones matching that well and no better.
pub fn restrict(
    mut query: customers::BoxedQuery<'static, Backend>,
    plan: &Plan,
    tier: Option<Tier>,
) -> customers::BoxedQuery<'static, Backend> {
    for word in &plan.common {
        // Folded words are letters and digits only: nothing to escape.
        query = if plan.id {
            query.filter(customers::public_id.like(format!("%{}%", word.to_uppercase())))
        } else {
            query.filter(customers::sort_name.like(format!("%{word}%")))
        };
    }
    let exact = plan.exact.clone();
    let not_exact = |query: customers::BoxedQuery<'static, Backend>| {
        if plan.id {
            query.filter(customers::public_id.ne(exact.to_uppercase()))
        } else {
            query.filter(customers::sort_name.ne(exact.clone()))
        }
    };
    match tier {
        None => match &plan.partial {
            Some(partial) => {
                let mut all = partial.clone();
                all.extend(plan.typo.iter().copied());
                query.filter(customers::id.eq_any(all))
            }
            None => query,
        },
        Some(Tier::Exact) => {
            let query = match &plan.partial {
                Some(partial) => query.filter(customers::id.eq_any(partial.clone())),
                None => query,
            };
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
            Some(partial) => not_exact(query).filter(customers::id.eq_any(partial.clone())),
            None => not_exact(query),
        },
        Some(Tier::Typo) => match &plan.partial {
            Some(_) => not_exact(query).filter(customers::id.eq_any(plan.typo.clone())),
            // Common words are matched without typos: nothing in this tier.
            None => query.filter(customers::id.lt(CustomerId(0))),
        },
    }
}
