//! Possible duplicates: customers sharing an e-mail (without case) or a phone with another,
//! found through the indexes on those columns; and the pairs staff dismissed.

use diesel::prelude::*;

use super::customers::Customer;
use super::schema::{customers, duplicate_dismissals};
use super::types::CustomerId;
use super::{DbConnection, lower, now};

/// Other customers holding the customer's e-mail or phone, at most `limit`, newest first.
pub fn list_sharing_keys(
    conn: &mut DbConnection,
    customer: &Customer,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let email = customer.email.as_deref().map(str::to_lowercase);
    let phone = customer.phone.clone();
    if email.is_none() && phone.is_none() {
        return Ok(Vec::new());
    }
    customers::table
        .filter(customers::id.ne(customer.id))
        .filter(
            lower(customers::email)
                .eq(email)
                .or(customers::phone.eq(phone)),
        )
        .order(customers::id.desc())
        .limit(limit)
        .select(Customer::as_select())
        .load(conn)
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

/// Records that two customers are not the same person (once; the lower id first).
pub fn insert_dismissal(
    conn: &mut DbConnection,
    one: CustomerId,
    other: CustomerId,
    by: &str,
) -> QueryResult<()> {
    let (a, b) = if one < other {
        (one, other)
    } else {
        (other, one)
    };
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
    Ok(())
}
