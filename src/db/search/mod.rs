//! The search index of customers (`customer_terms`, with the words it holds in
//! `name_words`) and the sort keys kept on each row, written whenever what they come from
//! changes. See `domain::search` for the rules, and `plan` for how a search reads them.

mod collect;
mod pairs;
mod plan;
mod ranges;
mod sorted;

pub use plan::{
    Bounds, COLLECT_AT_MOST, Plan, Ranked, Tier, Word, list_at_most, plan, plan_within, restrict,
};

use diesel::prelude::*;

use super::DbConnection;
use super::customers::Customer;
use super::kept;
use super::schema::{customer_terms, customers, name_word_keys, name_words};
use super::types::CustomerId;
use crate::domain::search::{
    PAIRS_VERSION, SEARCH_VERSION, TERMS_VERSION, TermKind, fold, search_text, terms, typo_keys,
};

type Terms = std::collections::BTreeSet<(i16, String)>;

fn terms_of(customer: &Customer) -> Terms {
    terms(
        customer.name.as_deref(),
        customer.nickname.as_deref(),
        &customer.public_id,
    )
}

/// The terms a row holds, by the rules of the version that indexed it.
fn terms_held(customer: &Customer) -> Terms {
    if customer.search_version < TERMS_VERSION {
        return Terms::new();
    }
    let mut held = terms_of(customer);
    if customer.search_version < PAIRS_VERSION {
        held.retain(|(kind, _)| *kind != TermKind::NamePair.code());
    }
    held
}

/// The whole name words among terms.
fn name_words_of(terms: &Terms) -> impl Iterator<Item = &str> {
    terms
        .iter()
        .filter(|(kind, _)| *kind == TermKind::NameWord.code())
        .map(|(_, term)| term.as_str())
}

/// The creation time a term carries: a pair term's, so that a search by pairs orders its
/// matches without reading their rows (see `pairs`); none for other terms.
fn time_held(kind: i16, customer: &Customer) -> Option<chrono::NaiveDateTime> {
    (kind == TermKind::NamePair.code()).then_some(customer.created_at)
}

