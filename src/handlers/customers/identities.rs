//! The Identities tab: a customer's channel identities, added and removed by staff.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{ProfileHeader, load};
use crate::auth::CustomersUser;
use crate::db::identities::{self, Identity};
use crate::db::types::IdentityId;
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::conversations::{self as traffic};
use crate::services::duplicates;
use crate::services::teams;
use crate::state::AppState;

/// The label of a stored channel.
pub fn channel_label(stored: &str) -> &'static str {
    stored.parse::<Channel>().map_or("Unknown", Channel::label)
}

/// One identity as the tab shows it.
pub struct IdentityView {
    pub id: i64,
    pub channel: &'static str,
    pub external_id: String,
    pub display_name: Option<String>,
}

pub fn identity_views(found: Vec<Identity>) -> Vec<IdentityView> {
    found
        .into_iter()
        .map(|i| IdentityView {
            id: i.id.0,
            channel: channel_label(&i.channel),
            external_id: i.external_id,
            display_name: i.display_name,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "customers/identities.html")]
struct IdentitiesPage {
    ctx: PageContext,
    header: ProfileHeader,
    identities: Vec<IdentityView>,
    channels: [Channel; Channel::ALL.len()],
    channel: String,
    external_id: String,
    errors: FieldErrors,
    /// When the identity belongs to another customer: that customer's ID, for a link.
    owner: Option<String>,
    /// Customers who may be the same person.
    duplicates: Vec<DuplicateView>,
    /// What was typed to find another customer, and what it found.
    find: String,
    found: Vec<DuplicateView>,
    /// Whether this reader merges customers.
    may_merge: bool,
}

/// A possible duplicate as the Identities tab lists it.
pub struct DuplicateView {
    pub public_id: String,
    pub name: String,
    pub reasons: String,
}

async fn identities_page(
    user: &CustomersUser,
    state: &AppState,
    public_id: String,
    channel: String,
    external_id: String,
    errors: FieldErrors,
    find: String,
) -> Result<HttpResponse, AppError> {
    let loaded = load(state, public_id).await?;
    let id = loaded.customer.id;
    let customer = loaded.customer.clone();
    let (role, typed) = (user.role(), find.clone());
    let scope = user.0.scope.clone();
    let (found, suggestions, matches, may_merge) = state
        .run(move |conn| {
            let mut suggestions = duplicates::suggestions_for(conn, &customer)?;
            teams::retain_reached(conn, &scope, &mut suggestions, |s| s.customer.id)?;
            Ok((
                identities::list_customer_identities(conn, id)?,
                suggestions,
                duplicates::find_any(conn, &typed, id, &scope, 20)?,
                crate::services::merge::may_merge(conn, role)?,
            ))
        })
        .await?;
    let matches = matches
        .into_iter()
        .map(|c| DuplicateView {
            name: c.display_name(),
            public_id: c.public_id,
            reasons: String::new(),
        })
        .collect();
    let duplicates = suggestions
        .into_iter()
        .map(|s| DuplicateView {
            name: s.customer.display_name(),
            public_id: s.customer.public_id,
            reasons: s
                .reasons
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let failed = !errors.is_empty();
    let owner = match (
        failed,
        channel
            .parse::<Channel>()
            .ok()
            .and_then(|c| c.normalize(&external_id).ok().map(|e| (c, e))),
    ) {
        (true, Some((c, normalized))) => {
            // The owner is named only to staff whose teams reach them.
            let scope = user.0.scope.clone();
            state
                .run(move |conn| {
                    let found = identities::find_identity(conn, c.as_str(), &normalized)?;
                    Ok(match found.and_then(|i| i.customer_id) {
                        Some(owner)
                            if owner != id
                                && crate::services::teams::sees_customer(conn, &scope, owner)? =>
                        {
                            Some(crate::db::customers::get_customer(conn, owner)?.public_id)
                        }
                        _ => None,
                    })
                })
                .await?
        }
        _ => None,
    };
    let page = IdentitiesPage {
        owner,
        duplicates,
        find,
        found: matches,
        may_merge,
        ctx: PageContext::new(&user.0, "customers")?,
        header: ProfileHeader::new(&loaded, "identities"),
        identities: identity_views(found),
        channels: Channel::ALL,
        channel,
        external_id,
        errors,
    };
    if failed {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// The tab's query: what was typed to find a customer to merge.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdentitiesQuery {
    find: String,
}

/// `GET /customers/{id}/identities`.
pub async fn identities(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<IdentitiesQuery>,
) -> Result<HttpResponse, AppError> {
    identities_page(
        &user,
        &state,
        path.into_inner(),
        "whatsapp".to_owned(),
        String::new(),
        FieldErrors::default(),
        query.into_inner().find,
    )
    .await
}

/// The add-identity form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdentityForm {
    channel: String,
    external_id: String,
}

/// `POST /customers/{id}/identities`.
pub async fn add_identity(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<IdentityForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let form = form.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let (actor, scope) = (user.0.actor(), user.0.scope.clone());
    let (channel, external) = (form.channel.clone(), form.external_id.clone());
    let result = state
        .run(move |conn| {
            traffic::add_identity(
                conn,
                loaded.customer.id,
                &channel,
                &external,
                &actor,
                &scope,
            )
        })
        .await;
    match result {
        Ok(()) => {
            user.0.session.flash(FlashKind::Success, "Identity added.");
            Ok(see_other(&format!("/customers/{public_id}/identities")))
        }
        Err(AppError::Invalid(errors)) => {
            identities_page(
                &user,
                &state,
                public_id,
                form.channel,
                form.external_id,
                errors,
                String::new(),
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// `POST /customers/{id}/identities/{identity}/remove`.
pub async fn remove_identity(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<(String, IdentityId)>,
) -> Result<HttpResponse, AppError> {
    let (public_id, identity) = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    state
        .run(move |conn| traffic::remove_identity(conn, loaded.customer.id, identity, &actor))
        .await?;
    user.0.session.flash(
        FlashKind::Success,
        "Identity removed; its conversations are unknown again.",
    );
    Ok(see_other(&format!("/customers/{public_id}/identities")))
}

/// `POST /customers/{id}/duplicates/{other}/dismiss`: "not the same person"; the pair is
/// not suggested again.
pub async fn dismiss_duplicate(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (public_id, other) = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let other = load(&state, other).await?;
    let actor = user.0.actor();
    state
        .run(move |conn| duplicates::dismiss(conn, loaded.customer.id, other.customer.id, &actor))
        .await?;
    user.0.session.flash(
        FlashKind::Success,
        "Noted: they are not suggested as duplicates again.",
    );
    Ok(see_other(&format!("/customers/{public_id}/identities")))
}
