//! Staff sessions that were signed out (the cookie itself lives in the browser): kept until
//! the session would have expired anyway, so a copied cookie stops working on every
//! instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::ended_sessions;
use super::{DbConnection, now};

/// Records that session `id` ended; it would have expired at `expires_at`. Rows of sessions
/// past their expiry go at the same time.
pub fn end_session(
    conn: &mut DbConnection,
    id: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(ended_sessions::table.filter(ended_sessions::expires_at.lt(now())))
        .execute(conn)?;
    either_backend!(&mut *conn, c => diesel::insert_into(ended_sessions::table)
        .values((
            ended_sessions::id.eq(id),
            ended_sessions::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(())
}

/// Whether session `id` was signed out.
pub fn is_ended(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        ended_sessions::table.filter(ended_sessions::id.eq(id)),
    ))
    .get_result(conn)
}
