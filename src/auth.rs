//! Who is asking: the typed staff session, the `CurrentUser` / `Supervisor` extractors that
//! make a handler unable to forget its access check, and the CSRF guard.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use serde::Serialize;

use crate::db::{self, types::UserId, users::User};
use crate::domain::Role;
use crate::domain::customer::Actor;
use crate::domain::password::random_hex;
use crate::domain::scope::Scope;
use crate::error::AppError;
use crate::page::{Flash, FlashKind};
use crate::state::AppState;

const USER_ID: &str = "uid";
const EPOCH: &str = "epoch";
const SEEN_AT: &str = "seen";
/// The session's own id (signing out records it as ended) and when it began.
const SESSION_ID: &str = "sid";
const SIGNED_IN_AT: &str = "since";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// The name of the hidden form field (and query parameter) carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The longest flash message kept (longer ones are cut).
const FLASH_MAX_CHARS: usize = 600;

/// How often the idle timer is written back to the cookie.
const SEEN_REFRESH_SECS: i64 = 60;

/// The staff session, hiding the cookie's key names.
pub struct TypedSession(Session);

impl TypedSession {
    /// Wraps actix-session's handle.
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Starts a signed-in session: a fresh cookie, a fresh CSRF token.
    pub fn sign_in(&self, user: &User) -> Result<(), AppError> {
        self.0.renew();
        self.0.clear();
        let now = Utc::now().timestamp();
        self.insert(USER_ID, user.id.0)?;
        self.insert(EPOCH, user.session_epoch)?;
        self.insert(SESSION_ID, random_hex(16))?;
        self.insert(SIGNED_IN_AT, now)?;
        self.insert(SEEN_AT, now)?;
        self.insert(CSRF, random_hex(32))?;
        Ok(())
    }

    /// Ends the session entirely (in this browser; [`TypedSession::ended`] says what to
    /// record so that copies of the cookie end too).
    pub fn sign_out(&self) {
        self.0.purge();
    }

    /// The session's id and when it began, if it is a signed-in session.
    pub fn ended(&self) -> Option<(String, i64)> {
        let id = self.0.get::<String>(SESSION_ID).ok().flatten()?;
        let since = self.0.get::<i64>(SIGNED_IN_AT).ok().flatten()?;
        Some((id, since))
    }

    /// Ends the signed-in state but keeps a cookie, so a notice can follow.
    fn expire(&self) {
        self.0.renew();
        self.0.clear();
    }

    /// The session's CSRF token, created on first use.
    pub fn csrf_token(&self) -> Result<String, AppError> {
        if let Ok(Some(token)) = self.0.get::<String>(CSRF) {
            return Ok(token);
        }
        let token = random_hex(32);
        self.insert(CSRF, &token)?;
        Ok(token)
    }

    /// Queues a message for the next page. One message waits at most (an error before a
    /// later notice, else the latest), cut to a length a cookie holds: a client that never
    /// follows its redirects cannot grow the cookie past what browsers keep.
    pub fn flash(&self, kind: FlashKind, text: impl Into<String>) {
        self.queue_flash(kind, None, text.into());
    }

    /// Queues a message the next page shows beside the part it is about (`at`, e.g. the
    /// bulk bar) instead of at the top.
    pub fn flash_at(&self, kind: FlashKind, at: &str, text: impl Into<String>) {
        self.queue_flash(kind, Some(at.to_owned()), text.into());
    }

    fn queue_flash(&self, kind: FlashKind, at: Option<String>, text: String) {
        let waiting: Vec<Flash> = self.0.get(FLASH).ok().flatten().unwrap_or_default();
        if waiting.iter().any(|f| f.kind == FlashKind::Error) && kind != FlashKind::Error {
            return;
        }
        let text: String = text.chars().take(FLASH_MAX_CHARS).collect();
        // A flash that cannot be stored is only a lost notice, never a failed action.
        let _ = self.0.insert(FLASH, vec![Flash { kind, text, at }]);
    }

    /// Queues the message for a form action's outcome: `done` when it worked; when it was
    /// refused, the message about `field` (or `fallback`), or the conflict's explanation.
    /// Any other error is handed back for the error page.
    pub fn flash_outcome(
        &self,
        result: Result<(), AppError>,
        done: impl Into<String>,
        field: &str,
        fallback: &str,
    ) -> Result<(), AppError> {
        match result {
            Ok(()) => self.flash(FlashKind::Success, done),
            Err(AppError::Invalid(errors)) => self.flash(
                FlashKind::Error,
                errors.get(field).unwrap_or(fallback).to_owned(),
            ),
            Err(AppError::Conflict(message)) => self.flash(FlashKind::Error, message),
            Err(other) => return Err(other),
        }
        Ok(())
    }

    /// Takes the queued messages.
    pub fn take_flashes(&self) -> Vec<Flash> {
        match self.0.remove_as::<Vec<Flash>>(FLASH) {
            Some(Ok(flashes)) => flashes,
            _ => Vec::new(),
        }
    }

    fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.0
            .insert(key, value)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("session write failed: {e}")))
    }

    fn user_id(&self) -> Option<UserId> {
        self.0.get::<i64>(USER_ID).ok().flatten().map(UserId)
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(TypedSession(req.get_session())))
    }
}

/// A signed-in, active staff member, whatever their password state. Only the password
/// change page uses this directly; everything else uses [`CurrentUser`].
pub struct SignedIn {
    /// The account, as loaded for this request.
    pub user: User,
    /// The session, for flashes and the CSRF token.
    pub session: TypedSession,
    /// Whether this user may use the Customers page (supervisors always; agents when the
    /// feature "Customers page in agent mode" is on).
    pub customers_page: bool,
    /// What this user sees (their teams' reach, or everything).
    pub scope: Scope,
}

/// The account as loaded once for a request, so the scope guard and the handler share it.
#[derive(Clone)]
struct LoadedUser {
    user: User,
    customers_page: bool,
    scope: Scope,
}

impl SignedIn {
    async fn load(req: HttpRequest) -> Result<Self, AppError> {
        let session = TypedSession(req.get_session());
        if let Some(loaded) = req.extensions().get::<LoadedUser>().cloned() {
            return Ok(SignedIn {
                user: loaded.user,
                session,
                customers_page: loaded.customers_page,
                scope: loaded.scope,
            });
        }
        let next = || {
            (req.method() == Method::GET).then(|| match req.query_string() {
                "" => req.path().to_owned(),
                query => format!("{}?{query}", req.path()),
            })
        };
        let Some(user_id) = session.user_id() else {
            return Err(AppError::Unauthorized { next: next() });
        };
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("application state missing")))?;
        let now = Utc::now().timestamp();
        let seen_at = session.0.get::<i64>(SEEN_AT).ok().flatten().unwrap_or(0);
        // A session from before sessions had ids and start times counts as ended.
        let Some((session_id, since)) = session.ended() else {
            session.sign_out();
            return Err(AppError::Unauthorized { next: next() });
        };
        if now - since >= state.settings.session_lifetime_secs {
            session.expire();
            session.flash(
                FlashKind::Info,
                format!(
                    "Sessions last {} hours at most. Please sign in again.",
                    state.settings.session_lifetime_secs / 3600
                ),
            );
            return Err(AppError::Unauthorized { next: next() });
        }
        if now - seen_at > state.settings.idle_timeout_minutes * 60 {
            session.expire();
            session.flash(
                FlashKind::Info,
                "Your session ended after a period of inactivity. Please sign in again.",
            );
            return Err(AppError::Unauthorized { next: next() });
        }
        let (user, customers_toggle, scope, ended) = state
            .run(move |conn| {
                let Some(reader) = db::sessions::reader_of_session(conn, user_id, &session_id)?
                else {
                    return Ok((None, false, Scope::Everything, false));
                };
                let role = reader.user.role();
                let scope = db::teams::scope_of(conn, reader.user.id, role, reader.teams_exist)?;
                let toggle = role < Role::Supervisor && reader.customers_page_for_agents;
                Ok((Some(reader.user), toggle, scope, reader.ended))
            })
            .await?;
        let epoch = session.0.get::<i64>(EPOCH).ok().flatten();
        let user = match user {
            Some(user) if !ended && user.active && Some(user.session_epoch) == epoch => user,
            _ => {
                session.sign_out();
                return Err(AppError::Unauthorized { next: None });
            }
        };
        if now - seen_at > SEEN_REFRESH_SECS {
            session.insert(SEEN_AT, now)?;
        }
        let customers_page = customers_toggle || user.role() >= Role::Supervisor;
        req.extensions_mut().insert(LoadedUser {
            user: user.clone(),
            customers_page,
            scope: scope.clone(),
        });
        Ok(SignedIn {
            user,
            session,
            customers_page,
            scope,
        })
    }
}

impl SignedIn {
    /// This staff member as History and the audit log record them.
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(SignedIn::load(req.clone()))
    }
}

/// A signed-in staff member of any role whose password is in order.
pub struct CurrentUser {
    /// The account, as loaded for this request.
    pub user: User,
    /// The session, for flashes and the CSRF token.
    pub session: TypedSession,
    /// Whether this user may use the Customers page and profiles.
    pub customers_page: bool,
    /// What this user sees: their teams' conversations and customers, or everything.
    pub scope: Scope,
}

impl CurrentUser {
    /// The account's role.
    pub fn role(&self) -> Role {
        self.user.role()
    }

    /// This staff member as History and the audit log record them.
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let SignedIn {
                user,
                session,
                customers_page,
                scope,
            } = SignedIn::load(req).await?;
            if user.must_change_password {
                return Err(AppError::PasswordChangeRequired);
            }
            Ok(CurrentUser {
                user,
                session,
                customers_page,
                scope,
            })
        })
    }
}

