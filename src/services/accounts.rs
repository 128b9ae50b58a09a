//! Staff account operations shared by the Users screen, the `users` CLI and first start.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::users::{self, NewUser, User};
use crate::db::{DbConnection, now};
use crate::domain::password::{hash_password, random_password};
use crate::domain::user::{DisplayName, NewPassword, TimeZone, Username};
use crate::domain::{FieldErrors, Role};
use crate::error::AppError;

/// What a new account is made of, as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct AccountInput {
    /// Sign-in name.
    pub username: String,
    /// Name shown to colleagues (the username when empty).
    pub display_name: String,
    /// `agent` or `supervisor`.
    pub role: String,
    /// IANA time zone (UTC when empty).
    pub time_zone: String,
    /// The first password.
    pub password: String,
}

/// The parsed, valid form of [`AccountInput`].
pub struct ValidAccount {
    username: Username,
    display_name: DisplayName,
    role: Role,
    time_zone: TimeZone,
    password: NewPassword,
}

impl AccountInput {
    /// Checks every field; all refusals are reported together.
    pub fn parse(&self) -> Result<ValidAccount, FieldErrors> {
        let mut errors = FieldErrors::default();
        let username = errors.check("username", Username::parse(&self.username));
        let shown = if self.display_name.trim().is_empty() {
            self.username.trim()
        } else {
            self.display_name.as_str()
        };
        let display_name = errors.check("display_name", DisplayName::parse(shown));
        let role = errors.check("role", self.role.parse::<Role>());
        let time_zone = errors.check("time_zone", parse_time_zone(&self.time_zone));
        let password = errors.check("password", NewPassword::parse(&self.password));
        match (username, display_name, role, time_zone, password) {
            (Some(username), Some(display_name), Some(role), Some(time_zone), Some(password)) => {
                Ok(ValidAccount {
                    username,
                    display_name,
                    role,
                    time_zone,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A time zone field where empty means UTC.
pub fn parse_time_zone(raw: &str) -> Result<TimeZone, String> {
    if raw.trim().is_empty() {
        TimeZone::parse("UTC")
    } else {
        TimeZone::parse(raw)
    }
}

/// Creates the account. `temporary` forces a password change at first sign-in.
/// A taken username is a field error, not a failure.
pub fn create_account(
    conn: &mut DbConnection,
    account: &ValidAccount,
    temporary: bool,
) -> Result<User, AppError> {
    let hash = hash_password(&account.password)?;
    let at = now();
    let new = NewUser {
        username: account.username.as_str(),
        display_name: account.display_name.as_str(),
        role: account.role.as_str(),
        password_hash: &hash,
        active: true,
        must_change_password: temporary,
        time_zone: account.time_zone.name(),
        session_epoch: 0,
        created_at: at,
        updated_at: at,
    };
    match users::insert_user(conn, &new) {
        Ok(user) => Ok(user),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let mut errors = FieldErrors::default();
            errors.push("username", "This username is taken.");
            Err(AppError::Invalid(errors))
        }
        Err(other) => Err(other.into()),
    }
}

/// On a database without accounts, creates the supervisor `admin` with a random password
/// that must be changed at first sign-in, and returns the password to show once.
pub fn bootstrap_admin(conn: &mut DbConnection) -> Result<Option<String>, AppError> {
    if users::count_users(conn)? > 0 {
        return Ok(None);
    }
    let password = random_password();
    let input = AccountInput {
        username: "admin".to_owned(),
        display_name: "Administrator".to_owned(),
        role: Role::Supervisor.as_str().to_owned(),
        time_zone: String::new(),
        password: password.clone(),
    };
    let account = input.parse().map_err(AppError::Invalid)?;
    match create_account(conn, &account, true) {
        Ok(_) => Ok(Some(password)),
        // Another instance created it at the same moment.
        Err(AppError::Invalid(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Creates the demo agent `agent` when missing, and returns its password to show once.
pub fn ensure_demo_agent(conn: &mut DbConnection) -> Result<Option<String>, AppError> {
    if users::find_user_by_username(conn, "agent")?.is_some() {
        return Ok(None);
    }
    let password = random_password();
    let input = AccountInput {
        username: "agent".to_owned(),
        display_name: "Demo Agent".to_owned(),
        role: Role::Agent.as_str().to_owned(),
        time_zone: String::new(),
        password: password.clone(),
    };
    let account = input.parse().map_err(AppError::Invalid)?;
    match create_account(conn, &account, false) {
        Ok(_) => Ok(Some(password)),
        Err(AppError::Invalid(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
