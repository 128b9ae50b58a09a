//! Possible duplicates: the customers holding one of a customer's contacts (an e-mail without
//! case, a phone, an identity with that value) or the same folded name with another field in
//! common, found through indexes; the pairs kept for the duplicates list, the queue of
//! customers whose pairs need working out again, and the pairs staff dismissed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::customers::Customer;
use super::schema::{channel_identities, customers, duplicate_dismissals, duplicate_pairs};
use super::types::CustomerId;
use super::{DbConnection, lower, now};

/// What a customer is matched on.
#[derive(Debug, Default)]
pub struct MatchOn<'a> {
    /// E-mail addresses, lower-case (the column's and e-mail identities').
    pub emails: Vec<String>,
    /// Phones in E.164 (the column's and phone identities').
    pub phones: Vec<String>,
    /// The folded name, with the city and company, when the customer has a name.
    pub name: Option<(&'a str, [Option<&'a str>; 2])>,
    /// Customers whose names the search index found alike (compared on the city and
    /// company here).
    pub near_names: Vec<CustomerId>,
}

/// Ids of other customers matching `on` in some way, at most `limit` per way.
pub fn list_candidates(
    conn: &mut DbConnection,
    customer: CustomerId,
    on: &MatchOn<'_>,
    limit: i64,
) -> QueryResult<Vec<CustomerId>> {
    let mut found: Vec<CustomerId> = Vec::new();
    if !on.emails.is_empty() {
        found.extend(
            customers::table
                .filter(lower(customers::email).eq_any(on.emails.iter().map(|e| Some(e.clone()))))
                .filter(customers::id.ne(customer))
                .select(customers::id)
                .limit(limit)
                .load::<CustomerId>(conn)?,
        );
    }
    if !on.phones.is_empty() {
        found.extend(
            customers::table
                .filter(customers::phone.eq_any(&on.phones))
                .filter(customers::id.ne(customer))
                .select(customers::id)
                .limit(limit)
                .load::<CustomerId>(conn)?,
        );
    }
    let values: Vec<&String> = on.emails.iter().chain(&on.phones).collect();
    if !values.is_empty() {
        found.extend(
            channel_identities::table
                .filter(channel_identities::external_id.eq_any(values))
                .filter(channel_identities::customer_id.ne(customer))
                .select(channel_identities::customer_id.assume_not_null())
                .limit(limit)
                .load::<CustomerId>(conn)?,
        );
    }
    if let Some((sort_name, [city, company])) = on.name
        && (city.is_some() || company.is_some())
    {
        found.extend(
            customers::table
                .filter(customers::sort_name.eq(sort_name))
                .filter(customers::name.is_not_null())
                .filter(customers::id.ne(customer))
                .filter(
                    lower(customers::city)
                        .eq(city.map(str::to_lowercase))
                        .or(lower(customers::company).eq(company.map(str::to_lowercase))),
                )
                .select(customers::id)
                .limit(limit)
                .load::<CustomerId>(conn)?,
        );
    }
    if let Some((_, [city, company])) = on.name
        && !on.near_names.is_empty()
    {
        found.extend(
            customers::table
                .filter(customers::id.eq_any(&on.near_names))
                .filter(customers::id.ne(customer))
                .filter(
                    lower(customers::city)
                        .eq(city.map(str::to_lowercase))
                        .or(lower(customers::company).eq(company.map(str::to_lowercase))),
                )
                .select(customers::id)
                .limit(limit)
                .load::<CustomerId>(conn)?,
        );
    }
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// The customers a kept pair joins to `customer`.
pub fn list_paired_with(
    conn: &mut DbConnection,
    customer: CustomerId,
    limit: i64,
) -> QueryResult<Vec<CustomerId>> {
    let mut found: Vec<CustomerId> = duplicate_pairs::table
        .filter(duplicate_pairs::customer_a.eq(customer))
        .select(duplicate_pairs::customer_b)
        .limit(limit)
        .load(conn)?;
    found.extend(
        duplicate_pairs::table
            .filter(duplicate_pairs::customer_b.eq(customer))
            .select(duplicate_pairs::customer_a)
            .limit(limit)
            .load::<CustomerId>(conn)?,
    );
    Ok(found)
}

/// The customers staff said are not the same person as `customer`.
pub fn list_dismissed(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> QueryResult<Vec<CustomerId>> {
    let after: Vec<CustomerId> = duplicate_dismissals::table
        .filter(duplicate_dismissals::customer_a.eq(customer))
        .select(duplicate_dismissals::customer_b)
        .load(conn)?;
    let before: Vec<CustomerId> = duplicate_dismissals::table
        .filter(duplicate_dismissals::customer_b.eq(customer))
        .select(duplicate_dismissals::customer_a)
        .load(conn)?;
    Ok(after.into_iter().chain(before).collect())
}

/// A pair's key: the lower id first.
fn ordered(one: CustomerId, other: CustomerId) -> (CustomerId, CustomerId) {
    if one < other {
        (one, other)
    } else {
        (other, one)
    }
}

/// Records that two customers are not the same person (once), and drops their pair.
pub fn insert_dismissal(
    conn: &mut DbConnection,
    one: CustomerId,
    other: CustomerId,
    by: &str,
) -> QueryResult<()> {
    let (a, b) = ordered(one, other);
    let exists = duplicate_dismissals::table
        .find((a, b))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        diesel::insert_into(duplicate_dismissals::table)
            .values((
                duplicate_dismissals::customer_a.eq(a),
                duplicate_dismissals::customer_b.eq(b),
                duplicate_dismissals::dismissed_by.eq(by),
                duplicate_dismissals::dismissed_at.eq(now()),
            ))
            .execute(conn)?;
    }
    diesel::delete(duplicate_pairs::table.find((a, b))).execute(conn)?;
    Ok(())
}

/// Records what comparing `customer` with others found: `found` pairs (the other
/// customer, score, reason codes) are written or updated, and pairs with the `unlike`
/// customers (compared, nothing in common) are dropped. Pairs with customers not compared
/// this time stay.
pub fn update_pairs(
    conn: &mut DbConnection,
    customer: CustomerId,
    found: &[(CustomerId, i32, String)],
    unlike: &[CustomerId],
) -> QueryResult<()> {
    let at = now();
    // Two deletes and a few multi-row inserts, whatever the number of pairs: a check
    // finding fifty pairs was a hundred statements, each a round trip to PostgreSQL.
    let (below, above): (Vec<CustomerId>, Vec<CustomerId>) = unlike
        .iter()
        .chain(found.iter().map(|(other, _, _)| other))
        .partition(|other| **other < customer);
    if !above.is_empty() {
        diesel::delete(
            duplicate_pairs::table
                .filter(duplicate_pairs::customer_a.eq(customer))
                .filter(duplicate_pairs::customer_b.eq_any(&above)),
        )
        .execute(conn)?;
    }
    if !below.is_empty() {
        diesel::delete(
            duplicate_pairs::table
                .filter(duplicate_pairs::customer_b.eq(customer))
                .filter(duplicate_pairs::customer_a.eq_any(&below)),
        )
        .execute(conn)?;
    }
    let rows: Vec<_> = found
        .iter()
        .map(|(other, score, reasons)| {
            let (a, b) = ordered(customer, *other);
            (
                duplicate_pairs::customer_a.eq(a),
                duplicate_pairs::customer_b.eq(b),
                duplicate_pairs::score.eq(*score),
                duplicate_pairs::reasons.eq(reasons.as_str()),
                duplicate_pairs::found_at.eq(at),
            )
        })
        .collect();
    for chunk in rows.chunks(super::rows_per_insert(5)) {
        either_backend!(&mut *conn, c => diesel::insert_into(duplicate_pairs::table)
            .values(chunk)
            .execute(c)?);
    }
    Ok(())
}

/// Drops every pair `customer` is in (it was anonymized).
pub fn delete_pairs_of(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<usize> {
    diesel::delete(
        duplicate_pairs::table.filter(
            duplicate_pairs::customer_a
                .eq(customer)
                .or(duplicate_pairs::customer_b.eq(customer)),
        ),
    )
    .execute(conn)
}

/// A suggested pair as kept.
#[derive(Debug, Clone, Queryable)]
pub struct Pair {
    pub customer_a: CustomerId,
    pub customer_b: CustomerId,
    pub score: i32,
    pub reasons: String,
    pub found_at: NaiveDateTime,
}

/// Where a page of pairs ends: (score, a, b) of its last pair.
pub type PairCursor = (i32, CustomerId, CustomerId);

/// A page of pairs, strongest first (then newest), after `after`.
pub fn list_pairs(
    conn: &mut DbConnection,
    after: Option<PairCursor>,
    limit: i64,
) -> QueryResult<Vec<Pair>> {
    use duplicate_pairs::dsl::{customer_a, customer_b, found_at, reasons, score};
    let mut query = duplicate_pairs::table
        .select((customer_a, customer_b, score, reasons, found_at))
        .order((score.desc(), customer_a.desc(), customer_b.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((s, a, b)) = after {
        query = query.filter(
            score.lt(s).or(score
                .eq(s)
                .and(customer_a.lt(a).or(customer_a.eq(a).and(customer_b.lt(b))))),
        );
    }
    query.load(conn)
}

/// The customers with these ids, for a page of pairs.
pub fn customers_of(conn: &mut DbConnection, pairs: &[Pair]) -> QueryResult<Vec<Customer>> {
    let ids: Vec<CustomerId> = pairs
        .iter()
        .flat_map(|p| [p.customer_a, p.customer_b])
        .collect();
    super::customers::list_by_ids(conn, &ids)
}
