//! Leases on background work that is not a job (the search indexer, duplicate
//! suggestions, the hourly sweep): several instances share one database, and each piece
//! of work is done by one of them at a time. A lease ends by itself, so an instance killed
//! while holding one holds up the others only until then.

use chrono::TimeDelta;
use diesel::prelude::*;
use diesel::query_dsl::methods::FilterDsl;
use diesel::upsert::excluded;

use super::kept;
use super::schema::work_leases;
use super::{DbConnection, now};

/// Takes the lease `name` for `hold` unless another holder's lease is still running;
/// returns whether it was taken.
pub fn take(conn: &mut DbConnection, name: &str, hold: TimeDelta) -> QueryResult<bool> {
    let at = now();
    // Of two instances taking it at once, the database lets one have it.
    let taken = either_backend!(&mut *conn, c => FilterDsl::filter(
        diesel::insert_into(work_leases::table)
            .values((
                work_leases::name.eq(name),
                work_leases::held_until.eq(at + hold),
            ))
            .on_conflict(work_leases::name)
            .do_update()
            .set(work_leases::held_until.eq(excluded(work_leases::held_until))),
        work_leases::held_until.lt(at),
    )
    .execute(c)?);
    Ok(taken == 1)
}

/// Gives the lease back before it ends, so the next taker need not wait.
pub fn give_back(conn: &mut DbConnection, name: &str) -> QueryResult<usize> {
    kept::update(
        work_leases::table.find(name),
        work_leases::held_until.eq(now() - TimeDelta::seconds(1)),
    )
    .execute(conn)
}
