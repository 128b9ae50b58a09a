//! The History tab: every recorded change, newest first; supervisors can revert one.

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use askama::Template;

use super::fields::parse_stored_time;
use super::{ProfileHeader, lifecycle_label, load};
use crate::auth::{CustomersUser, Supervisor};
use crate::db::events::{self, Event};
use crate::db::properties::Property;
use crate::db::types::EventAction;
use crate::db::types::EventId;
use crate::domain::Role;
use crate::domain::property::{PropertyType, Value};
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render};
use crate::page::FlashKind;
use crate::services::merge;
use crate::services::profiles::{self, TagRef};
use crate::state::AppState;

/// One entry as pages show it.
pub struct EventView {
    pub id: i64,
    pub when: String,
    pub actor: String,
    pub what: String,
    pub old: String,
    pub new: String,
    pub note: Option<String>,
    pub revertible: bool,
    pub reverted: bool,
    pub is_revert: bool,
    /// Lines under the entry (a merge's field decisions and what moved).
    pub details: Vec<String>,
    /// The merge this entry recorded, if it is a merge.
    pub merge_id: Option<i64>,
    /// Whether this reader can undo that merge now.
    pub undoable: bool,
}

fn show_value(json: Option<&str>, property: Option<&Property>, ctx: &PageContext) -> String {
    let Some(json) = json else {
        return "—".to_owned();
    };
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return "—".to_owned();
    };
    let ty = property.map_or(PropertyType::Text, |p| p.ty);
    match (&value, ty) {
        (Value::Text { text }, PropertyType::DateTime) => {
            parse_stored_time(text).map_or_else(|| text.clone(), |t| ctx.time(t))
        }
        _ => value.display(ty),
    }
}

/// A stored `channel:id` as people read it: "WhatsApp +385912345678".
fn identity_text(stored: Option<&str>) -> String {
    let Some(stored) = stored else {
        return "(erased)".to_owned();
    };
    match stored.split_once(':') {
        Some((channel, id)) => match channel.parse::<crate::domain::channel::Channel>() {
            Ok(channel) => format!("{} {id}", channel.label()),
            Err(_) => stored.to_owned(),
        },
        None => stored.to_owned(),
    }
}

fn tag_name(json: Option<&str>) -> String {
    json.and_then(|j| serde_json::from_str::<TagRef>(j).ok())
        .map_or_else(|| "a tag".to_owned(), |t| t.name)
}

/// A merge's field decisions (those this role may see) and what moved, one line each.
fn merge_details(record: &merge::MergeRecord, properties: &[Property], role: Role) -> Vec<String> {
    let mut lines: Vec<String> = record
        .decisions
        .iter()
        .filter_map(|decision| {
            let property = properties.iter().find(|p| p.key == decision.key)?;
            if !property.visible_to(role) {
                return None;
            }
            let shown = decision
                .after
                .as_ref()
                .map_or_else(|| "—".to_owned(), |v| v.display(property.ty));
            let whose = match decision.kept {
                merge::Keep::Survivor => "kept this customer's",
                merge::Keep::Duplicate => "took the duplicate's",
                merge::Keep::Both => "kept both",
            };
            Some(format!("{}: {whose} ({shown})", property.label))
        })
        .collect();
    if let Some((before, after)) = &record.lifecycle {
        lines.push(format!(
            "Lifecycle stage: took the duplicate's ({} instead of {})",
            lifecycle_label(after),
            lifecycle_label(before)
        ));
    }
    let moved = &record.moved;
    lines.push(format!(
        "Moved: {} identities, {} conversations, {} messages, {} notes, {} orders, {} tags",
        moved.identities,
        moved.conversations,
        moved.messages,
        moved.notes,
        moved.orders,
        moved.tags
    ));
    lines
}

