//! `/api/v1/customers`: list (sync feed), get, create, patch properties, identities, tags
//! and orders. The token acts as an integration: every property that is not computed.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use utoipa::{IntoParams, ToSchema};

use super::messages::ErrorBody;
use super::{customer_json, raw_from_json};
use crate::auth::Integration;
use crate::db::customers::{self, Customer};
use crate::db::properties::{self, Property};
use crate::db::types::{CustomerId, TagId};
use crate::db::{DbConnection, identities, tags};
use crate::domain::FieldErrors;
use crate::error::{ApiError, AppError};
use crate::handlers::api::body::{ApiJson, ApiQuery, etag, if_match, none_match_has};
use crate::services::conversations as traffic;
use crate::services::profiles::{self, EditOutcome, Editor, ProfileEdit};
use crate::state::AppState;

fn field_error(field: &str, message: impl Into<String>) -> AppError {
    AppError::field(field, message)
}

/// Builds the JSON of several customers with four queries in all.
fn customers_json(
    conn: &mut DbConnection,
    found: &[Customer],
    properties: &[Property],
) -> Result<Vec<Json>, AppError> {
    let ids: Vec<CustomerId> = found.iter().map(|c| c.id).collect();
    let mut custom = customers::list_custom_values_for(conn, &ids, properties)?;
    let mut tags = tags::list_tags_for_customers(conn, &ids)?;
    let mut by_customer: HashMap<CustomerId, Vec<identities::Identity>> = HashMap::new();
    for identity in identities::list_identities_for(conn, &ids)? {
        if let Some(owner) = identity.customer_id {
            by_customer.entry(owner).or_default().push(identity);
        }
    }
    Ok(found
        .iter()
        .map(|customer| {
            let values: BTreeMap<_, _> = profiles::assemble_values(
                customer,
                properties,
                &custom.remove(&customer.id).unwrap_or_default(),
            )
            .into_iter()
            .collect();
            customer_json(
                customer,
                properties,
                &values,
                &tags.remove(&customer.id).unwrap_or_default(),
                &by_customer.remove(&customer.id).unwrap_or_default(),
            )
        })
        .collect())
}

/// One customer's JSON, as `get` answers it.
pub(super) fn one_json(conn: &mut DbConnection, customer_id: CustomerId) -> Result<Json, AppError> {
    let customer = customers::get_customer(conn, customer_id)?;
    let properties = properties::list_properties(conn)?;
    Ok(
        customers_json(conn, std::slice::from_ref(&customer), &properties)?
            .pop()
            .unwrap_or(Json::Null),
    )
}

pub(super) fn find(conn: &mut DbConnection, public_id: &str) -> Result<Customer, AppError> {
    customers::find_customer_by_public_id(conn, public_id)?.ok_or(AppError::NotFound)
}

