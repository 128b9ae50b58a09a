//! Settings → Tags: the tag list (name and colour).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Supervisor;
use crate::db::tags::{self, Tag};
use crate::db::types::TagId;
use crate::domain::FieldErrors;
use crate::domain::customer::{TAG_COLORS, parse_tag_color, parse_tag_name};
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::tags as tag_service;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/tags.html")]
struct TagsPage {
    ctx: PageContext,
    tags: Vec<Tag>,
    colors: [(&'static str, &'static str); 8],
    form: TagForm,
    errors: FieldErrors,
    editing: Option<i64>,
}

/// A tag's fields.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TagForm {
    name: String,
    color: String,
}

async fn page(
    current: &crate::auth::CurrentUser,
    state: &AppState,
    form: TagForm,
    errors: FieldErrors,
    editing: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let tags = state.run(|conn| Ok(tags::list_tags(conn)?)).await?;
    let failed = !errors.is_empty();
    let page = TagsPage {
        ctx: PageContext::new(current, "tags")?,
        tags,
        colors: TAG_COLORS,
        form,
        errors,
        editing,
    };
    if failed {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// `GET /settings/tags`.
pub async fn list(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = TagForm {
        name: String::new(),
        color: TAG_COLORS[0].0.to_owned(),
    };
    page(&current, &state, form, FieldErrors::default(), None).await
}

fn parse(form: &TagForm) -> Result<(String, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_tag_name(&form.name));
    let color = errors.check("color", parse_tag_color(&form.color));
    match (name, color) {
        (Some(name), Some(color)) => Ok((name, color)),
        _ => Err(errors),
    }
}

/// `POST /settings/tags`.
pub async fn create(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    save(current, state, form.into_inner(), None).await
}

/// `POST /settings/tags/{id}`: rename or recolour.
pub async fn update(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<TagId>,
    form: web::Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    save(current, state, form.into_inner(), Some(path.into_inner())).await
}

async fn save(
    current: crate::auth::CurrentUser,
    state: web::Data<AppState>,
    form: TagForm,
    id: Option<TagId>,
) -> Result<HttpResponse, AppError> {
    let (name, color) = match parse(&form) {
        Ok(parsed) => parsed,
        Err(errors) => return page(&current, &state, form, errors, id.map(|i| i.0)).await,
    };
    let actor = current.actor();
    let saved_name = name.clone();
    let saved = state
        .run(move |conn| tag_service::save_tag(conn, &actor, id, &name, &color))
        .await?;
    if !saved {
        let mut errors = FieldErrors::default();
        errors.push("name", "A tag with this name exists already.");
        return page(&current, &state, form, errors, id.map(|i| i.0)).await;
    }
    current
        .session
        .flash(FlashKind::Success, format!("Saved tag {saved_name}."));
    Ok(see_other("/settings/tags"))
}

/// `POST /settings/tags/{id}/delete`: removes the tag from every customer.
pub async fn delete(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<TagId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let tag = state
        .run(move |conn| tag_service::delete_tag(conn, &actor, id))
        .await?;
    current
        .session
        .flash(FlashKind::Success, format!("Deleted tag {}.", tag.name));
    Ok(see_other("/settings/tags"))
}
