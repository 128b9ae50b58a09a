//! API tokens (stored as hashes).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::api_tokens;
use super::types::TokenId;
use super::{DbConnection, now};

/// A token as stored (never the secret itself).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub token_hash: String,
    pub token_prefix: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Every token, newest first.
pub fn list_tokens(conn: &mut DbConnection) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
}

/// Whether a token name is taken.
pub fn name_taken(conn: &mut DbConnection, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        api_tokens::table.filter(api_tokens::name.eq(name)),
    ))
    .get_result(conn)
}

/// Stores a new token's hash.
pub fn insert_token(
    conn: &mut DbConnection,
    name: &str,
    hash: &str,
    prefix: &str,
    created_by: &str,
) -> QueryResult<usize> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(hash),
            api_tokens::token_prefix.eq(prefix),
            api_tokens::created_by.eq(created_by),
            api_tokens::created_at.eq(now()),
        ))
        .execute(conn)
}

/// The active token with this hash, if any.
pub fn find_active(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .optional()
}

/// Notes that a token was used now.
pub fn touch(conn: &mut DbConnection, id: TokenId) -> QueryResult<usize> {
    kept::update(
        api_tokens::table.find(id),
        api_tokens::last_used_at.eq(now()),
    )
    .execute(conn)
}

/// Revokes a token by id or name; returns how many were revoked.
pub fn revoke_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<usize> {
    kept::update(
        api_tokens::table
            .filter(api_tokens::name.eq(name))
            .filter(api_tokens::revoked_at.is_null()),
        api_tokens::revoked_at.eq(now()),
    )
    .execute(conn)
}

/// Revokes a token by id.
pub fn revoke(conn: &mut DbConnection, id: TokenId) -> QueryResult<usize> {
    kept::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
        api_tokens::revoked_at.eq(now()),
    )
    .execute(conn)
}