/// Adds words to the words some customer's name holds (each once), each new one filed
/// under its typo keys.
pub fn add_name_words<'w>(
    conn: &mut DbConnection,
    words: impl Iterator<Item = &'w str>,
) -> QueryResult<()> {
    let rows: Vec<_> = words.map(|w| name_words::word.eq(w)).collect();
    let mut added: Vec<String> = Vec::new();
    for chunk in rows.chunks(super::rows_per_insert(1)) {
        let new: Vec<String> = either_backend!(&mut *conn, c => diesel::insert_into(name_words::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .returning(name_words::word)
            .get_results(c)?);
        added.extend(new);
    }
    let keys: Vec<_> = added
        .iter()
        .flat_map(|word| {
            typo_keys(word).into_iter().map(move |key| {
                (
                    name_word_keys::key.eq(key),
                    name_word_keys::word.eq(word.as_str()),
                )
            })
        })
        .collect();
    for chunk in keys.chunks(super::rows_per_insert(2)) {
        either_backend!(&mut *conn, c => diesel::insert_into(name_word_keys::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c)?);
    }
    Ok(())
}

/// Removes the words no customer's name holds any more, among these, and their typo keys
/// (a search must not keep an erased name's words).
fn forget_name_words<'w>(
    conn: &mut DbConnection,
    words: impl Iterator<Item = &'w str>,
) -> QueryResult<()> {
    for word in words {
        let held = customer_terms::table
            .filter(customer_terms::kind.eq(TermKind::NameWord.code()))
            .filter(customer_terms::term.eq(word));
        let forgotten = diesel::delete(
            name_words::table
                .filter(name_words::word.eq(word))
                .filter(diesel::dsl::not(diesel::dsl::exists(held))),
        )
        .execute(conn)?;
        if forgotten > 0 {
            let keys: Vec<String> = typo_keys(word).into_iter().collect();
            diesel::delete(
                name_word_keys::table
                    .filter(name_word_keys::key.eq_any(keys))
                    .filter(name_word_keys::word.eq(word)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
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
    let mut words = std::collections::BTreeSet::new();
    for customer in customers.iter_mut() {
        customer.sort_name = sort_name(customer);
        customer.search_text = search_text(customer.name.as_deref(), customer.nickname.as_deref());
        customer.search_version = SEARCH_VERSION;
        let terms = terms_of(customer);
        words.extend(name_words_of(&terms).map(str::to_owned));
        for (kind, term) in terms {
            rows.push((
                customer_terms::kind.eq(kind),
                customer_terms::term.eq(term),
                customer_terms::customer_id.eq(customer.id.0),
                customer_terms::created_at.eq(time_held(kind, customer)),
            ));
        }
    }
    for chunk in rows.chunks(super::rows_per_insert(4)) {
        either_backend!(&mut *conn, c => diesel::insert_into(customer_terms::table)
            .values(chunk)
            .execute(c)?);
    }
    add_name_words(conn, words.iter().map(String::as_str))?;
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
    let old = before.map(terms_held).unwrap_or_default();
    let new = terms_of(after);
    for (kind, term) in old.difference(&new) {
        diesel::delete(customer_terms::table.find((*kind, term, after.id.0))).execute(conn)?;
    }
    let old_words: std::collections::BTreeSet<&str> = name_words_of(&old).collect();
    let new_words: std::collections::BTreeSet<&str> = name_words_of(&new).collect();
    forget_name_words(conn, old_words.difference(&new_words).copied())?;
    add_name_words(conn, new_words.difference(&old_words).copied())?;
    let rows: Vec<_> = new
        .difference(&old)
        .map(|(kind, term)| {
            (
                customer_terms::kind.eq(*kind),
                customer_terms::term.eq(term.as_str()),
                customer_terms::customer_id.eq(after.id.0),
                customer_terms::created_at.eq(time_held(*kind, after)),
            )
        })
        .collect();
    if !rows.is_empty() {
        either_backend!(conn, c => diesel::insert_into(customer_terms::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c)?);
    }
    kept::update(
        customers::table.find(after.id),
        (
            customers::sort_name.eq(sort_name(after)),
            customers::search_text.eq(search_text(
                after.name.as_deref(),
                after.nickname.as_deref(),
            )),
            customers::search_version.eq(SEARCH_VERSION),
        ),
    )
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
    let held = terms_held(customer);
    for (kind, term) in &held {
        diesel::delete(customer_terms::table.find((*kind, term, customer.id.0))).execute(conn)?;
    }
    forget_name_words(conn, name_words_of(&held))
}

/// `search_version` below `version`, with the version written into the statement: bound
/// as a parameter, PostgreSQL's generic plan for a prepared statement guesses a third of
/// the rows match and scans the table (320 ms at a million customers, on every turn of the
/// background worker) where the index answers at once. The statement stays prepared (a
/// fuzzy search asks it on every request).
pub(super) fn indexed_before(
    version: i32,
) -> diesel::dsl::Lt<customers::search_version, crate::db::written::WrittenInteger> {
    customers::search_version.lt(crate::db::written::WrittenInteger(version))
}

/// Whether any customer waits to be indexed by the current rules.
pub fn any_pending(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        customers::table.filter(indexed_before(SEARCH_VERSION)),
    ))
    .get_result(conn)
}

/// Indexes up to `batch` customers that the current rules have not indexed yet (rows
/// from before the index existed, or from older rules). Returns how many it did.
pub fn index_pending(conn: &mut DbConnection, batch: i64) -> QueryResult<usize> {
    super::transaction(conn, |conn| {
        let pending: Vec<Customer> = customers::table
            .filter(indexed_before(SEARCH_VERSION))
            .select(Customer::as_select())
            .limit(batch)
            .load(conn)?;
        if pending
            .iter()
            .any(|c| c.search_version > 0 && c.search_version < TERMS_VERSION)
        {
            // Older rules wrote terms this version cannot reproduce: start over.
            diesel::delete(customer_terms::table).execute(conn)?;
            diesel::delete(name_words::table).execute(conn)?;
            diesel::delete(name_word_keys::table).execute(conn)?;
            kept::update(customers::table, customers::search_version.eq(0)).execute(conn)?;
        }
        for customer in &pending {
            // Rows indexed since the terms last changed keep them.
            index_customer(conn, Some(customer), customer)?;
        }
        Ok(pending.len())
    })
}