/// A signed-in supervisor. Any other role gets 403, whatever URL or form it crafts.
pub struct Supervisor(pub CurrentUser);

impl FromRequest for Supervisor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let current = current.await?;
            if current.role() >= Role::Supervisor {
                Ok(Supervisor(current))
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

/// A staff member allowed on the Customers page and customer profiles: supervisors always,
/// agents only while "Customers page in agent mode" is on. Anyone else gets 403.
pub struct CustomersUser(pub CurrentUser);

impl CustomersUser {
    /// The account's role.
    pub fn role(&self) -> Role {
        self.0.role()
    }
}

impl FromRequest for CustomersUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let current = current.await?;
            if current.customers_page {
                Ok(CustomersUser(current))
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

/// An integration authenticated by a bearer API token. Anything else gets 401 (as JSON).
pub struct Integration {
    /// The token's name, recorded as the author of changes.
    pub token_name: String,
}

impl Integration {
    /// This integration as History records it.
    pub fn actor(&self) -> Actor {
        Actor::Integration {
            name: self.token_name.clone(),
        }
    }
}

impl FromRequest for Integration {
    type Error = crate::error::ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            // The scheme name is case-insensitive (RFC 9110 §11.1).
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let unauthorized = || crate::error::ApiError(AppError::Unauthorized { next: None });
            let (Some(token), Some(state)) = (token, state) else {
                return Err(unauthorized());
            };
            let found = state
                .run(move |conn| crate::services::tokens::authenticate(conn, &token))
                .await?;
            found
                .map(|t| Integration { token_name: t.name })
                .ok_or_else(unauthorized)
        })
    }
}

/// Refuses every state-changing request outside `/api` whose CSRF token does not match the
/// session's. The token comes from the `csrf_token` query parameter or form field; a
/// URL-encoded body is read here and handed on untouched.
pub async fn csrf_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // A refusal is answered here as a response (not an error), so the logging and
    // security-header middleware around this one sees it like any other answer.
    let refuse = |req: ServiceRequest, error: actix_web::Error| {
        Ok(req.error_response(error).map_into_right_body())
    };
    let pass = |response: ServiceResponse<_>| Ok(response.map_into_left_body());
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The API authenticates with bearer tokens, sent by servers, not browsers.
    if safe || req.path().starts_with("/api/") {
        return pass(next.call(req).await?);
    }
    // What the browser says of where the request comes from: a form on another site is
    // refused whatever token it carries (defence in depth, as browsers send these).
    if from_another_site(&req) {
        return refuse(req, AppError::CsrfRejected.into());
    }
    // The self-service page has its own CSRF token, bound to the customer's session.
    if req.path().starts_with("/s/") {
        return pass(next.call(req).await?);
    }
    let expected: Option<String> = req.get_session().get(CSRF).ok().flatten();
    let mut supplied = token_in_query(req.query_string());
    if supplied.is_none() {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            let body = match req.extract::<web::Bytes>().await {
                Ok(body) => body,
                // Over the size limit, or cut short: 413 / 400 as the extractor says.
                Err(error) => return refuse(req, error),
            };
            supplied = token_in_query(&String::from_utf8_lossy(&body));
            req.set_payload(Payload::from(body));
        }
    }
    match (expected, supplied) {
        (Some(expected), Some(supplied))
            if constant_time_eq(expected.as_bytes(), supplied.as_bytes()) =>
        {
            pass(next.call(req).await?)
        }
        _ => refuse(req, AppError::CsrfRejected.into()),
    }
}

/// Whether the browser says the request comes from another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` whose host is neither the one the request is addressed to
/// nor the public URL's.
fn from_another_site(req: &ServiceRequest) -> bool {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if header("sec-fetch-site").as_deref() == Some("cross-site") {
        return true;
    }
    let Some(origin) = header("origin").filter(|o| o != "null") else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map_or(origin.as_str(), |(_, rest)| rest)
        .trim_end_matches('/');
    let state = req.app_data::<web::Data<AppState>>();
    let mut hosts = vec![header("host")];
    if state.is_some_and(|state| state.settings.trust_proxy) {
        hosts.push(header("x-forwarded-host"));
    }
    // The address the service is published at (`--public-url`) is this site too, whatever
    // `Host` a proxy passes on.
    hosts.push(state.and_then(|state| {
        let public = url::Url::parse(&state.public_url).ok()?;
        let host = public.host_str()?.to_owned();
        Some(match public.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }));
    !hosts
        .into_iter()
        .flatten()
        .any(|host| host.eq_ignore_ascii_case(origin_host))
}

fn token_in_query(encoded: &str) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(encoded)
        .ok()
        .and_then(|q| q.get(CSRF_FIELD).cloned())
}

/// Compares secrets without leaking where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
