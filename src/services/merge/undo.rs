//! Undoing a merge: the duplicate comes back as it was, with what came from it, and the
//! survivor's values the merge set go back unless someone changed them since.

use chrono::Duration;

use super::{Snapshot, write_values};
use crate::db::customers::{self, Customer};
use crate::db::events::{self, NewEvent};
use crate::db::properties;
use crate::db::types::{AuditAction, CustomerId, EventAction};
use crate::db::{self, DbConnection, locks, merges, now, search};
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::audit;

/// For how many days a merge can be undone.
pub const UNDO_DAYS: i64 = 30;

/// Whether a merge made at `merged_at` can still be undone.
pub fn within_window(merged_at: chrono::NaiveDateTime) -> bool {
    now() - merged_at < Duration::days(UNDO_DAYS)
}

/// Drops the snapshots of merges past the undo window; returns how many.
pub fn drop_expired_snapshots(conn: &mut DbConnection) -> Result<usize, AppError> {
    Ok(merges::drop_snapshots_before(
        conn,
        now() - Duration::days(UNDO_DAYS),
    )?)
}

/// Undoes merge `merge_id` into `survivor`; returns the restored customer's public ID.
pub fn undo(
    conn: &mut DbConnection,
    survivor: CustomerId,
    merge_id: i64,
    actor: &Actor,
) -> Result<String, AppError> {
    db::transaction(conn, |conn| {
        let merge = merges::get_merge(conn, merge_id)?;
        if merge.survivor_id != survivor {
            return Err(AppError::NotFound);
        }
        // Claimed before anything moves: of two undos at once, one does it.
        if merge.undone_at.is_some() || merges::mark_undone(conn, merge.id, &actor.name())? == 0 {
            return Err(AppError::Conflict("This merge was undone already.".into()));
        }
        let snapshot = merge
            .snapshot
            .as_deref()
            .filter(|_| within_window(merge.merged_at))
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "This merge can no longer be undone: merges can be undone for {UNDO_DAYS} days."
                ))
            })?;
        let snapshot: Snapshot =
            serde_json::from_str(snapshot).map_err(|e| AppError::Unexpected(e.into()))?;
        let survivor = customers::get_customer(conn, survivor)?;
        let registry = properties::list_properties(conn)?;

        // The duplicate's row, values, lock and search terms, as they were.
        let mut restored: Customer = snapshot.duplicate;
        restored.version += 1;
        restored.updated_at = now();
        restored.search_version = 0;
        customers::insert_customers(conn, std::slice::from_ref(&restored))?;
        search::index_customer(conn, None, &restored)?;
        let values: Vec<_> = snapshot
            .values
            .iter()
            .filter(|(property, _)| registry.iter().any(|p| p.id == *property))
            .map(|(property, value)| (restored.id, restored.created_at, *property, value))
            .collect();
        customers::insert_custom_values(conn, &values)?;
        if let Some(by) = &snapshot.locked_by {
            locks::insert_lock(conn, restored.id, by)?;
        }
        merges::move_back(
            conn,
            &snapshot.moved,
            restored.id,
            survivor.id,
            merge.merged_at,
        )?;

        // The survivor's values the merge set go back, unless changed since.
        let current = crate::services::profiles::current_values(conn, &survivor, &registry)?;
        let back: Vec<(&str, Option<&crate::domain::property::Value>)> = snapshot
            .decisions
            .iter()
            .filter(|d| d.before != d.after && current.get(&d.key) == d.after.as_ref())
            .map(|d| (d.key.as_str(), d.before.as_ref()))
            .collect();
        write_values(conn, &survivor, &registry, &back)?;
        if snapshot.blacklisted && survivor.blacklisted {
            customers::update_blacklist(conn, survivor.id, None, None)?;
        }
        if let Some((before, after)) = &snapshot.lifecycle
            && &survivor.lifecycle == after
        {
            customers::update_lifecycle(conn, survivor.id, before)?;
        }

        for customer in [survivor.id, restored.id] {
            customers::recount_customer(conn, customer)?;
            merges::recount_orders(conn, customer)?;
        }
        let version = customers::bump_version(conn, survivor.id, None)?.unwrap_or(survivor.version);
        let detail = serde_json::json!({ "merge_id": merge.id, "duplicate": restored.public_id });
        for (customer, customer_version) in
            [(survivor.id, version), (restored.id, restored.version)]
        {
            events::insert_event(
                conn,
                NewEvent {
                    customer,
                    actor,
                    action: EventAction::MergeUndone,
                    property_key: None,
                    old_value: None,
                    new_value: Some(detail.to_string()),
                    reverts: None,
                    customer_version,
                },
            )?;
        }
        crate::db::duplicate_checks::queue_checks(conn, &[survivor.id, restored.id])?;
        audit::record(
            conn,
            actor,
            AuditAction::CustomerMergeUndone,
            &survivor.public_id,
            &format!("restored {}", restored.public_id),
        )?;
        Ok(restored.public_id)
    })
}
