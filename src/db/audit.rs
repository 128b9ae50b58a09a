//! Staff actions that are not about one customer: settings, properties, tags, users.

use diesel::prelude::*;

use super::schema::audit_log;
use super::types::AuditAction;
use super::{DbConnection, now};

/// Records one staff action.
pub fn insert_audit(
    conn: &mut DbConnection,
    actor_id: Option<i64>,
    actor_name: &str,
    action: AuditAction,
    subject: &str,
    detail: &str,
) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(actor_id),
            audit_log::actor_name.eq(actor_name),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::detail.eq(detail),
            audit_log::created_at.eq(now()),
        ))
        .execute(conn)
}

/// An audit entry as stored.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub created_at: chrono::NaiveDateTime,
}

/// Who did it, on the audit log screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// A staff account.
    Account(i64),
    /// No account: integrations, Clientele itself, refused sign-ins.
    NoAccount,
}

/// What the audit log screen shows: by whom, what, when (UTC, `to` excluded), older than
/// entry `before`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub who: Option<Who>,
    pub action: Option<AuditAction>,
    pub from: Option<chrono::NaiveDateTime>,
    pub to: Option<chrono::NaiveDateTime>,
    pub before: Option<i64>,
}

/// Up to `limit` entries matching `filter`, newest first (keyset pages by id).
pub fn list_audit(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut query = audit_log::table.into_boxed();
    match filter.who {
        Some(Who::Account(id)) => query = query.filter(audit_log::actor_id.eq(id)),
        Some(Who::NoAccount) => query = query.filter(audit_log::actor_id.is_null()),
        None => {}
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_log::action.eq(action));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::created_at.lt(to));
    }
    if let Some(before) = filter.before {
        query = query.filter(audit_log::id.lt(before));
    }
    query.order(audit_log::id.desc()).limit(limit).load(conn)
}

/// Forgets up to `batch` of the oldest entries older than `before`; returns how many.
pub fn delete_before(
    conn: &mut DbConnection,
    before: chrono::NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    let ids: Vec<i64> = audit_log::table
        .filter(audit_log::created_at.lt(before))
        .order(audit_log::id.asc())
        .select(audit_log::id)
        .limit(batch)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(audit_log::table.filter(audit_log::id.eq_any(ids))).execute(conn)
}

/// Whether `action` on `subject` was recorded at or after `since`.
pub fn recorded_since(
    conn: &mut DbConnection,
    action: AuditAction,
    subject: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        audit_log::table
            .filter(audit_log::action.eq(action))
            .filter(audit_log::subject.eq(subject))
            .filter(audit_log::created_at.ge(since)),
    ))
    .get_result(conn)
}
