//! One error type for the whole application. Rendered as an HTML page inside the app's
//! layout, or as a JSON body under `/api` (through [`ApiError`]).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::domain::FieldErrors;
use crate::page::PageContext;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or may not be known to exist).
    #[error("not found")]
    NotFound,
    /// Signed in, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// The form was not sent by this site's own page (missing or wrong CSRF token).
    #[error("the form's security token is missing or out of date")]
    CsrfRejected,
    /// Not signed in (or the session ended): go to the sign-in page.
    #[error("sign-in required")]
    Unauthorized {
        /// Where to come back to after signing in.
        next: Option<String>,
    },
    /// Signed in with a temporary password that must be changed first.
    #[error("password change required")]
    PasswordChangeRequired,
    /// Too many attempts; try again later.
    #[error("too many attempts")]
    TooManyRequests(String),
    /// The request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Input refused, field by field.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The body is larger than accepted.
    #[error("payload too large")]
    TooLarge(String),
    /// The body is not in a format accepted here.
    #[error("unsupported media type")]
    Unsupported(String),
    /// The change was based on a version the resource no longer has (`If-Match`).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// The database does not answer.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: a bug or an outage. Logged with its cause chain.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Unexpected(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(error.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::Unexpected(anyhow::anyhow!("blocking task failed: {error}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Unexpected(error.into())
    }
}

impl AppError {
    /// A refusal of one field, with its message.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.push(field, message);
        AppError::Invalid(errors)
    }

    /// The text a person reads on the error page.
    fn explanation(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Page not found",
                "The page you asked for does not exist, or it was moved.".to_owned(),
            ),
            AppError::Forbidden => (
                "Not allowed",
                "Your account does not have access to this page or action.".to_owned(),
            ),
            AppError::CsrfRejected => (
                "Form expired",
                "This form was open too long or did not come from this site. Go back, reload the page and try again.".to_owned(),
            ),
            AppError::TooManyRequests(message) => ("Too many attempts", message.clone()),
            AppError::Conflict(message) => ("Conflict", message.clone()),
            AppError::TooLarge(message) => ("Too large", message.clone()),
            AppError::Unsupported(message) => ("Not accepted", message.clone()),
            AppError::PreconditionFailed(message) => ("Changed meanwhile", message.clone()),
            AppError::Invalid(errors) => (
                "Check your input",
                errors
                    .0
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            AppError::Unavailable(_) => (
                "Temporarily unavailable",
                "The database does not answer right now. Try again in a moment.".to_owned(),
            ),
            AppError::Unauthorized { .. } | AppError::PasswordChangeRequired => {
                ("Sign in", "Please sign in.".to_owned())
            }
            AppError::Unexpected(_) => (
                "Something went wrong",
                "An unexpected error stopped this request. It has been logged; try again, and tell your administrator if it keeps happening.".to_owned(),
            ),
        }
    }

    /// The short machine-readable code used in JSON bodies.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::CsrfRejected => "csrf_rejected",
            AppError::Unauthorized { .. } => "unauthorized",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(_) => "invalid",
            AppError::TooLarge(_) => "payload_too_large",
            AppError::Unsupported(_) => "unsupported_media_type",
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Unexpected(_) => "internal",
        }
    }
}

/// The error page, inside the layout (without user navigation: the failing request's user
/// is not known here).
#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    ctx: PageContext,
    status: u16,
    title: &'static str,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::Unauthorized { .. } | AppError::PasswordChangeRequired => {
                StatusCode::SEE_OTHER
            }
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unauthorized { next } => {
                let location = match next {
                    Some(path) => format!("/login?next={}", urlencode(path)),
                    None => "/login".to_owned(),
                };
                return see_other(&location);
            }
            AppError::PasswordChangeRequired => return see_other("/account/password"),
            _ => {}
        }
        let status = self.status_code();
        let (title, message) = self.explanation();
        let page = ErrorPage {
            ctx: PageContext::anonymous(),
            status: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(html) => HttpResponse::build(status)
                .insert_header(ContentType::html())
                .body(html),
            Err(_) => HttpResponse::build(status)
                .insert_header(ContentType::plaintext())
                .body(format!("{} {title}", status.as_u16())),
        }
    }
}

/// A 303 redirect: what a successful form POST answers.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn urlencode(raw: &str) -> String {
    askama::filters::urlencode_strict(raw)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// The JSON face of [`AppError`], for handlers under `/api`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(serde::Serialize)]
struct ApiErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<crate::domain::FieldError>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (fields, message) = match &self.0 {
            AppError::Invalid(errors) => (
                errors.0.clone(),
                "The request has invalid fields.".to_owned(),
            ),
            AppError::Unauthorized { .. } => {
                (Vec::new(), "A valid bearer token is required.".to_owned())
            }
            other => (Vec::new(), other.explanation().1),
        };
        HttpResponse::build(self.status_code()).json(ApiErrorBody {
            error: self.0.code(),
            message,
            fields,
        })
    }
}
