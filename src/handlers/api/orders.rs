//! `PUT /api/v1/customers/{id}/orders/{order_ref}`: orders from a connected shop.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::ApiJson;
use super::customers::find;
use super::messages::ErrorBody;
use crate::auth::Integration;
use crate::error::ApiError;
use crate::services::orders::{self as order_service, OrderInput};
use crate::state::AppState;

/// An order from a connected shop.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrderBody {
    /// When it was placed (RFC 3339).
    pub placed_at: String,
    /// The shop's status, e.g. paid, shipped, refunded.
    pub status: String,
    /// The total as a decimal, e.g. 59.90.
    pub total: String,
    /// ISO 4217 currency code, e.g. EUR.
    pub currency: String,
    /// A short description of the items.
    pub items_summary: String,
}

/// Create or replace an order (idempotent by order reference).
#[utoipa::path(
    put,
    path = "/api/v1/customers/{id}/orders/{order_ref}",
    params(("id" = String, Path), ("order_ref" = String, Path, description = "The shop's order reference")),
    request_body = OrderBody,
    responses((status = 201, description = "Created"), (status = 200, description = "Updated"), (status = 422, description = "A field is wrong", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_order(
    _integration: Integration,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: ApiJson<OrderBody>,
) -> Result<HttpResponse, ApiError> {
    let (public_id, order_ref) = path.into_inner();
    let body = body.into_inner();
    let input = OrderInput {
        placed_at: body.placed_at,
        status: body.status,
        total: body.total,
        currency: body.currency,
        items_summary: body.items_summary,
    };
    let created = state
        .run(move |conn| {
            let customer = find(conn, &public_id)?;
            order_service::put_order(conn, customer.id, &order_ref, &input)
        })
        .await?;
    Ok(if created {
        HttpResponse::Created().finish()
    } else {
        HttpResponse::Ok().finish()
    })
}
