//! The profile tabs Summary, Profile and Tags, and the actions on them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::engagement::EngagementView;
use super::fields::{FieldGroups, Submitted, field_groups};
use super::history::{EventView, event_views};
use super::{ProfileHeader, editor_of, load};
use crate::auth::CustomersUser;
use crate::db::events;
use crate::db::tags::{self, Tag};
use crate::db::types::TagId;
use crate::domain::FieldErrors;
use crate::domain::customer::Lifecycle;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::engagement;
use crate::services::profiles::{self, EditOutcome};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "customers/summary.html")]
struct SummaryPage {
    ctx: PageContext,
    header: ProfileHeader,
    engagement: EngagementView,
    timeline: Vec<EventView>,
    note: String,
    note_error: Option<String>,
}

/// `GET /customers/{id}`: the Summary tab (activity timeline and comment box).
pub async fn summary(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    render_summary(user, state, path.into_inner(), String::new(), None).await
}

async fn render_summary(
    user: CustomersUser,
    state: web::Data<AppState>,
    public_id: String,
    note: String,
    note_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = super::load(&state, public_id).await?;
    let id = loaded.customer.id;
    let scope = user.0.scope.clone();
    let (recent, figures) = state
        .run(move |conn| {
            let recent = events::list_events(conn, id, 100)?;
            Ok((recent, engagement::figures(conn, id, &scope)?))
        })
        .await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let timeline = event_views(&ctx, &recent, &loaded.properties, user.role(), &recent);
    let page = SummaryPage {
        header: ProfileHeader::new(&loaded, "summary"),
        engagement: super::engagement::view(
            &ctx,
            &loaded.customer,
            &loaded.properties,
            user.role(),
            &figures,
        ),
        ctx,
        timeline,
        note,
        note_error: note_error.clone(),
    };
    if note_error.is_some() {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

/// The comment box.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    body: String,
}

/// `POST /customers/{id}/notes`.
pub async fn add_note(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    let body = form.body.clone();
    let result = state
        .run(move |conn| profiles::add_note(conn, loaded.customer.id, &actor, &body))
        .await;
    match result {
        Ok(()) => {
            user.0.session.flash(FlashKind::Success, "Note added.");
            Ok(see_other(&format!("/customers/{public_id}")))
        }
        Err(AppError::Invalid(errors)) => {
            let message = errors.get("body").map(str::to_owned);
            render_summary(user, state, public_id, form.into_inner().body, message).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "customers/profile.html")]
struct ProfilePage {
    ctx: PageContext,
    header: ProfileHeader,
    fields: FieldGroups,
    version: i64,
    lifecycles: [Lifecycle; 6],
    lifecycle: String,
    /// Whether lifecycle rules leave the stage alone.
    pinned: bool,
    conflict: Vec<EventView>,
    /// Why the whole form was refused (it came without its version).
    form_error: Option<String>,
    identities: Vec<super::identities::IdentityView>,
    blacklisted: bool,
    /// Whether the reader may lock and unlock (supervisors).
    supervisor_actions: bool,
}

async fn identities_of(
    state: &AppState,
    customer: crate::db::types::CustomerId,
) -> Result<Vec<super::identities::IdentityView>, AppError> {
    let found = state
        .run(move |conn| {
            Ok(crate::db::identities::list_customer_identities(
                conn, customer,
            )?)
        })
        .await?;
    Ok(super::identities::identity_views(found))
}

/// `GET /customers/{id}/profile`.
pub async fn profile(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, path.into_inner()).await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let fields = field_groups(
        &ctx,
        &loaded.properties,
        &loaded.values,
        editor_of(&user),
        None,
        &FieldErrors::default(),
    );
    let identities = identities_of(&state, loaded.customer.id).await?;
    render(&ProfilePage {
        identities,
        blacklisted: loaded.customer.blacklisted,
        supervisor_actions: user.role() >= crate::domain::Role::Supervisor,
        header: ProfileHeader::new(&loaded, "profile"),
        ctx,
        fields,
        version: loaded.customer.version,
        lifecycles: Lifecycle::ALL,
        lifecycle: loaded.customer.lifecycle.clone(),
        pinned: loaded.customer.lifecycle_pinned,
        conflict: Vec::new(),
        form_error: None,
    })
}

/// `POST /customers/{id}/profile`: saves the properties this user may edit. The form
/// carries the version it was based on; if someone saved in between, nothing is applied
/// and the page shows what changed, with what this user typed still in the form.
pub async fn save_profile(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let public_id = path.into_inner();
    let submitted = Submitted::from_pairs(&form);
    let loaded = load(&state, public_id.clone()).await?;
    let expected = submitted
        .first("version")
        .and_then(|v| v.parse::<i64>().ok());
    let edit = submitted.to_edit(&loaded.properties, submitted.first("lifecycle").is_some());
    let (actor, editor) = (user.0.actor(), editor_of(&user));
    let (id, registry) = (loaded.customer.id, loaded.properties.clone());
    let result = match expected {
        None => Err(AppError::Invalid(super::fields::version_missing())),
        Some(_) => {
            state
                .run(move |conn| {
                    profiles::edit_customer(conn, id, &registry, expected, &actor, editor, &edit)
                })
                .await
        }
    };
    let (errors, conflict, version, status) = match result {
        Ok(EditOutcome::Saved(changed)) => {
            let message = match changed {
                0 => "Nothing to save: no value was changed.".to_owned(),
                1 => "Saved 1 change.".to_owned(),
                n => format!("Saved {n} changes."),
            };
            user.0.session.flash(FlashKind::Success, message);
            return Ok(see_other(&format!("/customers/{public_id}/profile")));
        }
        Ok(EditOutcome::Conflict {
            current_version,
            missed,
        }) => (
            FieldErrors::default(),
            missed,
            current_version,
            StatusCode::CONFLICT,
        ),
        Err(AppError::Invalid(errors)) => (
            errors,
            Vec::new(),
            expected.unwrap_or(loaded.customer.version),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(other),
    };
    // Show the form again: what the user typed, the current values elsewhere.
    let fresh = load(&state, public_id).await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let fields = field_groups(
        &ctx,
        &fresh.properties,
        &fresh.values,
        editor,
        Some(&submitted),
        &errors,
    );
    let conflict = event_views(&ctx, &conflict, &fresh.properties, user.role(), &[]);
    let identities = identities_of(&state, fresh.customer.id).await?;
    let page = ProfilePage {
        identities,
        blacklisted: fresh.customer.blacklisted,
        supervisor_actions: user.role() >= crate::domain::Role::Supervisor,
        header: ProfileHeader::new(&fresh, "profile"),
        ctx,
        fields,
        version,
        lifecycles: Lifecycle::ALL,
        lifecycle: submitted
            .first("lifecycle")
            .unwrap_or(&fresh.customer.lifecycle)
            .to_owned(),
        pinned: fresh.customer.lifecycle_pinned,
        conflict,
        form_error: errors.get("version").map(str::to_owned),
    };
    render_status(&page, status)
}

#[derive(Template)]
#[template(path = "customers/tags.html")]
struct TagsPage {
    ctx: PageContext,
    header: ProfileHeader,
    available: Vec<Tag>,
    is_supervisor: bool,
}

/// `GET /customers/{id}/tags`.
pub async fn tags_tab(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, path.into_inner()).await?;
    let all = state.run(|conn| Ok(tags::list_tags(conn)?)).await?;
    let available = all
        .into_iter()
        .filter(|t| loaded.tags.iter().all(|own| own.id != t.id))
        .collect();
    render(&TagsPage {
        ctx: PageContext::new(&user.0, "customers")?,
        header: ProfileHeader::new(&loaded, "tags"),
        available,
        is_supervisor: user.role() >= crate::domain::Role::Supervisor,
    })
}

/// Which tag to add.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TagForm {
    tag_id: TagId,
}

/// `POST /customers/{id}/tags`.
pub async fn add_tag(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    set_tag(user, state, path.into_inner(), form.tag_id, true).await
}

/// `POST /customers/{id}/tags/{tag}/remove`.
pub async fn remove_tag(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<(String, TagId)>,
) -> Result<HttpResponse, AppError> {
    let (public_id, tag) = path.into_inner();
    set_tag(user, state, public_id, tag, false).await
}

async fn set_tag(
    user: CustomersUser,
    state: web::Data<AppState>,
    public_id: String,
    tag: TagId,
    on: bool,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, public_id.clone()).await?;
    let actor = user.0.actor();
    let changed = state
        .run(move |conn| profiles::set_tag(conn, loaded.customer.id, tag, on, &actor))
        .await?;
    if changed {
        user.0.session.flash(
            FlashKind::Success,
            if on { "Tag added." } else { "Tag removed." },
        );
    }
    Ok(see_other(&format!("/customers/{public_id}/tags")))
}
