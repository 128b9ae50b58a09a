//! Duplicates and merge: the list of suggested pairs (supervisors), the side-by-side review
//! with a choice per field, and the merge itself.

use std::collections::HashMap;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::history::{EventView, event_views};
use super::{lifecycle_label, load};
use crate::auth::{CustomersUser, Supervisor};
use crate::db::customers::Customer;
use crate::db::properties;
use crate::db::types::CustomerId;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::duplicates::{self, PairView};
use crate::services::merge::{self, Choices, Keep, MergeOutcome, Review, UNDO_DAYS};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "customers/duplicates.html")]
struct DuplicatesPage {
    ctx: PageContext,
    pairs: Vec<PairView>,
    next: Option<String>,
}

/// The list's query: where the previous page ended.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DuplicatesQuery {
    after: String,
}

fn parse_after(raw: &str) -> Option<(i32, CustomerId, CustomerId)> {
    let mut parts = raw.split('_');
    let score = parts.next()?.parse().ok()?;
    let a = parts.next()?.parse().ok()?;
    let b = parts.next()?.parse().ok()?;
    Some((score, CustomerId(a), CustomerId(b)))
}

/// `GET /customers/duplicates` (supervisors): suggested pairs, strongest first.
pub async fn list(
    Supervisor(user): Supervisor,
    state: web::Data<AppState>,
    query: web::Query<DuplicatesQuery>,
) -> Result<HttpResponse, AppError> {
    let after = parse_after(&query.after);
    let (pairs, next) = state
        .run(move |conn| duplicates::list_pairs(conn, after))
        .await?;
    render(&DuplicatesPage {
        ctx: PageContext::new(&user, "customers")?,
        pairs,
        next: next.map(|(score, a, b)| format!("{score}_{}_{}", a.0, b.0)),
    })
}

/// One property row of the review.
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub survivor: String,
    pub duplicate: String,
    /// Radio buttons are shown: both hold different values.
    pub choosable: bool,
    pub union_allowed: bool,
    /// What is selected.
    pub keep: &'static str,
    /// Said when not choosable.
    pub outcome: &'static str,
}

#[derive(Template)]
#[template(path = "customers/merge.html")]
struct MergePage {
    ctx: PageContext,
    survivor: Customer,
    duplicate: Customer,
    survivor_name: String,
    duplicate_name: String,
    survivor_lifecycle: &'static str,
    duplicate_lifecycle: &'static str,
    lifecycle_keep: &'static str,
    fields: Vec<FieldView>,
    counts: merge::Counts,
    /// After a conflict: what changed meanwhile, on either side.
    changed: Vec<EventView>,
    conflict: bool,
    undo_days: i64,
}

fn merge_page(
    ctx: PageContext,
    review: Review,
    chosen: &HashMap<String, String>,
    changed: Vec<EventView>,
    conflict: bool,
) -> MergePage {
    let show = |value: &Option<crate::domain::property::Value>,
                ty: crate::domain::property::PropertyType| {
        value
            .as_ref()
            .map_or_else(|| "—".to_owned(), |v| v.display(ty))
    };
    let fields = review
        .fields
        .iter()
        .map(|row| {
            let choosable = row.choosable();
            let keep = chosen
                .get(&format!("keep.{}", row.property.key))
                .and_then(|raw| Keep::parse(raw))
                .filter(|k| *k != Keep::Both || row.union_allowed())
                .unwrap_or(Keep::Survivor);
            FieldView {
                key: row.property.key.clone(),
                label: row.property.label.clone(),
                survivor: show(&row.survivor, row.property.ty),
                duplicate: show(&row.duplicate, row.property.ty),
                choosable,
                union_allowed: row.union_allowed(),
                keep: keep.as_str(),
                outcome: match (&row.survivor, &row.duplicate) {
                    (Some(_), None) => "kept",
                    (None, Some(_)) => "taken from the duplicate",
                    _ => "the same on both",
                },
            }
        })
        .collect();
    let lifecycle_keep = chosen
        .get("lifecycle")
        .and_then(|raw| Keep::parse(raw))
        .filter(|k| *k == Keep::Duplicate)
        .unwrap_or(Keep::Survivor)
        .as_str();
    MergePage {
        ctx,
        survivor_name: review.survivor.display_name(),
        duplicate_name: review.duplicate.display_name(),
        survivor_lifecycle: lifecycle_label(&review.survivor.lifecycle),
        duplicate_lifecycle: lifecycle_label(&review.duplicate.lifecycle),
        survivor: review.survivor,
        duplicate: review.duplicate,
        lifecycle_keep,
        fields,
        counts: review.counts,
        changed,
        conflict,
        undo_days: UNDO_DAYS,
    }
}

/// Loads both customers by public ID and checks the reader may merge.
async fn pair(
    user: &CustomersUser,
    state: &AppState,
    survivor: String,
    duplicate: String,
) -> Result<(CustomerId, CustomerId), AppError> {
    let survivor = load(state, survivor).await?.customer.id;
    let duplicate = load(state, duplicate).await?.customer.id;
    let role = user.role();
    if !state.run(move |conn| merge::may_merge(conn, role)).await? {
        return Err(AppError::Forbidden);
    }
    Ok((survivor, duplicate))
}

