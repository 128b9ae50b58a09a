//! Staff sessions that were signed out (the cookie itself lives in the browser): kept until
//! the session would have expired anyway, so a copied cookie stops working on every
//! instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{ended_sessions, users};
use super::types::{Setting, UserId};
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

/// What every signed-in request reads about its reader.
pub struct Reader {
    pub user: User,
    /// Whether the session was signed out.
    pub ended: bool,
    /// Whether supervisors let agents open the Customers page.
    pub customers_page_for_agents: bool,
    /// Whether any team exists (an agent's reach then comes from their teams).
    pub teams_exist: bool,
}

/// The account `user`, whether session `id` was signed out, and the two installation facts
/// every agent's request needs, in one statement; `None` when the account is gone.
pub fn reader_of_session(
    conn: &mut DbConnection,
    user: UserId,
    id: &str,
) -> QueryResult<Option<Reader>> {
    use super::schema::{app_settings, teams};
    use diesel::dsl::exists;
    let toggle = app_settings::table
        .filter(app_settings::key.eq(Setting::CustomersPageForAgents.as_str()))
        .select(app_settings::value)
        .single_value();
    let found: Option<(User, bool, bool, Option<String>)> = either_backend!(conn, c => users::table
        .find(user)
        .select((
            User::as_select(),
            exists(ended_sessions::table.filter(ended_sessions::id.eq(id.to_owned()))),
            exists(teams::table.select(teams::id)),
            toggle,
        ))
        .first(c)
        .optional())?;
    Ok(found.map(|(user, ended, teams_exist, toggle)| Reader {
        user,
        ended,
        customers_page_for_agents: super::settings::is_on(toggle.as_deref()),
        teams_exist,
    }))
}
