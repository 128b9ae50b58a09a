//! `POST /api/v1/customers/{survivor}/merge`: an integration merges a duplicate into a
//! survivor, choosing per property whose value stays.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

use super::customers::one_json;
use super::messages::ErrorBody;
use crate::auth::Integration;
use crate::db::customers;
use crate::domain::{FieldErrors, Role};
use crate::error::{ApiError, AppError};
use crate::handlers::api::body::ApiJson;
use crate::services::merge::{self, Choices, Keep, MergeOutcome};
use crate::state::AppState;

/// What to merge and how.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MergeBody {
    /// The customer ID merged in (it resolves to the survivor from then on).
    pub duplicate: String,
    /// Per property technical name, whose value stays where both differ: `survivor`
    /// (the default), `duplicate`, or `both` (multiple choice only).
    #[schema(value_type = Object)]
    pub keep: BTreeMap<String, String>,
    /// Whose lifecycle stage stays: `survivor` (the default) or `duplicate`.
    pub lifecycle: Option<String>,
    /// The versions the decision was based on; a newer one on the server is a 409.
    pub survivor_version: Option<i64>,
    pub duplicate_version: Option<i64>,
}

fn choices_of(body: &MergeBody) -> Result<Choices, AppError> {
    let mut errors = FieldErrors::default();
    let mut keep = std::collections::HashMap::new();
    for (key, raw) in &body.keep {
        match Keep::parse(raw) {
            Some(choice) => {
                keep.insert(key.clone(), choice);
            }
            None => errors.push(&format!("keep.{key}"), "Use survivor, duplicate or both."),
        }
    }
    let lifecycle = match body.lifecycle.as_deref() {
        None => None,
        Some(raw) => match Keep::parse(raw).filter(|k| *k != Keep::Both) {
            Some(choice) => Some(choice),
            None => {
                errors.push("lifecycle", "Use survivor or duplicate.");
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Choices {
        keep,
        lifecycle,
        survivor_version: body.survivor_version,
        duplicate_version: body.duplicate_version,
    })
}

/// Merge a duplicate customer into this one: identities, conversations, messages, notes,
/// orders and tags move; one History entry lists every field decision; the duplicate's ID
/// answers with this customer and `merged_into` from then on. A supervisor can undo it
/// from History for 30 days.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/merge",
    params(("id" = String, Path, description = "The survivor's customer ID")),
    request_body = MergeBody,
    responses(
        (status = 200, description = "Merged; the survivor as it is now, with `merge_id`", body = Object),
        (status = 404, description = "Unknown customer", body = ErrorBody),
        (status = 409, description = "Changed since the given versions, anonymized, or the same customer", body = ErrorBody),
        (status = 422, description = "A choice is wrong", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn merge(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<MergeBody>,
) -> Result<HttpResponse, ApiError> {
    let survivor_id = path.into_inner();
    let body = body.into_inner();
    let choices = choices_of(&body)?;
    let actor = integration.actor();
    let answer = state
        .run(move |conn| {
            let survivor = customers::find_customer_by_public_id(conn, &survivor_id)?
                .ok_or(AppError::NotFound)?;
            let duplicate = customers::find_customer_by_public_id(conn, &body.duplicate)?
                .ok_or_else(|| {
                    let mut errors = FieldErrors::default();
                    errors.push("duplicate", "No customer has this ID.");
                    AppError::Invalid(errors)
                })?;
            // An integration sees and may choose every property.
            match merge::merge(
                conn,
                survivor.id,
                duplicate.id,
                &choices,
                &actor,
                Role::Supervisor,
            )? {
                MergeOutcome::Merged(merge_id) => {
                    let mut json = one_json(conn, survivor.id)?;
                    json["merge_id"] = Json::from(merge_id);
                    Ok(json)
                }
                MergeOutcome::Conflict { .. } => Err(AppError::Conflict(
                    "A customer changed since the given version; nothing was merged.".into(),
                )),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
