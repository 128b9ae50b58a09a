//! Staff account operations shared by the Users screen, the `users` CLI and first start.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::types::{AuditAction, UserId};
use crate::db::users::{self, NewUser, User, UserChanges};
use crate::db::{self, DbPool};
use crate::db::{DbConnection, now};
use crate::domain::customer::Actor;
use crate::domain::password::{dummy_hash, verify_password};
use crate::domain::password::{hash_password, random_password};
use crate::domain::throttle;
use crate::domain::user::{DisplayName, NewPassword, TimeZone, Username};
use crate::domain::{FieldErrors, Role};
use crate::error::AppError;
use crate::services::audit;

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
    actor: &Actor,
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
    let inserted = db::transaction(conn, |conn| {
        let user = users::insert_user(conn, &new)?;
        audit::record(
            conn,
            actor,
            AuditAction::UserCreated,
            &user.username,
            user.role().as_str(),
        )?;
        Ok::<_, AppError>(user)
    });
    match inserted {
        Ok(user) => Ok(user),
        Err(AppError::Unexpected(error))
            if matches!(
                error.downcast_ref::<DieselError>(),
                Some(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    _
                ))
            ) =>
        {
            let mut errors = FieldErrors::default();
            errors.push("username", "This username is taken.");
            Err(AppError::Invalid(errors))
        }
        Err(other) => Err(other),
    }
}

/// Sets a new password. `temporary` (a supervisor's reset) forces another change at the
/// next sign-in; either way every other session of the account ends.
pub fn set_password(
    conn: &mut DbConnection,
    actor: &Actor,
    id: UserId,
    password: &NewPassword,
    temporary: bool,
) -> Result<User, AppError> {
    let hash = hash_password(password)?;
    db::transaction(conn, |conn| {
        let user = users::update_password(conn, id, &hash, temporary, true)?;
        let how = if temporary {
            "temporary, to change at next sign-in"
        } else {
            "chosen by its owner"
        };
        audit::record(conn, actor, AuditAction::PasswordSet, &user.username, how)?;
        Ok(user)
    })
}

/// Records that a signed-out session ended, so a copy of its cookie stops working on every
/// instance: kept until the session would have expired (`since` + `lifetime_secs`).
pub fn end_session(
    conn: &mut DbConnection,
    session_id: &str,
    since: i64,
    lifetime_secs: i64,
) -> Result<(), AppError> {
    let expires = chrono::DateTime::from_timestamp(since.saturating_add(lifetime_secs), 0)
        .map_or_else(now, |t| t.naive_utc());
    Ok(db::transaction(conn, |conn| {
        db::sessions::end_session(conn, session_id, expires)
    })?)
}

/// Ends every session of the account, everywhere ("Sign out everywhere").
pub fn end_all_sessions(
    conn: &mut DbConnection,
    actor: &Actor,
    id: UserId,
) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        users::end_all_sessions(conn, id)?;
        let user = users::get_user(conn, id)?;
        audit::record(conn, actor, AuditAction::SessionsEnded, &user.username, "")
    })
}

/// Keeps the Customers page's columns someone chose (`None`: the default set again).
pub fn choose_customer_columns(
    conn: &mut DbConnection,
    id: UserId,
    columns: Option<&str>,
) -> Result<(), AppError> {
    Ok(db::transaction(conn, |conn| {
        users::set_customer_columns(conn, id, columns)
    })?)
}

/// Saves an account's name, role and time zone. Demoting the last active supervisor is
/// refused (`None`): someone must be left to manage the others.
pub fn update_account(
    conn: &mut DbConnection,
    actor: &Actor,
    id: UserId,
    display_name: &DisplayName,
    role: Role,
    time_zone: &TimeZone,
) -> Result<Option<User>, AppError> {
    db::transaction(conn, |conn| {
        let user = users::get_user(conn, id)?;
        let demotes_supervisor =
            user.role() == Role::Supervisor && role < Role::Supervisor && user.active;
        if demotes_supervisor && users::count_active_supervisors(conn)? <= 1 {
            return Ok(None);
        }
        let changes = UserChanges {
            display_name: display_name.as_str(),
            role: role.as_str(),
            time_zone: time_zone.name(),
            updated_at: now(),
        };
        let updated = users::update_user(conn, id, &changes)?;
        audit::record(
            conn,
            actor,
            AuditAction::UserChanged,
            &updated.username,
            &format!(
                "{}, {}, {}",
                changes.display_name, changes.role, changes.time_zone
            ),
        )?;
        Ok(Some(updated))
    })
}

