//! Cross-cutting response behaviour: security headers and one log line per request.

use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};

use crate::domain::password::random_hex;
use crate::metrics::METRICS;

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

/// Text as it may be stored: control characters other than tab and newline are left out
/// (a NUL cannot be stored by PostgreSQL, and none of them means anything in a name, a
/// note or a message), the same on both databases. A carriage return goes too, so line
/// ends are always `\n`.
pub fn clean_text(text: &str) -> std::borrow::Cow<'_, str> {
    let unwanted = |c: char| c.is_control() && c != '\t' && c != '\n';
    if text.chars().any(unwanted) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !unwanted(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A form body (`application/x-www-form-urlencoded`) with [`clean_text`] applied to every
/// name and value; `None` when nothing needed cleaning.
fn cleaned_form(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let dirty = pairs
        .iter()
        .any(|(k, v)| clean_text(k) != k.as_str() || clean_text(v) != v.as_str());
    dirty.then(|| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                pairs
                    .iter()
                    .map(|(k, v)| (clean_text(k).into_owned(), clean_text(v).into_owned())),
            )
            .finish()
    })
}

/// A JSON body with [`clean_text`] applied to every string in it; `None` when nothing
/// needed cleaning (or it is not JSON: the handler says so). Only a body with an escape
/// can hold a control character (raw ones are not JSON), so others are not parsed here.
fn cleaned_json(body: &[u8]) -> Option<Vec<u8>> {
    fn clean(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) => match clean_text(text) {
                std::borrow::Cow::Owned(cleaned) => {
                    *text = cleaned;
                    true
                }
                std::borrow::Cow::Borrowed(_) => false,
            },
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |d, v| clean(v) | d),
            serde_json::Value::Object(fields) => {
                fields.values_mut().fold(false, |d, v| clean(v) | d)
            }
            _ => false,
        }
    }
    if !body.windows(2).any(|w| w == b"\\u") {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    clean(&mut value)
        .then(|| serde_json::to_vec(&value).ok())
        .flatten()
}

/// Cleans the text of every form and JSON body before a handler reads it (see
/// [`clean_text`]), so every way text enters — forms, the API — stores the same. Bodies
/// over the form limit, uploads and anything else pass untouched.
pub async fn clean_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let kind = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json");
    let small = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length <= BODY_CLEANED_AT_MOST);
    if (form || json) && small {
        let body = match req.extract::<actix_web::web::Bytes>().await {
            Ok(body) => body,
            Err(error) => return Ok(req.error_response(error).map_into_right_body()),
        };
        let cleaned = if form {
            cleaned_form(&body).map(actix_web::web::Bytes::from)
        } else {
            cleaned_json(&body).map(actix_web::web::Bytes::from)
        };
        req.set_payload(actix_web::dev::Payload::from(cleaned.unwrap_or(body)));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The largest body [`clean_bodies`] reads (the form limit).
const BODY_CLEANED_AT_MOST: usize = 1024 * 1024;

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
            METRICS.request(
                method.as_str(),
                "unmatched",
                status,
                started.elapsed().as_secs_f64(),
            );
            return Err(error);
        }
    };
    let status = response.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    // By the route's pattern: paths hold customer ids and self-service tokens.
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    METRICS.request(
        method.as_str(),
        &route,
        status.as_u16(),
        elapsed_ms / 1000.0,
    );
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
    fn control_characters_leave_text_but_tabs_and_newlines_stay() {
        assert_eq!(clean_text("Ada\0 Love\u{7}lace"), "Ada Lovelace");
        assert_eq!(clean_text("line one\r\nline\ttwo"), "line one\nline\ttwo");
        assert!(matches!(clean_text("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            cleaned_form(b"name=Ada%00&note=a%0D%0Ab").as_deref(),
            Some("name=Ada&note=a%0Ab")
        );
        assert_eq!(cleaned_form(b"name=Ada"), None);
        let cleaned =
            cleaned_json(br#"{"text":"hi\u0000there","n":[1,"\u0007x"]}"#).expect("cleaned");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&cleaned).expect("JSON"),
            serde_json::json!({"text": "hithere", "n": [1, "x"]})
        );
        assert_eq!(cleaned_json(br#"{"text":"caf\u00e9"}"#), None);
    }

    #[test]
    fn self_service_tokens_never_reach_the_log() {
        assert_eq!(logged_path("/s/abc123def"), "/s/…");
        assert_eq!(logged_path("/s/profile"), "/s/profile");
        assert_eq!(logged_path("/s"), "/s");
        assert_eq!(logged_path("/customers/C0000001"), "/customers/C0000001");
    }
}
