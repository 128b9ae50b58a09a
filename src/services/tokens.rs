//! API tokens: created by supervisors (or the CLI), shown once, stored as SHA-256 hashes.

use sha2::{Digest, Sha256};

use crate::db::types::{AuditAction, TokenId};
use crate::db::{self, DbConnection, tokens};
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::domain::password::random_hex;
use crate::error::AppError;
use crate::services::audit;

/// The prefix of every token, so a leaked one is recognisable in logs and scanners.
pub const PREFIX: &str = "clt_";

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The active token `token` is, if any. Its use is noted at most once a minute (its
/// "last used"), and in the audit log at most once an hour.
pub fn authenticate(
    conn: &mut DbConnection,
    token: &str,
) -> Result<Option<tokens::ApiToken>, AppError> {
    let Some(found) = tokens::find_active(conn, &hash_token(token))? else {
        return Ok(None);
    };
    let at = db::now();
    if found
        .last_used_at
        .is_none_or(|used| at - used > chrono::TimeDelta::minutes(1))
    {
        db::transaction(conn, |conn| {
            tokens::touch(conn, found.id)?;
            let hour_ago = at - chrono::TimeDelta::hours(1);
            if !db::audit::recorded_since(conn, AuditAction::TokenUsed, &found.name, hour_ago)? {
                let actor = Actor::Integration {
                    name: found.name.clone(),
                };
                audit::record(conn, &actor, AuditAction::TokenUsed, &found.name, "")?;
            }
            Ok::<_, AppError>(())
        })?;
    }
    Ok(Some(found))
}

/// Creates a token named `name` and returns its secret (the only time it exists).
pub fn create_token(
    conn: &mut DbConnection,
    actor: &Actor,
    name: &str,
) -> Result<String, AppError> {
    let name = name.trim();
    let mut errors = FieldErrors::default();
    if name.is_empty() || name.chars().count() > 80 {
        errors.push(
            "name",
            "Give the token a name of 1 to 80 characters, e.g. the integration using it.",
        );
    } else if tokens::name_taken(conn, name)? {
        errors.push("name", "A token with this name exists already.");
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let secret = format!("{PREFIX}{}", random_hex(32));
    db::transaction(conn, |conn| {
        tokens::insert_token(
            conn,
            name,
            &hash_token(&secret),
            &secret[..PREFIX.len() + 6],
            &actor.name(),
        )?;
        audit::record(conn, actor, AuditAction::TokenCreated, name, "")
    })?;
    Ok(secret)
}

/// Revokes the active token with this name; `false` when there is none.
pub fn revoke_by_name(
    conn: &mut DbConnection,
    actor: &Actor,
    name: &str,
) -> Result<bool, AppError> {
    let name = name.trim();
    db::transaction(conn, |conn| {
        if tokens::revoke_by_name(conn, name)? == 0 {
            return Ok(false);
        }
        audit::record(conn, actor, AuditAction::TokenRevoked, name, "")?;
        Ok(true)
    })
}

/// Revokes a token: it stops working at once.
pub fn revoke_token(conn: &mut DbConnection, actor: &Actor, id: TokenId) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        tokens::revoke(conn, id)?;
        audit::record(conn, actor, AuditAction::TokenRevoked, &id.to_string(), "")
    })
}