/// Query of the list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
pub struct ListQuery {
    /// Only customers changed at or after this time (RFC 3339).
    pub updated_since: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

fn parse_cursor(raw: &str) -> Option<(NaiveDateTime, CustomerId)> {
    crate::handlers::page::parse_time_cursor(raw).map(|(at, id)| (at, CustomerId(id)))
}

/// List customers by last change, in keyset pages.
#[utoipa::path(
    get,
    path = "/api/v1/customers",
    params(ListQuery),
    responses((status = 200, description = "A page of customers and the cursor of the next", body = Object)),
    security(("bearer" = []))
)]
pub async fn list(
    _integration: Integration,
    state: web::Data<AppState>,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let since = match query.updated_since.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.naive_utc())
                .map_err(|_| {
                    field_error(
                        "updated_since",
                        "Use an RFC 3339 time such as 2026-11-20T10:00:00Z.",
                    )
                })?,
        ),
        None => None,
    };
    let after =
        match query.after.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => Some(parse_cursor(raw).ok_or_else(|| {
                field_error("after", "Use the `next` value of the previous page.")
            })?),
            None => None,
        };
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let body = state
        .run(move |conn| {
            let found = customers::list_customers_updated(conn, since, after, limit)?;
            let next = (found.len() as i64 == limit)
                .then(|| {
                    found
                        .last()
                        .map(|c| crate::handlers::page::time_cursor(c.updated_at, c.id.0))
                })
                .flatten();
            let properties = properties::list_properties(conn)?;
            Ok(json!({"customers": customers_json(conn, &found, &properties)?, "next": next}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Get one customer by public ID.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}",
    params(("id" = String, Path, description = "Customer ID, e.g. C0000042")),
    responses((status = 200, description = "The customer; for the ID of a customer merged into another, that customer with `merged_into` set to its ID", body = Object), (status = 404, description = "Unknown", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get(
    _integration: Integration,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let public_id = path.into_inner();
    let body = state
        .run(move |conn| {
            let (customer, merged) =
                crate::services::merge::resolve(conn, &public_id)?.ok_or(AppError::NotFound)?;
            let mut body = one_json(conn, customer.id)?;
            if merged {
                body["merged_into"] = Json::String(customer.public_id);
            }
            Ok(body)
        })
        .await?;
    let version = body["version"].as_i64().unwrap_or_default();
    if body.get("merged_into").is_none() && none_match_has(&req, version) {
        return Ok(HttpResponse::NotModified()
            .insert_header(header::ETag(etag(version)))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(etag(version)))
        .json(body))
}

/// A new customer, or changes to one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CustomerBody {
    /// Values by technical name, e.g. {"name": "Ada", "phone": "+1 555 765 4321"}.
    #[schema(value_type = Object)]
    pub properties: Map<String, Json>,
    /// Tag names (create only); each must exist.
    pub tags: Vec<String>,
    /// Lifecycle stage: prospect, customer, active, at_risk, churned or vip.
    pub lifecycle: Option<String>,
    /// For PATCH: the version the change is based on; a newer one on the server is a 409.
    pub version: Option<i64>,
}

fn edit_from(body: &CustomerBody, properties: &[Property]) -> Result<ProfileEdit, AppError> {
    let mut errors = FieldErrors::default();
    let mut values = Vec::new();
    for (key, json) in &body.properties {
        let Some(property) = properties.iter().find(|p| &p.key == key) else {
            errors.push(
                &format!("properties.{key}"),
                "There is no property with this technical name.",
            );
            continue;
        };
        match raw_from_json(property.ty, json) {
            Ok(raw) => values.push((key.clone(), raw)),
            Err(message) => errors.push(&format!("properties.{key}"), message),
        }
    }
    if errors.is_empty() {
        Ok(ProfileEdit {
            values,
            lifecycle: body.lifecycle.clone(),
        })
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Field errors of the profile service, named as the JSON body names them.
fn in_properties(error: AppError) -> AppError {
    match error {
        AppError::Invalid(FieldErrors(list)) => AppError::Invalid(FieldErrors(
            list.into_iter()
                .map(|mut e| {
                    if e.field != "lifecycle" {
                        e.field = format!("properties.{}", e.field);
                    }
                    e
                })
                .collect(),
        )),
        AppError::Forbidden => field_error(
            "properties",
            "A property in the body does not exist or is computed (read-only).",
        ),
        other => other,
    }
}

/// Create a customer.
/// Query of the delete.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
pub struct DeleteQuery {
    /// `anonymize`: the only way a customer is removed (GDPR erasure).
    pub mode: String,
}

/// Anonymize a customer (GDPR erasure): personal data and message texts are removed for
/// good; counts, timestamps, ratings and order amounts stay. `mode=anonymize` is required.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{id}",
    params(("id" = String, Path, description = "Customer ID, e.g. C0000042"), DeleteQuery),
    responses((status = 204, description = "Anonymized"), (status = 404, description = "Unknown", body = ErrorBody), (status = 409, description = "Anonymized already", body = ErrorBody), (status = 422, description = "mode is not anonymize", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: ApiQuery<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    if query.mode != "anonymize" {
        return Err(field_error(
            "mode",
            "Use mode=anonymize: customers are anonymized, never deleted outright.",
        )
        .into());
    }
    let public_id = path.into_inner();
    let actor = integration.actor();
    state
        .run(move |conn| {
            let customer = find(conn, &public_id)?;
            crate::services::erasure::anonymize(conn, customer.id, &actor)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything about one customer as one JSON document (GDPR access and portability):
/// profile, lifecycle, tags, identities, notes, conversations with messages, ratings and
/// web metadata, orders and History. Streamed; recorded in the audit log.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}/export",
    params(("id" = String, Path, description = "Customer ID, e.g. C0000042")),
    responses((status = 200, description = "The customer's data", body = Object), (status = 404, description = "Unknown", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn export(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let public_id = path.into_inner();
    let lookup = public_id.clone();
    let customer = state.run(move |conn| find(conn, &lookup)).await?;
    let actor = integration.actor();
    Ok(crate::handlers::download::stream(
        state.pool.clone(),
        "application/json",
        &format!("{public_id}.json"),
        move |pool, send| {
            crate::services::customer_export::write_customer(pool, customer.id, &actor, send)
        },
    )
    .await?)
}

#[utoipa::path(
    post,
    path = "/api/v1/customers",
    request_body = CustomerBody,
    responses((status = 201, description = "Created; the customer with its id", body = Object), (status = 422, description = "A field is wrong", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn create(
    integration: Integration,
    state: web::Data<AppState>,
    body: ApiJson<CustomerBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let actor = integration.actor();
    let created =
        state
            .run(move |conn| {
                let registry = properties::list_properties(conn)?;
                let edit = edit_from(&body, &registry)?;
                let mut tag_ids = Vec::new();
                let known = tags::list_tags(conn)?;
                for name in &body.tags {
                    let tag = known
                .iter()
                .find(|t| t.name_key == name.trim().to_lowercase())
                .ok_or_else(|| {
                    field_error(
                        "tags",
                        format!("There is no tag named {name:?}; a supervisor creates tags first."),
                    )
                })?;
                    tag_ids.push(tag.id);
                }
                let customer =
                    profiles::create_customer(conn, &registry, &actor, Editor::Integration, &edit)
                        .map_err(in_properties)?;
                for tag in tag_ids {
                    profiles::set_tag(conn, customer.id, tag, true, &actor)?;
                }
                one_json(conn, customer.id)
            })
            .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Change properties (and lifecycle) of a customer.
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{id}",
    params(("id" = String, Path, description = "Customer ID")),
    request_body = CustomerBody,
    responses(
        (status = 200, description = "The customer after the change", body = Object),
        (status = 409, description = "Changed since `version`", body = ErrorBody),
        (status = 412, description = "Changed since the version in `If-Match`", body = ErrorBody),
        (status = 422, description = "A field is wrong or unknown", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    integration: Integration,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<CustomerBody>,
) -> Result<HttpResponse, ApiError> {
    let (public_id, mut body) = (path.into_inner(), body.into_inner());
    let matched = if_match(&req)?;
    body.version = matched.or(body.version);
    let actor = integration.actor();
    let updated = state.run(move |conn| {
        let customer = find(conn, &public_id)?;
        let registry = properties::list_properties(conn)?;
        let edit = edit_from(&body, &registry)?;
        match profiles::edit_customer(
            conn,
            customer.id,
            &registry,
            body.version,
            &actor,
            Editor::Integration,
            &edit,
        )
        .map_err(in_properties)?
        {
            EditOutcome::Saved(_) => one_json(conn, customer.id),
            EditOutcome::Conflict {
                current_version, ..
            } => {
                let message = format!(
                    "The customer changed since version {}; it is at version {current_version} now.",
                    body.version.unwrap_or_default()
                );
                Err(if matched.is_some() {
                    AppError::PreconditionFailed(message)
                } else {
                    AppError::Conflict(message)
                })
            }
        }
    })
    .await?;
    let version = updated["version"].as_i64().unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(etag(version)))
        .json(updated))
}

/// A channel identity.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityBody {
    pub channel: String,
    pub external_id: String,
}

/// Add a channel identity to a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/identities",
    params(("id" = String, Path, description = "Customer ID")),
    request_body = IdentityBody,
    responses((status = 200, description = "The customer", body = Object), (status = 422, description = "Invalid, or linked to another customer", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn add_identity(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<IdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let (public_id, body) = (path.into_inner(), body.into_inner());
    let actor = integration.actor();
    let updated = state
        .run(move |conn| {
            let customer = find(conn, &public_id)?;
            traffic::add_identity(
                conn,
                customer.id,
                &body.channel,
                &body.external_id,
                &actor,
                &crate::domain::scope::Scope::Everything,
            )?;
            one_json(conn, customer.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Remove a channel identity from a customer.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{id}/identities/{channel}/{external_id}",
    params(("id" = String, Path), ("channel" = String, Path), ("external_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "Not an identity of this customer", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn remove_identity(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (public_id, channel, external) = path.into_inner();
    let actor = integration.actor();
    state
        .run(move |conn| {
            let customer = find(conn, &public_id)?;
            let channel: crate::domain::channel::Channel = channel
                .parse()
                .map_err(|m: String| field_error("channel", m))?;
            let external = channel
                .normalize(&external)
                .map_err(|m| field_error("external_id", m))?;
            let identity = identities::find_identity(conn, channel.as_str(), &external)?
                .ok_or(AppError::NotFound)?;
            traffic::remove_identity(conn, customer.id, identity.id, &actor)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A tag by name.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TagBody {
    pub tag: String,
}

fn tag_named(conn: &mut DbConnection, name: &str) -> Result<TagId, AppError> {
    tags::list_tags(conn)?
        .into_iter()
        .find(|t| t.name_key == name.trim().to_lowercase())
        .map(|t| t.id)
        .ok_or_else(|| field_error("tag", format!("There is no tag named {name:?}.")))
}

/// Tag a customer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/tags",
    params(("id" = String, Path)),
    request_body = TagBody,
    responses((status = 200, description = "The customer", body = Object), (status = 422, description = "Unknown tag", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn add_tag(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<TagBody>,
) -> Result<HttpResponse, ApiError> {
    let (public_id, name) = (path.into_inner(), body.into_inner().tag);
    let actor = integration.actor();
    let updated = state
        .run(move |conn| {
            let customer = find(conn, &public_id)?;
            let tag = tag_named(conn, &name)?;
            profiles::set_tag(conn, customer.id, tag, true, &actor)?;
            one_json(conn, customer.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Untag a customer.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{id}/tags/{tag}",
    params(("id" = String, Path), ("tag" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 422, description = "Unknown tag", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn remove_tag(
    integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (public_id, name) = path.into_inner();
    let actor = integration.actor();
    state
        .run(move |conn| {
            let customer = find(conn, &public_id)?;
            let tag = tag_named(conn, &name)?;
            profiles::set_tag(conn, customer.id, tag, false, &actor)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