/// Deactivates (signing the account out everywhere) or reactivates an account. The last
/// active supervisor cannot be deactivated (`None`).
pub fn set_active(
    conn: &mut DbConnection,
    actor: &Actor,
    id: UserId,
    active: bool,
) -> Result<Option<User>, AppError> {
    db::transaction(conn, |conn| {
        let user = users::get_user(conn, id)?;
        let last_supervisor = !active
            && user.active
            && user.role() == Role::Supervisor
            && users::count_active_supervisors(conn)? <= 1;
        if last_supervisor {
            return Ok(None);
        }
        let updated = users::update_active(conn, id, active)?;
        let action = if active {
            AuditAction::UserActivated
        } else {
            AuditAction::UserDeactivated
        };
        audit::record(conn, actor, action, &updated.username, "")?;
        Ok(Some(updated))
    })
}

/// How a sign-in attempt ended.
pub enum SignIn {
    /// Too many recent failures for this username or address.
    Throttled,
    /// Unknown username or wrong password (never told apart).
    Wrong,
    /// The password is right but the account is deactivated.
    Deactivated,
    /// Signed in.
    Success(Box<User>),
}

/// Checks a sign-in: throttling by username and by address, the password (against a dummy
/// hash for unknown names, so timing tells nothing), and the failure count. The password
/// hash is checked with no pooled connection held: argon2 takes tens of milliseconds.
/// Blocking: call it from `web::block`.
pub fn sign_in(
    pool: &DbPool,
    username: &str,
    password: &str,
    address: &str,
) -> Result<SignIn, AppError> {
    let user_subject = throttle::username_subject(username);
    let address_subject = throttle::address_subject(address);
    let username = username.trim().to_lowercase();
    let since = now() - throttle::WINDOW;
    let user = {
        let mut conn = pool.get()?;
        let by_user = db::sign_in::count_failures_since(&mut conn, &user_subject, since)?;
        let by_address = db::sign_in::count_failures_since(&mut conn, &address_subject, since)?;
        if throttle::is_throttled(by_user, by_address) {
            db::transaction(&mut conn, |conn| {
                failed(
                    conn,
                    &username,
                    address,
                    "throttled after repeated failures",
                )
            })?;
            return Ok(SignIn::Throttled);
        }
        users::find_user_by_username(&mut conn, &username)?
    };
    let hash = user
        .as_ref()
        .map_or(dummy_hash(), |u| u.password_hash.as_str());
    let matches = verify_password(password, hash);
    let mut conn = pool.get()?;
    // The writes take the writer's turn like any transaction (see `db::transaction`): a
    // sign-in waits for at most one batch of an import.
    match user {
        Some(user) if matches => {
            db::transaction(&mut conn, |conn| {
                db::sign_in::delete_failures(conn, &user_subject)?;
                if user.active {
                    audit::record(
                        conn,
                        &user.actor(),
                        AuditAction::SignedIn,
                        &user.username,
                        &format!("from {address}"),
                    )
                } else {
                    failed(conn, &user.username, address, "the account is deactivated")
                }
            })?;
            if user.active {
                Ok(SignIn::Success(Box::new(user)))
            } else {
                Ok(SignIn::Deactivated)
            }
        }
        _ => {
            db::transaction(&mut conn, |conn| {
                db::sign_in::insert_failures(conn, &[&user_subject, &address_subject])?;
                db::sign_in::delete_failures_before(conn, since)?;
                failed(
                    conn,
                    &username,
                    address,
                    "wrong password or unknown username",
                )
            })?;
            Ok(SignIn::Wrong)
        }
    }
}

/// Records a refused sign-in in the audit log, under the name that was typed (cut short:
/// it is whatever the client sent).
fn failed(
    conn: &mut DbConnection,
    username: &str,
    address: &str,
    why: &str,
) -> Result<(), AppError> {
    let typed: String = username.trim().chars().take(60).collect();
    crate::db::audit::insert_audit(
        conn,
        None,
        &typed,
        AuditAction::SignInFailed,
        &typed,
        &format!("{why}, from {address}"),
    )?;
    Ok(())
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
    match create_account(conn, &Actor::System, &account, true) {
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
    match create_account(conn, &Actor::System, &account, false) {
        Ok(_) => Ok(Some(password)),
        Err(AppError::Invalid(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
