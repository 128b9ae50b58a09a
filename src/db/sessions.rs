//! Staff sessions that were signed out (the cookie itself lives in the browser): kept until
//! the session would have expired anyway, so a copied cookie stops working on every
//! instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{ended_sessions, users};
use super::types::UserId;
use super::users::User;
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

/// The account `user` and whether session `id` was signed out, in one statement (every
/// request asks both); `None` when the account is gone.
pub fn account_of_session(
    conn: &mut DbConnection,
    user: UserId,
    id: &str,
) -> QueryResult<Option<(User, bool)>> {
    users::table
        .find(user)
        .select((
            User::as_select(),
            diesel::dsl::exists(ended_sessions::table.filter(ended_sessions::id.eq(id.to_owned()))),
        ))
        .first(conn)
        .optional()
}
