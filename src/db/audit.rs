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

/// The newest entries.
pub fn list_audit(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table
        .order(audit_log::id.desc())
        .limit(limit)
        .load(conn)
}
