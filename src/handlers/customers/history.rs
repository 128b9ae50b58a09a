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

fn tag_name(json: Option<&str>) -> String {
    json.and_then(|j| serde_json::from_str::<TagRef>(j).ok())
        .map_or_else(|| "a tag".to_owned(), |t| t.name)
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
            let (what, old, new, note) = match event.action {
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
                // Actions whose values are plain text: shown as stored.
                EventAction::ConversationMoved
                | EventAction::IdentityLinked
                | EventAction::IdentityUnlinked
                | EventAction::Blacklisted
                | EventAction::Unblacklisted => (
                    event.action.as_str().replace('_', " "),
                    event.old_value.clone().unwrap_or_default(),
                    event.new_value.clone().unwrap_or_default(),
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
    let recorded = state
        .run(move |conn| Ok(events::list_events(conn, id, 500)?))
        .await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let entries = event_views(&ctx, &recorded, &loaded.properties, user.role(), &recorded);
    render(&HistoryPage {
        header: ProfileHeader::new(&loaded, "history"),
        ctx,
        entries,
    })
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
