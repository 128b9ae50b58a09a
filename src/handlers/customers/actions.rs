//! Actions on a customer beside the tabs: blacklist, lock, pin the lifecycle stage,
//! Contact customer, send and revoke self-service links.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::load;
use crate::auth::{CustomersUser, Supervisor};
use crate::db::types::IdentityId;
use crate::error::{AppError, see_other};
use crate::page::FlashKind;
use crate::services::conversations::{self as traffic, Author};
use crate::state::AppState;

/// The blacklist form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlacklistForm {
    reason: String,
}

/// `POST /customers/{id}/blacklist`: a reason is required.
pub async fn blacklist(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<BlacklistForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    let reason = form.into_inner().reason;
    let result = state
        .run(move |conn| traffic::set_blacklisted(conn, loaded.customer.id, Some(&reason), &actor))
        .await;
    user.0.session.flash_outcome(
        result,
        "Added to the blacklist: new messages open no conversation.",
        "reason",
        "Give a reason.",
    )?;
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// `POST /customers/{id}/blacklist/remove`.
pub async fn unblacklist(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    state
        .run(move |conn| traffic::set_blacklisted(conn, loaded.customer.id, None, &actor))
        .await?;
    user.0
        .session
        .flash(FlashKind::Success, "Removed from the blacklist.");
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// The Contact customer form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    identity_id: IdentityId,
    text: String,
}

/// `POST /customers/{id}/contact` (Contact customer, Callback): a message on one of the
/// customer's identities, in its open conversation or a new outbound one.
pub async fn contact(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let form = form.into_inner();
    let (user_id, name) = (user.0.user.id.0, user.0.user.display_name.clone());
    let result = state
        .run(move |conn| {
            let author = Author::agent(user_id, &name);
            traffic::contact(
                conn,
                loaded.customer.id,
                form.identity_id,
                &author,
                &form.text,
            )
        })
        .await;
    match result {
        Ok((_, created)) => {
            user.0.session.flash(
                FlashKind::Success,
                if created {
                    "Message queued: a new conversation is open."
                } else {
                    "Message queued in the conversation already open on this identity."
                },
            );
            Ok(see_other(&format!("/customers/{public_id}/messages")))
        }
        Err(AppError::Invalid(errors)) => {
            user.0.session.flash(
                FlashKind::Error,
                errors.get("text").unwrap_or("Write a message.").to_owned(),
            );
            Ok(see_other(&format!("/customers/{public_id}/profile")))
        }
        Err(AppError::Conflict(message)) => {
            user.0.session.flash(FlashKind::Error, message);
            Ok(see_other(&format!("/customers/{public_id}/profile")))
        }
        Err(other) => Err(other),
    }
}

/// The Send profile link form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendLinkForm {
    identity_id: IdentityId,
}

/// `POST /customers/{id}/send-link`: sends the self-service link on one identity.
pub async fn send_link(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SendLinkForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let identity = form.identity_id;
    let (user_id, name, base) = (
        user.0.user.id.0,
        user.0.user.display_name.clone(),
        state.public_url.clone(),
    );
    let result = state
        .run(move |conn| {
            let author = Author::agent(user_id, &name);
            crate::services::selfservice::send(conn, loaded.customer.id, identity, &author, &base)
        })
        .await;
    match result {
        Ok(_) => user
            .0
            .session
            .flash(FlashKind::Success, "Profile link sent."),
        Err(AppError::Conflict(message)) => user.0.session.flash(FlashKind::Error, message),
        Err(other) => return Err(other),
    }
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// `POST /customers/{id}/links/revoke`: every self-service link and session of the
/// customer stops working.
pub async fn revoke_links(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let count = state
        .run(move |conn| crate::services::selfservice::revoke_all(conn, loaded.customer.id))
        .await?;
    user.0.session.flash(
        FlashKind::Success,
        format!("{count} self-service link(s) revoked."),
    );
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// `POST /customers/{id}/lock` (supervisors): channel data no longer changes the profile.
pub async fn lock(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_locked(user, state, path.into_inner(), true).await
}

/// `POST /customers/{id}/unlock` (supervisors).
pub async fn unlock(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_locked(user, state, path.into_inner(), false).await
}

async fn set_locked(
    user: crate::auth::CurrentUser,
    state: web::Data<AppState>,
    public_id: String,
    locked: bool,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.actor();
    state
        .run(move |conn| {
            crate::services::locks::set_locked(conn, loaded.customer.id, locked, &actor)
        })
        .await?;
    user.session.flash(
        FlashKind::Success,
        if locked {
            "Profile locked: channel data no longer changes it."
        } else {
            "Profile unlocked."
        },
    );
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

/// `POST /customers/{id}/lifecycle/pin` (`pinned=on`) or unpin: rules leave a pinned
/// stage alone.
pub async fn pin_stage(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let pinned = form.iter().any(|(k, v)| k == "pinned" && v == "on");
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    state
        .run(move |conn| {
            crate::services::lifecycle::set_pinned(conn, loaded.customer.id, pinned, &actor)
        })
        .await?;
    user.0.session.flash(
        FlashKind::Success,
        if pinned {
            "Stage pinned: lifecycle rules leave it alone."
        } else {
            "Stage unpinned: lifecycle rules may change it again."
        },
    );
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}

#[derive(askama::Template)]
#[template(path = "customers/anonymize.html")]
struct AnonymizePage {
    ctx: crate::page::PageContext,
    header: super::ProfileHeader,
    typed: String,
    error: Option<String>,
}

/// The confirmation form: the customer ID typed again.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnonymizeForm {
    confirm: String,
}

/// `GET /customers/{id}/anonymize` (supervisors): what will be erased, and the form.
pub async fn confirm_anonymize(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, path.into_inner()).await?;
    crate::handlers::page::render(&AnonymizePage {
        ctx: crate::page::PageContext::new(&user, "customers")?,
        header: super::ProfileHeader::new(&loaded, "profile"),
        typed: String::new(),
        error: None,
    })
}

/// `POST /customers/{id}/anonymize` (supervisors): erases the customer's personal data once
/// the customer ID was typed to confirm.
pub async fn anonymize(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<AnonymizeForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let typed = form.into_inner().confirm;
    if !typed.trim().eq_ignore_ascii_case(&public_id) {
        return crate::handlers::page::render_status(
            &AnonymizePage {
                ctx: crate::page::PageContext::new(&user, "customers")?,
                header: super::ProfileHeader::new(&loaded, "profile"),
                typed,
                error: Some(format!("Type {public_id} exactly to confirm.")),
            },
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let actor = user.actor();
    state
        .run(move |conn| crate::services::erasure::anonymize(conn, loaded.customer.id, &actor))
        .await?;
    user.session.flash(
        FlashKind::Success,
        "The customer's personal data is erased; counts and ratings remain.",
    );
    Ok(see_other(&format!("/customers/{public_id}/profile")))
}
