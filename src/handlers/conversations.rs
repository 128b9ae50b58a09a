//! Actions on one conversation: link it to a customer, create a customer from the contact,
//! unlink it. (The agent workspace shows the conversation itself.)

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::types::ConversationId;
use crate::domain::FieldErrors;
use crate::error::{AppError, see_other};
use crate::page::FlashKind;
use crate::services::conversations as traffic;
use crate::services::teams;
use crate::state::AppState;

/// Where to go after an action: the form's `back` if it is a local path, else the profile.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    /// The customer ID to link to.
    customer_id: String,
    /// Where to return.
    back: String,
}

fn back_to(back: &str, fallback: String) -> String {
    crate::handlers::page::local_path(back).map_or(fallback, str::to_owned)
}

/// `POST /conversations/{id}/link`: the unknown identity becomes the customer's.
pub async fn link(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let id = path.into_inner();
    let actor = current.actor();
    let public_id = form.customer_id.trim().to_owned();
    let target = public_id.clone();
    let scope = current.scope.clone();
    let result = state
        .run(move |conn| {
            let customer =
                teams::find_reachable_customer(conn, &scope, &target)?.ok_or_else(|| {
                    let mut errors = FieldErrors::default();
                    errors.push("customer_id", "There is no customer with this ID.");
                    AppError::Invalid(errors)
                })?;
            traffic::link(conn, id, customer.id, &actor)
        })
        .await;
    current.session.flash_outcome(
        result,
        format!("Conversation linked to {public_id}."),
        "customer_id",
        "Choose a customer.",
    )?;
    Ok(see_other(&back_to(
        &form.back,
        format!("/customers/{public_id}/interactions"),
    )))
}

/// `POST /conversations/{id}/link-new`: creates a customer from the contact (name from the
/// channel, phone or e-mail from the identity) and links the conversation to it.
pub async fn link_new(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let created = state
        .run(move |conn| traffic::link_new_customer(conn, id, &actor))
        .await?;
    current.session.flash(
        FlashKind::Success,
        format!("Created customer {created} from this contact."),
    );
    Ok(see_other(&back_to(
        &form.back,
        format!("/customers/{created}/profile"),
    )))
}

/// `POST /conversations/{id}/unlink`: the identity and its conversations become unknown.
pub async fn unlink(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    state
        .run(move |conn| traffic::unlink(conn, id, &actor))
        .await?;
    current.session.flash(
        FlashKind::Success,
        "Conversation unlinked; the contact is unknown again.",
    );
    Ok(see_other(&back_to(&form.back, "/".to_owned())))
}

/// `POST /conversations/{id}/move`: "not from this customer" — only this conversation
/// moves, to the customer named by `customer_id`, or to nobody when it is empty.
pub async fn move_conversation(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let form = form.into_inner();
    let to = form.customer_id.clone();
    let scope = current.scope.clone();
    let result = state
        .run(move |conn| {
            let named = to.trim();
            if scope.limited().is_some()
                && !named.is_empty()
                && teams::find_reachable_customer(conn, &scope, &named.to_uppercase())?.is_none()
            {
                let mut errors = FieldErrors::default();
                errors.push("customer_id", format!("No customer has the ID {named}."));
                return Err(AppError::Invalid(errors));
            }
            traffic::move_conversation(conn, id, Some(&to), &actor)
        })
        .await;
    current.session.flash_outcome(
        result,
        "Only this conversation was moved; the contact's other conversations stay.",
        "customer_id",
        "Check the customer ID.",
    )?;
    Ok(see_other(&back_to(
        &form.back,
        format!("/conversations/{}", id.0),
    )))
}

/// The reason given when blacklisting a contact.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContactBlacklistForm {
    reason: String,
}

/// `POST /conversations/{id}/contact-blacklist`: blacklists the conversation's unknown
/// contact (a reason is required); the conversation closes.
pub async fn blacklist_contact(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
    form: web::Form<ContactBlacklistForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let reason = form.into_inner().reason;
    let result = state
        .run(move |conn| traffic::set_contact_blacklisted(conn, id, Some(&reason), &actor))
        .await;
    contact_blacklist_done(&current, id, result, "Contact added to the blacklist.")
}

/// `POST /conversations/{id}/contact-blacklist/remove`.
pub async fn unblacklist_contact(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<ConversationId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = current.actor();
    let result = state
        .run(move |conn| traffic::set_contact_blacklisted(conn, id, None, &actor))
        .await;
    contact_blacklist_done(&current, id, result, "Contact removed from the blacklist.")
}

fn contact_blacklist_done(
    current: &CurrentUser,
    id: ConversationId,
    result: Result<(), AppError>,
    done: &str,
) -> Result<HttpResponse, AppError> {
    current
        .session
        .flash_outcome(result, done, "reason", "Give a reason.")?;
    Ok(see_other(&format!("/conversations/{}", id.0)))
}
