//! `GET /healthz` for load balancers: 200 when the database answers, 503 when not.

use actix_web::{HttpResponse, ResponseError, web};

use crate::state::AppState;

/// Checks the database with a trivial query.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let result = state.run(|conn| Ok(crate::db::ping(conn)?)).await;
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({"status": "ok"})),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Cache-Control", "no-store"))
                .json(serde_json::json!({"status": "unavailable"}))
        }
    }
}

/// `GET /bench/ceiling` (only with `--bench-ceiling`): the Customers page's default query
/// (newest customers, on the creation index) and a bare HTML render, no session or
/// template: what the real page is measured against.
pub async fn ceiling(state: web::Data<AppState>) -> Result<HttpResponse, crate::error::AppError> {
    let rows = state
        .run(|conn| Ok(crate::db::listing::list_newest_names(conn, 51)?))
        .await?;
    let mut html = String::from("<!doctype html><title>ceiling</title><table>");
    for (id, name) in rows {
        html.push_str("<tr><td>");
        html.push_str(&id);
        html.push_str("</td><td>");
        let Ok(escaped) = askama::filters::escape(name.unwrap_or_default(), askama::filters::Html);
        html.push_str(&escaped.to_string());
        html.push_str("</td></tr>");
    }
    html.push_str("</table>");
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `GET /metrics`: Prometheus metrics, for requests carrying `--metrics-token` as a
/// bearer token; without that setting the page does not exist.
pub async fn metrics(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(token) = &state.settings.metrics_token else {
        return crate::error::AppError::NotFound.error_response();
    };
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::auth::constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
        return HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer"))
            .finish();
    }
    let pool = state.pool.clone();
    let rendered = state
        .run(move |conn| crate::metrics::METRICS.render(&pool, conn))
        .await;
    match rendered {
        Ok(text) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(error) => {
            tracing::warn!(%error, "metrics not rendered");
            error.error_response()
        }
    }
}
