//! Settings → Integrations: the outbound webhook and API tokens.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::{CurrentUser, Supervisor};
use crate::db::tokens::{self, ApiToken};
use crate::db::types::{DeliveryStatus, TokenId};
use crate::db::{self, settings as stored};
use crate::domain::FieldErrors;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::settings;
use crate::services::tokens as token_service;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/integrations.html")]
struct IntegrationsPage {
    ctx: PageContext,
    webhook_url: String,
    secret_set: bool,
    tokens: Vec<(ApiToken, String, Option<String>)>,
    new_token: Option<String>,
    /// A signing secret just made: shown on this one page.
    new_secret: Option<String>,
    token_name: String,
    errors: FieldErrors,
    pending: i64,
    failed: i64,
    /// The latest deliveries, newest first.
    deliveries: Vec<DeliveryLine>,
}

/// One line of the delivery log.
struct DeliveryLine {
    id: i64,
    message: i64,
    state: &'static str,
    attempts: i32,
    error: String,
    /// How long the receiver took to answer the last attempt ("120 ms").
    took: String,
    queued: String,
    delivered: String,
}

/// Deliveries the log shows.
const LOG_LINES: i64 = 200;

/// What the page shows once: a new API token or a new signing secret.
#[derive(Default)]
struct Once {
    token: Option<String>,
    secret: Option<String>,
}

/// The Integrations page; `typed_url`, when given, is a refused webhook URL kept in its
/// field.
async fn page(
    current: &CurrentUser,
    state: &AppState,
    once: Once,
    token_name: String,
    typed_url: Option<String>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (url, secret, found, pending, failed, recent) = state
        .run(|conn| {
            Ok((
                stored::find_setting(conn, crate::db::types::Setting::WebhookUrl)?
                    .unwrap_or_default(),
                stored::find_setting(conn, crate::db::types::Setting::WebhookSecret)?,
                tokens::list_tokens(conn)?,
                db::outbox::count_by_status(conn, DeliveryStatus::Pending)?,
                db::outbox::count_by_status(conn, DeliveryStatus::Failed)?,
                db::outbox::list_recent(conn, LOG_LINES)?,
            ))
        })
        .await?;
    let ctx = PageContext::new(current, "integrations")?;
    let tokens = found
        .into_iter()
        .map(|t| {
            let created = ctx.time(t.created_at);
            let used = t.last_used_at.map(|at| ctx.time(at));
            (t, created, used)
        })
        .collect();
    let deliveries = recent
        .into_iter()
        .map(|d| DeliveryLine {
            id: d.id,
            message: d.message_id.0,
            state: match d.status {
                _ if d
                    .sending_until
                    .is_some_and(|until| until > crate::db::now()) =>
                {
                    "sending"
                }
                DeliveryStatus::Delivered => "delivered",
                DeliveryStatus::Failed => "failed",
                DeliveryStatus::Pending if d.attempts > 0 => "retrying",
                DeliveryStatus::Pending => "waiting",
            },
            attempts: d.attempts,
            error: d.last_error.unwrap_or_default(),
            took: d
                .response_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default(),
            queued: ctx.time(d.created_at),
            delivered: d.delivered_at.map(|at| ctx.time(at)).unwrap_or_default(),
        })
        .collect();
    let failed_form = !errors.is_empty();
    let page = IntegrationsPage {
        ctx,
        webhook_url: typed_url.unwrap_or(url),
        secret_set: secret.is_some(),
        tokens,
        new_token: once.token,
        new_secret: once.secret,
        token_name,
        errors,
        pending,
        failed,
        deliveries,
    };
    if failed_form {
        render_status(&page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// The page with a secret just made, shown on this answer only (a redirect would have to
/// carry it).
async fn shown_once(
    current: &CurrentUser,
    state: &AppState,
    once: Once,
) -> Result<HttpResponse, AppError> {
    page(
        current,
        state,
        once,
        String::new(),
        None,
        FieldErrors::default(),
    )
    .await
}

/// `GET /settings/integrations`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(
        &current,
        &state,
        Once::default(),
        String::new(),
        None,
        FieldErrors::default(),
    )
    .await
}

/// The webhook form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebhookForm {
    url: String,
    new_secret: Option<String>,
}

/// `POST /settings/integrations/webhook`.
pub async fn save_webhook(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<WebhookForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let url = form.url.trim().to_owned();
    let allow_private = state.settings.allow_private_webhooks;
    let checked = {
        let url = url.clone();
        web::block(move || crate::services::delivery::check_receiver(&url, allow_private))
            .await
            .map_err(|e| AppError::Unexpected(e.into()))?
    };
    if let Err(message) = checked {
        let mut errors = FieldErrors::default();
        errors.push("url", message);
        return page(
            &current,
            &state,
            Once::default(),
            String::new(),
            Some(url),
            errors,
        )
        .await;
    }
    let actor = current.actor();
    let rotate = form.new_secret.is_some();
    let made = state
        .run(move |conn| settings::save_webhook(conn, &actor, &url, rotate))
        .await?;
    match made {
        Some(secret) => {
            let once = Once {
                secret: Some(secret),
                ..Once::default()
            };
            shown_once(&current, &state, once).await
        }
        None => {
            current.session.flash(FlashKind::Success, "Webhook saved.");
            Ok(see_other("/settings/integrations"))
        }
    }
}

/// `POST /settings/integrations/retry`: failed deliveries are tried again.
pub async fn retry_failed(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let count = state.run(crate::services::delivery::retry_failed).await?;
    current.session.flash(
        FlashKind::Success,
        format!(
            "{} queued again.",
            crate::page::count_of(count as i64, "delivery", "deliveries")
        ),
    );
    Ok(see_other("/settings/integrations"))
}

/// `POST /settings/integrations/test`: a signed test event to the webhook, now; the answer
/// says how the receiver took it.
pub async fn send_test(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let allow_private = state.settings.allow_private_webhooks;
    match state
        .run(move |conn| crate::services::delivery::send_test(conn, allow_private))
        .await?
    {
        Ok(took) => current.session.flash(
            FlashKind::Success,
            format!(
                "The receiver took the test event in {} ms.",
                took.as_millis()
            ),
        ),
        Err(why) => current
            .session
            .flash(FlashKind::Error, format!("The test event failed: {why}.")),
    }
    Ok(see_other("/settings/integrations"))
}

/// The new-token form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
}

/// `POST /settings/tokens`: the secret is shown on this one page, never again.
pub async fn create_token(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let name = form.into_inner().name;
    let actor = current.actor();
    let token_name = name.clone();
    let result = state
        .run(move |conn| token_service::create_token(conn, &actor, &token_name))
        .await;
    match result {
        Ok(secret) => {
            let once = Once {
                token: Some(secret),
                ..Once::default()
            };
            shown_once(&current, &state, once).await
        }
        Err(AppError::Invalid(errors)) => {
            page(&current, &state, Once::default(), name, None, errors).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /settings/tokens/{id}/revoke`.
pub async fn revoke_token(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<TokenId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    state
        .run(move |conn| token_service::revoke_token(conn, &actor, id))
        .await?;
    current
        .session
        .flash(FlashKind::Success, "Token revoked: it no longer works.");
    Ok(see_other("/settings/integrations"))
}
