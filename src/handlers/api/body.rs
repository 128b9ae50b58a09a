//! Request bodies and query strings of the API, read strictly: a field the endpoint does
//! not know or of the wrong type is refused with the JSON error naming it (its path, as
//! `properties.score` or `items[2].sku`), a body over the limit is a 413, and one that is
//! not JSON a 415, all as JSON.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, AppError};

/// The largest API body, in bytes.
pub const LIMIT: usize = 256 * 1024;

/// A JSON body read strictly (see the module doc).
pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A query string read strictly (see the module doc).
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    /// The query.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn refused(field: &str, message: impl Into<String>) -> ApiError {
    ApiError(AppError::field(field, message))
}

/// Where a deserialization error points, and what it says without serde's position.
fn named<E: std::fmt::Display>(error: &serde_path_to_error::Error<E>, whole: &str) -> ApiError {
    let path = error.path().to_string();
    let inner = error.inner().to_string();
    let message = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
    // The path names an unknown field itself, or the field whose value is wrong.
    let field = if path == "." { whole.to_owned() } else { path };
    refused(&field, message)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<actix_web::mime::Mime>().ok())
            .is_some_and(|m| {
                m.subtype() == actix_web::mime::JSON || m.suffix() == Some(actix_web::mime::JSON)
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError(AppError::Unsupported(
                    "Send the body as JSON (Content-Type: application/json).".to_owned(),
                )));
            }
            let bytes = bytes.await.map_err(|error| {
                if error.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(AppError::TooLarge(format!(
                        "The body is larger than {} KB.",
                        LIMIT / 1024
                    )))
                } else {
                    refused("body", error.to_string())
                }
            })?;
            let mut reader = serde_json::Deserializer::from_slice(&bytes);
            let value = serde_path_to_error::deserialize(&mut reader)
                .map_err(|error| named(&error, "body"))?;
            reader
                .end()
                .map_err(|_| refused("body", "Nothing may follow the JSON value."))?;
            Ok(ApiJson(value))
        })
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        ));
        std::future::ready(
            serde_path_to_error::deserialize(query)
                .map(ApiQuery)
                .map_err(|error| named(&error, "query")),
        )
    }
}

/// A customer's version as an entity tag (`"12"`).
pub fn etag(version: i64) -> header::EntityTag {
    header::EntityTag::new_strong(version.to_string())
}

/// The version an `If-Match` header asks for: `None` without one (or for `*`); a header
/// that names no version of ours is refused.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = raw.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    text.parse::<header::EntityTag>()
        .ok()
        .filter(|tag| !tag.weak)
        .and_then(|tag| tag.tag().parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            refused(
                "If-Match",
                "Give the customer's version as its ETag shows it, e.g. \"12\".",
            )
        })
}

/// Whether an `If-None-Match` header already has this version (a 304 then).
pub fn none_match_has(req: &HttpRequest, version: i64) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|text| {
            text.split(',')
                .filter_map(|tag| tag.trim().parse::<header::EntityTag>().ok())
                .any(|tag| tag.weak_eq(&etag(version)))
        })
}
