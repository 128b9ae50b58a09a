//! Cross-cutting response behaviour: security headers and one log line per request.

use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};

use crate::domain::password::random_hex;

/// The header carrying the request id, echoed to the client for support requests.
pub const REQUEST_ID: &str = "x-request-id";

/// Security headers on every response: a CSP that allows no inline script, no framing,
/// no MIME sniffing, and a strict referrer policy; HSTS when served over HTTPS.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'; object-src 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ));
    if https {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// `HEAD` answers as `GET` would, headers and status, without the body: monitors and link
/// checkers use it.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    }
    let response = next.call(req).await?;
    Ok(if head {
        response.map_body(|_, _| EitherBody::right(BoxBody::new(())))
    } else {
        response.map_into_left_body()
    })
}

/// The path as logs show it: a self-service link's token (`/s/{token}`) is a credential
/// while it is usable, so it is left out.
pub fn logged_path(path: &str) -> String {
    match path.strip_prefix("/s/") {
        Some(rest) if !rest.is_empty() && rest != "profile" => "/s/…".to_owned(),
        _ => path.to_owned(),
    }
}

/// Logs method, path (never the query string, which may carry a token, nor a self-service
/// token), status and time, with a request id that is also returned in `X-Request-Id`.
/// Server errors log their cause chain here, once.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = random_hex(8);
    let method = req.method().clone();
    let path = logged_path(req.path());
    let mut response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            // Middleware below answers its refusals as responses (see `auth::csrf_guard`);
            // anything else still gets its line.
            let status = error.as_response_error().status_code().as_u16();
            tracing::warn!(%request_id, %method, %path, status, %error, "request refused");
            return Err(error);
        }
    };
    let status = response.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status.is_server_error() {
        let cause = response
            .response()
            .error()
            .map(|e| format!("{:?}", e.as_response_error()))
            .unwrap_or_default();
        tracing::error!(%request_id, %method, %path, status = status.as_u16(), elapsed_ms, %cause, "request failed");
    } else {
        tracing::info!(%request_id, %method, %path, status = status.as_u16(), elapsed_ms, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_service_tokens_never_reach_the_log() {
        assert_eq!(logged_path("/s/abc123def"), "/s/…");
        assert_eq!(logged_path("/s/profile"), "/s/profile");
        assert_eq!(logged_path("/s"), "/s");
        assert_eq!(logged_path("/customers/C0000001"), "/customers/C0000001");
    }
}
