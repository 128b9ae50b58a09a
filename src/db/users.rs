//! Staff accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::users;
use super::types::UserId;
use super::{DbConnection, now};
use crate::domain::Role;

/// A staff account as stored. Field order is the table's column order: `get_result`
/// after an insert or update reads every column back (RETURNING *), the form that both
/// backends of the connection enum accept.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    role: String,
    pub password_hash: String,
    pub active: bool,
    pub must_change_password: bool,
    pub time_zone: String,
    pub session_epoch: i64,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
    /// The Customers page's columns they chose (comma-separated), if they chose.
    pub customer_columns: Option<String>,
}

impl User {
    /// This account as History and the audit log record its actions.
    pub fn actor(&self) -> crate::domain::customer::Actor {
        crate::domain::customer::Actor::User {
            id: self.id.0,
            name: self.display_name.clone(),
        }
    }

    /// The account's role. The column has a CHECK constraint; anything unexpected reads
    /// as the least privileged role.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Agent)
    }
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub active: bool,
    pub must_change_password: bool,
    pub time_zone: &'a str,
    pub session_epoch: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Profile changes a supervisor makes to an account.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges<'a> {
    pub display_name: &'a str,
    pub role: &'a str,
    pub time_zone: &'a str,
    pub updated_at: NaiveDateTime,
}

/// Inserts an account and returns it.
pub fn insert_user(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .get_result(conn)
}

/// The account with this id, if any.
pub fn find_user(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The account with this id, or NotFound.
pub fn get_user(conn: &mut DbConnection, id: UserId) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

/// The account with this (already normalised) username, if any.
pub fn find_user_by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Every account, supervisors first, then by username.
pub fn list_users(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
    users::table
        .order((users::role.desc(), users::username.asc()))
        .select(User::as_select())
        .load(conn)
}

/// How many accounts exist.
pub fn count_users(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// How many active supervisors exist, so the last one cannot lock everybody out.
pub fn count_active_supervisors(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Supervisor.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}

/// Keeps the Customers page's columns someone chose (`None` returns to the default set).
pub fn set_customer_columns(
    conn: &mut DbConnection,
    id: UserId,
    columns: Option<&str>,
) -> QueryResult<()> {
    kept::update(users::table.find(id), users::customer_columns.eq(columns))
        .execute(conn)
        .map(|_| ())
}

/// Ends every session of the account, on every instance (sessions carry the epoch they
/// started in).
pub fn end_all_sessions(conn: &mut DbConnection, id: UserId) -> QueryResult<()> {
    kept::update(
        users::table.find(id),
        users::session_epoch.eq(users::session_epoch + 1),
    )
    .execute(conn)
    .map(|_| ())
}

/// Applies profile changes.
pub fn update_user(
    conn: &mut DbConnection,
    id: UserId,
    changes: &UserChanges<'_>,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set(changes)
        .get_result(conn)
}

/// Sets a new password hash. `must_change` forces a change at the next sign-in;
/// `end_sessions` signs the user out everywhere.
pub fn update_password(
    conn: &mut DbConnection,
    id: UserId,
    password_hash: &str,
    must_change: bool,
    end_sessions: bool,
) -> QueryResult<User> {
    let bump = i64::from(end_sessions);
    kept::update(
        users::table.find(id),
        (
            users::password_hash.eq(password_hash),
            users::must_change_password.eq(must_change),
            users::session_epoch.eq(users::session_epoch + bump),
            users::updated_at.eq(now()),
        ),
    )
    .returning(users::all_columns)
    .get_result(conn)
}

/// Activates or deactivates an account; deactivation ends its sessions.
pub fn update_active(conn: &mut DbConnection, id: UserId, active: bool) -> QueryResult<User> {
    let bump = i64::from(!active);
    kept::update(
        users::table.find(id),
        (
            users::active.eq(active),
            users::session_epoch.eq(users::session_epoch + bump),
            users::updated_at.eq(now()),
        ),
    )
    .returning(users::all_columns)
    .get_result(conn)
}
