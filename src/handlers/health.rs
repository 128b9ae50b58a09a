//! `GET /healthz` for load balancers: 200 when the database answers, 503 when not.

use actix_web::{HttpResponse, web};

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
