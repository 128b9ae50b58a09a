//! The search index of customers (`customer_terms`) and the sort keys kept on each row,
//! written whenever what they come from changes. See `domain::search` for the rules.

use diesel::prelude::*;

use super::DbConnection;
use super::customers::{Backend, Customer};
use super::schema::{customer_terms, customers};
use crate::domain::search::{FuzzyQuery, SEARCH_VERSION, TermKind, fold, prefix_end, terms};

type Terms = std::collections::BTreeSet<(i16, String)>;

fn terms_of(customer: &Customer) -> Terms {
    terms(
        customer.name.as_deref(),
        customer.nickname.as_deref(),
        &customer.public_id,
    )
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
        match conn {
            DbConnection::Sqlite(c) => diesel::insert_into(customer_terms::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConnection::Postgresql(c) => diesel::insert_into(customer_terms::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    }
    diesel::update(customers::table.find(after.id))
        .set((
            customers::sort_name.eq(fold(&after.display_name())),
            customers::search_version.eq(SEARCH_VERSION),
        ))
        .execute(conn)?;
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

/// Ids whose name (or ID) has a word starting with `word` (so containing it), or a whole
/// word among `variants` (one typo away). Not boxed: it is a subquery of a boxed query.
#[diesel::dsl::auto_type(no_type_alias)]
fn word_matches(
    kinds: Vec<i16>,
    whole: i16,
    word: String,
    end: String,
    variants: Vec<String>,
) -> _ {
    customer_terms::table
        .filter(
            customer_terms::kind
                .eq_any(kinds)
                .and(customer_terms::term.ge(word))
                .and(customer_terms::term.lt(end))
                .or(customer_terms::kind
                    .eq(whole)
                    .and(customer_terms::term.eq_any(variants))),
        )
        .select(customer_terms::customer_id)
}

/// `word_matches` for a query word on the name (or, with `id`, the customer ID).
macro_rules! matching_ids {
    ($word:expr, $id:expr, $typos:expr) => {{
        let (whole, part) = TermKind::for_field($id);
        let word: &str = $word;
        let variants = if $typos {
            FuzzyQuery::typo_variants(word)
        } else {
            Vec::new()
        };
        word_matches(
            vec![whole.code(), part.code()],
            whole.code(),
            word.to_owned(),
            prefix_end(word),
            variants,
        )
    }};
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

    /// From the cursor form.
    pub fn from_code(code: u8) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| *t as u8 == code)
    }
}

/// Restricts `query` to the customers matching the fuzzy `search`; with a `tier`, to the
/// ones matching that well and no better.
pub fn restrict(
    mut query: customers::BoxedQuery<'static, Backend>,
    search: &FuzzyQuery,
    id: bool,
    tier: Option<Tier>,
) -> customers::BoxedQuery<'static, Backend> {
    let any_word = |mut query: customers::BoxedQuery<'static, Backend>| {
        for word in &search.words {
            query = query.filter(customers::id.eq_any(matching_ids!(word, id, true)));
        }
        query
    };
    let Some(tier) = tier else {
        return any_word(query);
    };
    let exact = search.folded.clone();
    match (tier, id) {
        // An exact name or ID matches every word: no index lookups needed.
        (Tier::Exact, false) => query.filter(
            customers::sort_name.eq(exact).and(
                customers::name
                    .is_not_null()
                    .or(customers::nickname.is_not_null()),
            ),
        ),
        (Tier::Exact, true) => query.filter(customers::public_id.eq(exact.to_uppercase())),
        (other, _) => {
            query = if id {
                query.filter(customers::public_id.ne(exact.to_uppercase()))
            } else {
                query.filter(customers::sort_name.ne(exact))
            };
            if other == Tier::Partial {
                // Every word found without a typo (which implies the any-match).
                for word in &search.words {
                    query = query.filter(customers::id.eq_any(matching_ids!(word, id, false)));
                }
                query
            } else {
                query = any_word(query);
                // Not every word matched without a typo.
                let mut missing: Option<
                    Box<
                        dyn BoxableExpression<
                                customers::table,
                                Backend,
                                SqlType = diesel::sql_types::Bool,
                            >,
                    >,
                > = None;
                for word in &search.words {
                    let condition = customers::id.ne_all(matching_ids!(word, id, false));
                    missing = Some(match missing {
                        None => Box::new(condition),
                        Some(previous) => Box::new(previous.or(condition)),
                    });
                }
                match missing {
                    Some(condition) => query.filter(condition),
                    None => query,
                }
            }
        }
    }
}