/// `GET /customers/{survivor}/merge/{duplicate}`: both side by side, a choice per field.
pub async fn review(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (survivor_id, duplicate_id) = path.into_inner();
    let (survivor, duplicate) = pair(&user, &state, survivor_id.clone(), duplicate_id).await?;
    let role = user.role();
    let result = state
        .run(move |conn| merge::review(conn, survivor, duplicate, role))
        .await;
    match result {
        Ok(review) => render(&merge_page(
            PageContext::new(&user.0, "customers")?,
            review,
            &HashMap::new(),
            Vec::new(),
            false,
        )),
        Err(AppError::Conflict(message)) => {
            user.0.session.flash(FlashKind::Error, message);
            Ok(see_other(&format!("/customers/{survivor_id}/identities")))
        }
        Err(other) => Err(other),
    }
}

/// Reads the posted choices: `keep.{key}`, `lifecycle`, and the two versions.
fn choices_of(form: &HashMap<String, String>) -> Choices {
    Choices {
        keep: form
            .iter()
            .filter_map(|(name, value)| {
                Some((name.strip_prefix("keep.")?.to_owned(), Keep::parse(value)?))
            })
            .collect(),
        lifecycle: form.get("lifecycle").and_then(|v| Keep::parse(v)),
        survivor_version: form.get("survivor_version").and_then(|v| v.parse().ok()),
        duplicate_version: form.get("duplicate_version").and_then(|v| v.parse().ok()),
    }
}

/// `POST /customers/{survivor}/merge/{duplicate}`: merges as chosen, unless either changed
/// since the review (then nothing is merged and the page shows what changed).
pub async fn merge(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (survivor_id, duplicate_id) = path.into_inner();
    let (survivor, duplicate) =
        pair(&user, &state, survivor_id.clone(), duplicate_id.clone()).await?;
    let form: HashMap<String, String> = form.into_inner().into_iter().collect();
    let choices = choices_of(&form);
    // Agents are never sent a hidden field's choice, and a crafted one is refused.
    if choices.survivor_version.is_none() || choices.duplicate_version.is_none() {
        return Err(AppError::Conflict(
            "The form is incomplete; open the review again.".into(),
        ));
    }
    let (role, actor) = (user.role(), user.0.actor());
    let outcome = state
        .run(move |conn| merge::merge(conn, survivor, duplicate, &choices, &actor, role))
        .await;
    match outcome {
        Ok(MergeOutcome::Merged(_)) => {
            user.0.session.flash(
                FlashKind::Success,
                format!(
                    "Merged {duplicate_id} into this customer. A supervisor can undo it from History for {UNDO_DAYS} days."
                ),
            );
            Ok(see_other(&format!("/customers/{survivor_id}")))
        }
        Ok(MergeOutcome::Conflict {
            survivor_missed,
            duplicate_missed,
        }) => {
            let ctx = PageContext::new(&user.0, "customers")?;
            let (review, registry) = state
                .run(move |conn| {
                    Ok((
                        merge::review(conn, survivor, duplicate, role)?,
                        properties::list_properties(conn)?,
                    ))
                })
                .await?;
            let missed: Vec<_> = survivor_missed
                .into_iter()
                .chain(duplicate_missed)
                .collect();
            let changed = event_views(&ctx, &missed, &registry, role, &[]);
            let page = merge_page(ctx, review, &form, changed, true);
            render_status(&page, StatusCode::CONFLICT)
        }
        Err(AppError::Conflict(message)) => {
            user.0.session.flash(FlashKind::Error, message);
            Ok(see_other(&format!("/customers/{survivor_id}/identities")))
        }
        Err(other) => Err(other),
    }
}

/// Wraps the Customers pages: a page of a customer ID that was merged away answers 308 to
/// the same page of the customer it was merged into (reads only; a form posted to it is
/// not replayed on another customer).
pub async fn follow_merged(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let reading = matches!(*req.method(), Method::GET | Method::HEAD);
    let response = next.call(req).await?;
    if response.status() != StatusCode::NOT_FOUND || !reading {
        return Ok(response.map_into_left_body());
    }
    let Some(state) = state else {
        return Ok(response.map_into_left_body());
    };
    let request = response.request().clone();
    let Some(rest) = request.path().strip_prefix("/customers/") else {
        return Ok(response.map_into_left_body());
    };
    let (public_id, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if !public_id.starts_with('C') {
        return Ok(response.map_into_left_body());
    }
    let wanted = public_id.to_owned();
    let found = state
        .run(move |conn| merge::resolve(conn, &wanted))
        .await
        .ok()
        .flatten();
    match found {
        Some((survivor, true)) => {
            let query = request.query_string();
            let location = if query.is_empty() {
                format!("/customers/{}{tail}", survivor.public_id)
            } else {
                format!("/customers/{}{tail}?{query}", survivor.public_id)
            };
            let redirect = HttpResponse::PermanentRedirect()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish();
            Ok(ServiceResponse::new(request, redirect).map_into_right_body())
        }
        _ => Ok(response.map_into_left_body()),
    }
}
