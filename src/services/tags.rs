//! The tag registry's workflows: create, rename or recolour, delete; each audited.

use crate::db::tags::{self, Tag};
use crate::db::types::{AuditAction, TagId};
use crate::db::{self, DbConnection};
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::audit;

/// Creates a tag, or changes the one with `id`. `false` when another tag has the name.
pub fn save_tag(
    conn: &mut DbConnection,
    actor: &Actor,
    id: Option<TagId>,
    name: &str,
    color: &str,
) -> Result<bool, AppError> {
    db::transaction(conn, |conn| {
        if tags::name_taken(conn, name, id)? {
            return Ok(false);
        }
        let action = match id {
            Some(id) => {
                tags::get_tag(conn, id)?;
                tags::update_tag(conn, id, name, color)?;
                AuditAction::TagUpdated
            }
            None => {
                tags::insert_tag(conn, name, color)?;
                AuditAction::TagCreated
            }
        };
        audit::record(conn, actor, action, name, color)?;
        Ok(true)
    })
}

/// Deletes a tag, taking it off every customer.
pub fn delete_tag(conn: &mut DbConnection, actor: &Actor, id: TagId) -> Result<Tag, AppError> {
    db::transaction(conn, |conn| {
        let tag = tags::get_tag(conn, id)?;
        tags::delete_tag(conn, id)?;
        audit::record(
            conn,
            actor,
            AuditAction::TagDeleted,
            &tag.name,
            &crate::page::count_of(tag.customers_count, "customer", "customers"),
        )?;
        Ok(tag)
    })
}
