//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{customers, merge, messages, orders};

/// Adds the bearer-token scheme every path uses.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The integration API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Clientele integration API", description = "Inbound messages, customers, identities, tags and orders. Authenticate with `Authorization: Bearer <token>` (Settings → Integrations)."),
    paths(
        messages::receive,
        messages::rate,
        customers::list,
        customers::get,
        customers::export,
        customers::delete,
        merge::merge,
        customers::create,
        customers::patch,
        customers::add_identity,
        customers::remove_identity,
        customers::add_tag,
        customers::remove_tag,
        orders::put_order,
    ),
    components(schemas(
        messages::MessageBody,
        messages::WebBody,
        messages::MessageOutcome,
        messages::ReplyBody,
        messages::RatingBody,
        messages::ErrorBody,
        messages::FieldErrorBody,
        customers::CustomerBody,
        customers::IdentityBody,
        customers::TagBody,
        orders::OrderBody,
        merge::MergeBody,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
