//! Settings → Self-service: the keyword, link validity and the name customers see.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::{CurrentUser, Supervisor};
use crate::domain::FieldErrors;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render_status};
use crate::page::FlashKind;
use crate::services::selfservice;
use crate::state::AppState;

/// The form, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SelfServiceForm {
    enabled: Option<String>,
    keyword: String,
    ttl_hours: String,
    org_name: String,
    locked_edits: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/selfservice.html")]
struct SelfServicePage {
    ctx: PageContext,
    form: SelfServiceForm,
    errors: FieldErrors,
}

fn page(
    current: &CurrentUser,
    form: SelfServiceForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let status = if errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        &SelfServicePage {
            ctx: PageContext::new(current, "selfservice")?,
            form,
            errors,
        },
        status,
    )
}

/// `GET /settings/self-service`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let config = state.run(selfservice::config).await?;
    let form = SelfServiceForm {
        enabled: config.enabled.then(|| "on".to_owned()),
        keyword: config.keyword,
        ttl_hours: config.ttl_hours.to_string(),
        org_name: config.org_name,
        locked_edits: config.locked_edits.then(|| "on".to_owned()),
    };
    page(&current, form, FieldErrors::default())
}

/// `POST /settings/self-service`.
pub async fn save(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<SelfServiceForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let keyword = form.keyword.trim().to_owned();
    if keyword.is_empty() || keyword.chars().count() > 40 {
        errors.push(
            "keyword",
            "The keyword has 1 to 40 characters, e.g. profile.",
        );
    }
    let ttl = form
        .ttl_hours
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|h| (1..=720).contains(h));
    if ttl.is_none() {
        errors.push("ttl_hours", "A link stays valid 1 to 720 hours.");
    }
    let org_name = form.org_name.trim().to_owned();
    if org_name.is_empty() || org_name.chars().count() > 80 {
        errors.push(
            "org_name",
            "The organisation's name has 1 to 80 characters.",
        );
    }
    let Some(ttl) = ttl.filter(|_| errors.is_empty()) else {
        return page(&current, form, errors);
    };
    let enabled = form.enabled.is_some();
    let locked_edits = form.locked_edits.is_some();
    let actor = current.actor();
    let config = selfservice::Config {
        enabled,
        keyword,
        ttl_hours: ttl,
        org_name,
        locked_edits,
    };
    state
        .run(move |conn| selfservice::save_config(conn, &actor, &config))
        .await?;
    current
        .session
        .flash(FlashKind::Success, "Self-service settings saved.");
    Ok(see_other("/settings/self-service"))
}
