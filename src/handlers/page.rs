//! What every page's layout needs, and the helpers that turn a template into a response.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::{CurrentUser, Flash, TypedSession};
use crate::db::users::User;
use crate::domain::Role;
use crate::error::AppError;

/// The signed-in user as the navigation shows them.
pub struct NavUser {
    /// Name shown in the header.
    pub display_name: String,
    /// Role label shown beside it.
    pub role_label: &'static str,
    /// Whether supervisor navigation is shown.
    pub is_supervisor: bool,
    /// Whether the Customers entry is shown.
    pub customers_page: bool,
    /// The user's IANA time zone, for showing times.
    pub time_zone: String,
}

/// The layout's data: who is signed in, the CSRF token for forms, one-time messages, and
/// which navigation entry is current.
pub struct PageContext {
    /// `None` on the sign-in and error pages.
    pub user: Option<NavUser>,
    /// Goes into every form as the hidden `csrf_token` field.
    pub csrf_token: String,
    /// Messages queued by the previous request.
    pub flashes: Vec<Flash>,
    /// The current navigation section, e.g. `users`.
    pub section: &'static str,
}

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

    /// For error pages, which have no session at hand.
    pub fn anonymous() -> Self {
        PageContext {
            user: None,
            csrf_token: String::new(),
            flashes: Vec::new(),
            section: "",
        }
    }
}

/// A stored UTC time in an IANA time zone, as `YYYY-MM-DD HH:MM`.
pub fn local_time(at: chrono::NaiveDateTime, time_zone: &str) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    at.and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl PageContext {
    /// A stored UTC time in the signed-in user's time zone.
    pub fn time(&self, at: chrono::NaiveDateTime) -> String {
        local_time(
            at,
            self.user.as_ref().map_or("UTC", |u| u.time_zone.as_str()),
        )
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

/// A same-site path to return to after sign-in; anything else goes home.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/settings/users")), "/settings/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
