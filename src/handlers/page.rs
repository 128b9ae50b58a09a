//! Building the layout's [`PageContext`] from the staff session, and the helpers that turn a template into a response.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::{CurrentUser, TypedSession};
use crate::db::users::User;
use crate::domain::Role;
use crate::error::AppError;
use crate::page::NavUser;
pub use crate::page::{PageContext, local_time};

impl PageContext {
    /// For a signed-in page.
    pub fn new(current: &CurrentUser, section: &'static str) -> Result<Self, AppError> {
        Self::build(
            &current.user,
            &current.session,
            current.customers_page,
            section,
        )
    }

    /// For a page of a signed-in user reached before the password check.
    pub fn for_user(
        user: &User,
        session: &TypedSession,
        section: &'static str,
    ) -> Result<Self, AppError> {
        Self::build(user, session, false, section)
    }

    fn build(
        user: &User,
        session: &TypedSession,
        customers_page: bool,
        section: &'static str,
    ) -> Result<Self, AppError> {
        let role = user.role();
        Ok(PageContext {
            user: Some(NavUser {
                display_name: user.display_name.clone(),
                role_label: role.label(),
                is_supervisor: role >= Role::Supervisor,
                customers_page,
                time_zone: user.time_zone.clone(),
            }),
            csrf_token: session.csrf_token()?,
            flashes: session.take_flashes(),
            section,
        })
    }

    /// For pages without a signed-in user that still hold forms (sign-in).
    pub fn signed_out(session: &TypedSession) -> Result<Self, AppError> {
        Ok(PageContext {
            user: None,
            csrf_token: session.csrf_token()?,
            flashes: session.take_flashes(),
            section: "",
        })
    }
}

/// Renders a page with 200.
pub fn render(page: &impl Template) -> Result<HttpResponse, AppError> {
    render_status(page, StatusCode::OK)
}

/// Renders a page with another status: 422 for a refused form, 401/429 for sign-in.
pub fn render_status(page: &impl Template, status: StatusCode) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .insert_header(ContentType::html())
        .insert_header(("Cache-Control", "no-store"))
        .body(page.render()?))
}

/// The client's address for throttling: the peer, or the proxy's forwarded address when
/// the proxy is trusted.
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> String {
    let info = req.connection_info();
    let address = if trust_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    address.unwrap_or("unknown").to_owned()
}

/// `path` when it is a path on this site: it starts with one `/`, and holds no backslash
/// or control character (a browser reads `/\\host` and `/\t/host` as another site).
pub fn local_path(path: &str) -> Option<&str> {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    local.then_some(path)
}

/// A same-site path to return to after sign-in; anything else goes home.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or("/").to_owned()
}

/// A keyset cursor as URLs carry it: a time in microseconds and a number (an id, or how
/// many rows at that time were shown), `micros_n`.
pub fn time_cursor(at: chrono::NaiveDateTime, n: i64) -> String {
    format!("{}_{n}", at.and_utc().timestamp_micros())
}

/// Reads a [`time_cursor`]; `None` for anything else.
pub fn parse_time_cursor(raw: &str) -> Option<(chrono::NaiveDateTime, i64)> {
    let (micros, n) = raw.split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::{parse_time_cursor, safe_next, time_cursor};

    #[test]
    fn a_time_cursor_reads_back_and_nonsense_does_not() {
        let at = chrono::DateTime::from_timestamp_micros(1_795_876_632_045_928)
            .expect("a time")
            .naive_utc();
        assert_eq!(parse_time_cursor(&time_cursor(at, 42)), Some((at, 42)));
        assert_eq!(parse_time_cursor("nonsense"), None);
        assert_eq!(parse_time_cursor("12_x"), None);
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/settings/users")), "/settings/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/a\r\nSet-Cookie: x")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
