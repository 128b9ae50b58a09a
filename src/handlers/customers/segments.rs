//! Segments: filters of the Customers page saved under a name and shared with the team.
//! Anyone on the page saves one; supervisors rename and delete them.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::{CustomersUser, Supervisor};
use crate::db::types::SegmentId;
use crate::error::{AppError, see_other};
use crate::page::FlashKind;
use crate::services::segments::{self as service, parse_name};
use crate::state::AppState;

/// The save / rename form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SegmentForm {
    name: String,
    query: String,
}

/// `POST /customers/segments`: saves the current filter.
pub async fn save(
    user: CustomersUser,
    state: web::Data<AppState>,
    form: web::Form<SegmentForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let query: String = form
        .query
        .trim_start_matches('?')
        .chars()
        .take(2000)
        .collect();
    let back = format!("/customers?{query}");
    let name = match parse_name(&form.name) {
        Ok(name) => name,
        Err(message) => {
            user.0.session.flash(FlashKind::Error, message);
            return Ok(see_other(&back));
        }
    };
    let author = user.0.user.display_name.clone();
    let saved_name = name.clone();
    let stored = query.clone();
    let saved = state
        .run(move |conn| service::save_segment(conn, &name, &stored, &author))
        .await?;
    if saved {
        user.0.session.flash(
            FlashKind::Success,
            format!("Saved the segment {saved_name}."),
        );
    } else {
        user.0
            .session
            .flash(FlashKind::Error, "A segment with this name exists already.");
    }
    Ok(see_other(&back))
}

/// `POST /customers/segments/{id}`: renames (supervisors).
pub async fn rename(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<SegmentId>,
    form: web::Form<SegmentForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    match parse_name(&form.name) {
        Ok(name) => {
            let renamed = state
                .run(move |conn| service::rename_segment(conn, id, &name))
                .await?;
            if renamed {
                user.session.flash(FlashKind::Success, "Segment renamed.");
            } else {
                user.session.flash(
                    FlashKind::Error,
                    "That name is taken, or the segment no longer exists.",
                );
            }
        }
        Err(message) => user.session.flash(FlashKind::Error, message),
    }
    Ok(see_other("/customers"))
}

/// `POST /customers/segments/{id}/delete` (supervisors).
pub async fn delete(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<SegmentId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    state
        .run(move |conn| service::delete_segment(conn, id))
        .await?;
    user.session.flash(FlashKind::Success, "Segment deleted.");
    Ok(see_other("/customers"))
}