/// Builds the views of `shown`, leaving out changes to properties this role may not see.
/// `all` is every loaded entry, used to tell which have been reverted.
pub fn event_views(
    ctx: &PageContext,
    shown: &[Event],
    properties: &[Property],
    role: Role,
    all: &[Event],
) -> Vec<EventView> {
    let reverted: HashSet<i64> = all.iter().filter_map(|e| e.reverts_event_id).collect();
    let supervisor = role >= Role::Supervisor;
    shown
        .iter()
        .filter_map(|event| {
            let property = event
                .property_key
                .as_deref()
                .and_then(|key| properties.iter().find(|p| p.key == key));
            if event.property_key.is_some() {
                match property {
                    Some(p) if p.visible_to(role) => {}
                    // Hidden from this role: never shown, not even that it changed.
                    Some(_) => return None,
                    // A deleted property: supervisors still see it by technical name.
                    None if supervisor => {}
                    None => return None,
                }
            }
            let mut details = Vec::new();
            let mut merge_id = None;
            let (what, old, new, note) = match event.action {
                EventAction::Merged => match merge::read_record(event) {
                    Some(record) => {
                        merge_id = Some(record.merge_id);
                        details = merge_details(&record, properties, role);
                        (
                            format!("Merged {} into this customer", record.duplicate),
                            String::new(),
                            String::new(),
                            None,
                        )
                    }
                    None => (
                        event.old_value.as_ref().map_or_else(
                            || "Merged another customer into this one".to_owned(),
                            |duplicate| format!("Merged {duplicate} into this customer"),
                        ),
                        String::new(),
                        String::new(),
                        None,
                    ),
                },
                EventAction::MergeUndone => (
                    "Undid a merge".to_owned(),
                    String::new(),
                    event
                        .new_value
                        .as_deref()
                        .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                        .and_then(|v| v["duplicate"].as_str().map(|d| format!("{d} restored")))
                        .unwrap_or_default(),
                    None,
                ),
                EventAction::Created => (
                    "Created the customer".to_owned(),
                    String::new(),
                    String::new(),
                    None,
                ),
                EventAction::PropertyChanged => (
                    format!(
                        "Changed {}",
                        property.map_or_else(
                            || event.property_key.clone().unwrap_or_default(),
                            |p| p.label.clone()
                        )
                    ),
                    show_value(event.old_value.as_deref(), property, ctx),
                    show_value(event.new_value.as_deref(), property, ctx),
                    None,
                ),
                EventAction::LifecycleChanged => (
                    "Changed lifecycle stage".to_owned(),
                    lifecycle_label(event.old_value.as_deref().unwrap_or_default()).to_owned(),
                    lifecycle_label(event.new_value.as_deref().unwrap_or_default()).to_owned(),
                    None,
                ),
                EventAction::LifecyclePinned | EventAction::LifecycleUnpinned => (
                    format!(
                        "{} the lifecycle stage {}",
                        if event.action == EventAction::LifecyclePinned {
                            "Pinned"
                        } else {
                            "Unpinned"
                        },
                        lifecycle_label(event.new_value.as_deref().unwrap_or_default())
                    ),
                    String::new(),
                    String::new(),
                    None,
                ),
                EventAction::TagAdded => (
                    format!("Added tag {}", tag_name(event.new_value.as_deref())),
                    String::new(),
                    String::new(),
                    None,
                ),
                EventAction::TagRemoved => (
                    format!("Removed tag {}", tag_name(event.old_value.as_deref())),
                    String::new(),
                    String::new(),
                    None,
                ),
                EventAction::NoteAdded => (
                    "Added a note".to_owned(),
                    String::new(),
                    String::new(),
                    event
                        .new_value
                        .as_deref()
                        .and_then(|j| serde_json::from_str::<String>(j).ok()),
                ),
                EventAction::IdentityLinked | EventAction::IdentityUnlinked => {
                    let verb = if event.action == EventAction::IdentityLinked {
                        "Linked"
                    } else {
                        "Unlinked"
                    };
                    let stored = event.new_value.as_deref().or(event.old_value.as_deref());
                    (
                        format!("{verb} the identity {}", identity_text(stored)),
                        String::new(),
                        String::new(),
                        None,
                    )
                }
                EventAction::ConversationMoved => (
                    "Moved a conversation".to_owned(),
                    event.old_value.clone().unwrap_or_default(),
                    event.new_value.clone().unwrap_or_default(),
                    None,
                ),
                EventAction::Blacklisted => (
                    "Added to the blacklist".to_owned(),
                    String::new(),
                    event.new_value.clone().unwrap_or_default(),
                    None,
                ),
                EventAction::Unblacklisted => (
                    "Removed from the blacklist".to_owned(),
                    event.old_value.clone().unwrap_or_default(),
                    String::new(),
                    None,
                ),
                other => (
                    other.as_str().replace('_', " "),
                    String::new(),
                    String::new(),
                    None,
                ),
            };
            let revertible_action = matches!(
                event.action,
                EventAction::PropertyChanged
                    | EventAction::LifecycleChanged
                    | EventAction::TagAdded
                    | EventAction::TagRemoved
            );
            // Anonymization clears the values of every entry; the entries stay.
            let erased = event.old_value.is_none()
                && event.new_value.is_none()
                && matches!(
                    event.action,
                    EventAction::PropertyChanged
                        | EventAction::LifecycleChanged
                        | EventAction::NoteAdded
                        | EventAction::IdentityLinked
                        | EventAction::IdentityUnlinked
                        | EventAction::ConversationMoved
                        | EventAction::Merged
                );
            let (old, new, note) = if erased {
                (String::new(), String::new(), Some("erased".to_owned()))
            } else {
                (old, new, note)
            };
            let was_reverted = reverted.contains(&event.id.0);
            Some(EventView {
                id: event.id.0,
                when: ctx.time(event.created_at),
                actor: event.actor_name.clone(),
                what,
                old,
                new,
                note,
                revertible: supervisor && revertible_action && !was_reverted && !erased,
                reverted: was_reverted,
                is_revert: event.reverts_event_id.is_some(),
                details,
                merge_id,
                undoable: false,
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "customers/history.html")]
struct HistoryPage {
    ctx: PageContext,
    header: ProfileHeader,
    entries: Vec<EventView>,
}

/// `GET /customers/{id}/history`.
pub async fn history(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, path.into_inner()).await?;
    let id = loaded.customer.id;
    let (recorded, undoable) = state
        .run(move |conn| {
            Ok((
                events::list_events(conn, id, 500)?,
                merge::undoable_into(conn, id)?,
            ))
        })
        .await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let mut entries = event_views(&ctx, &recorded, &loaded.properties, user.role(), &recorded);
    if user.role() >= Role::Supervisor {
        for entry in &mut entries {
            entry.undoable = entry.merge_id.is_some_and(|m| undoable.contains(&m));
        }
    }
    render(&HistoryPage {
        header: ProfileHeader::new(&loaded, "history"),
        ctx,
        entries,
    })
}

/// `POST /customers/{id}/merges/{merge}/undo` (supervisors): the duplicate comes back.
pub async fn undo_merge(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (public_id, merge_id) = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.actor();
    let result = state
        .run(move |conn| merge::undo(conn, loaded.customer.id, merge_id, &actor))
        .await;
    match result {
        Ok(restored) => user.session.flash(
            FlashKind::Success,
            format!("The merge was undone: {restored} is back as it was."),
        ),
        Err(AppError::Conflict(message)) => user.session.flash(FlashKind::Error, message),
        Err(other) => return Err(other),
    }
    Ok(see_other(&format!("/customers/{public_id}/history")))
}

/// `POST /customers/{id}/history/{event}/revert` (supervisors).
pub async fn revert(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<(String, EventId)>,
) -> Result<HttpResponse, AppError> {
    let (public_id, event) = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.actor();
    let result = state
        .run(move |conn| {
            profiles::revert_event(conn, loaded.customer.id, event, &loaded.properties, &actor)
        })
        .await;
    match result {
        Ok(()) => user
            .session
            .flash(FlashKind::Success, "The change was reverted."),
        Err(AppError::Conflict(message)) => user.session.flash(FlashKind::Error, message),
        Err(other) => return Err(other),
    }
    Ok(see_other(&format!("/customers/{public_id}/history")))
}
