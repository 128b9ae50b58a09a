//! The queue of customers whose suggested duplicates need working out again: written with
//! every change of what duplicates are found by (so it depends on nothing else here),
//! drained by the background check in `services::duplicates`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::duplicate_checks;
use super::types::CustomerId;
use super::{DbConnection, now};

/// Asks for these customers' pairs to be worked out again (in the background). A customer
/// already waiting is stamped again, so a check that read them before this change does
/// not take them off the queue. `ids` may name a customer twice (one per identity linked,
/// say): each is queued once, as PostgreSQL refuses an upsert that meets a row twice.
pub fn queue_checks(conn: &mut DbConnection, ids: &[CustomerId]) -> QueryResult<()> {
    let at = now();
    let mut ids = ids.to_vec();
    ids.sort_unstable_by_key(|id| id.0);
    ids.dedup();
    let rows: Vec<_> = ids
        .iter()
        .map(|id| {
            (
                duplicate_checks::customer_id.eq(*id),
                duplicate_checks::queued_at.eq(at),
            )
        })
        .collect();
    for chunk in rows.chunks(super::rows_per_insert(2)) {
        either_backend!(&mut *conn, c => diesel::insert_into(duplicate_checks::table)
            .values(chunk)
            .on_conflict(duplicate_checks::customer_id)
            .do_update()
            .set(duplicate_checks::queued_at.eq(at))
            .execute(c)?);
    }
    Ok(())
}

/// Up to `limit` queued customers, with the time they were queued.
pub fn list_checks(
    conn: &mut DbConnection,
    limit: i64,
) -> QueryResult<Vec<(CustomerId, NaiveDateTime)>> {
    duplicate_checks::table
        .order(duplicate_checks::customer_id)
        .select((duplicate_checks::customer_id, duplicate_checks::queued_at))
        .limit(limit)
        .load(conn)
}

/// Takes a checked customer off the queue, unless queued again after `read_at`.
pub fn delete_check(
    conn: &mut DbConnection,
    customer: CustomerId,
    read_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        duplicate_checks::table
            .filter(duplicate_checks::customer_id.eq(customer))
            .filter(duplicate_checks::queued_at.le(read_at)),
    )
    .execute(conn)
}

/// Whether any customer waits to be checked.
pub fn any_queued(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        duplicate_checks::table.select(duplicate_checks::customer_id),
    ))
    .get_result(conn)
}
