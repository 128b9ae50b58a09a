//! Locked profiles: one row per customer whose profile channel data no longer changes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::customer_locks;
use super::types::CustomerId;
use super::{DbConnection, now};

/// Who locked the profile and when, if it is locked.
pub fn find_lock(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> QueryResult<Option<(String, NaiveDateTime)>> {
    either_backend!(conn, c => customer_locks::table
        .find(customer)
        .select((customer_locks::locked_by, customer_locks::locked_at))
        .first(c)
        .optional())
}

/// Locks a profile; `false` when it was locked already.
pub fn insert_lock(conn: &mut DbConnection, customer: CustomerId, by: &str) -> QueryResult<bool> {
    if find_lock(conn, customer)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(customer_locks::table)
        .values((
            customer_locks::customer_id.eq(customer),
            customer_locks::locked_by.eq(by),
            customer_locks::locked_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Unlocks a profile; `false` when it was not locked.
pub fn delete_lock(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<bool> {
    Ok(diesel::delete(customer_locks::table.find(customer)).execute(conn)? > 0)
}
