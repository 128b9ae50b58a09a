//! The audit log of staff actions that are not about one customer (settings, properties,
//! tags, tokens, exports). Customer changes go to History through `services::profiles`.

use crate::db::types::AuditAction;
use crate::db::{DbConnection, audit};
use crate::domain::customer::Actor;
use crate::error::AppError;

/// Records one action, in the caller's transaction when there is one.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: AuditAction,
    subject: &str,
    detail: &str,
) -> Result<(), AppError> {
    audit::insert_audit(
        conn,
        actor.user_id(),
        &actor.name(),
        action,
        subject,
        detail,
    )?;
    Ok(())
}
