//! The customer self-service page under `/s`: opened with a signed, expiring, single-use
//! link; it starts a short customer-only session in its own cookie. It never reads the
//! staff session, and staff routes never read this one.

use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::constant_time_eq;
use crate::db::{self, customers};
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::handlers::customers::fields::{FieldGroups, Submitted, field_groups};
use crate::handlers::page::{PageContext, client_address, render_status};
use crate::services::profiles::{self, EditOutcome, Editor};
use crate::services::{link_requests, selfservice};
use crate::state::AppState;

/// The customer session cookie (scoped to `/s`).
pub const COOKIE: &str = "clientele_customer";

/// Counts the request against `key`'s limit (shared by every instance).
async fn limit(state: &AppState, key: String) -> Result<(), AppError> {
    if state
        .run(move |conn| selfservice::within_limit(conn, &key))
        .await?
    {
        Ok(())
    } else {
        Err(AppError::TooManyRequests(
            "Too many requests from here. Wait a minute and try again.".to_owned(),
        ))
    }
}

fn csrf_for(state: &AppState, link: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(state.cookie_key.signing()) else {
        return String::new();
    };
    mac.update(format!("self-service:{link}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The page for a link that does not work: the same for unknown, expired, used and
/// revoked links, so it tells nothing about whether a customer exists.
#[derive(Template)]
#[template(path = "self/gone.html")]
struct GonePage {
    org_name: String,
    keyword: String,
    title: &'static str,
    message: &'static str,
}

async fn gone(
    state: &AppState,
    status: StatusCode,
    title: &'static str,
    message: &'static str,
) -> Result<HttpResponse, AppError> {
    let config = state.run(selfservice::config).await?;
    let page = GonePage {
        org_name: config.org_name,
        keyword: config.keyword,
        title,
        message,
    };
    let mut response = render_status(&page, status)?;
    response.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

async fn session_ended(state: &AppState) -> Result<HttpResponse, AppError> {
    gone(
        state,
        StatusCode::UNAUTHORIZED,
        "Your session has ended",
        "Sessions last 30 minutes after opening a link.",
    )
    .await
}

async fn link_needed(state: &AppState) -> Result<HttpResponse, AppError> {
    gone(
        state,
        StatusCode::UNAUTHORIZED,
        "Open your personal link",
        "This page opens from the link we sent you.",
    )
    .await
}

async fn link_unusable(state: &AppState) -> Result<HttpResponse, AppError> {
    gone(
        state,
        StatusCode::GONE,
        "This link does not work",
        "It may have expired or been used already.",
    )
    .await
}

/// The page a link opens on: one button that uses the link. Link previews (messaging apps,
/// mail scanners) fetch the link too; a GET uses nothing, so the customer's click still works.
#[derive(Template)]
#[template(path = "self/open.html")]
struct OpenPage {
    org_name: String,
    ttl_hours: i64,
    action: String,
}

/// The token of a `/s/{token}` request, counted against the address's limit; `None` when
/// it is not shaped like one (hexadecimal, not absurdly long).
async fn token_of(
    req: &HttpRequest,
    state: &AppState,
    path: web::Path<String>,
) -> Result<Option<String>, AppError> {
    limit(
        state,
        format!("ip:{}", client_address(req, state.settings.trust_proxy)),
    )
    .await?;
    let token = path.into_inner();
    let well_formed = token.len() <= 128 && token.chars().all(|c| c.is_ascii_hexdigit());
    Ok(well_formed.then_some(token))
}

/// Headers every answer about a link carries: the token stays out of referrers, caches and
/// search engines.
fn private(mut response: HttpResponse) -> HttpResponse {
    use actix_web::http::header::{CACHE_CONTROL, HeaderName, HeaderValue, REFERRER_POLICY};
    let headers = response.headers_mut();
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    response
}

/// `GET /s/{token}`: the "Open my profile" page while the link is usable; uses nothing.
pub async fn open_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(token) = token_of(&req, &state, path).await? else {
        return link_unusable(&state).await.map(private);
    };
    let action = format!("/s/{token}");
    let (usable, config) = state
        .run(move |conn| {
            Ok((
                selfservice::usable(conn, &token)?,
                selfservice::config(conn)?,
            ))
        })
        .await?;
    if usable.is_none() {
        return link_unusable(&state).await.map(private);
    }
    let page = OpenPage {
        org_name: config.org_name,
        ttl_hours: config.ttl_hours,
        action,
    };
    Ok(private(render_status(&page, StatusCode::OK)?))
}

/// `POST /s/{token}` (the button): exchanges the token for a customer session and redirects
/// to a clean URL, so the token does not stay in history or referrers. A post from another
/// site is refused: it could only start a session the visitor never asked for.
pub async fn open(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token_of(&req, &state, path).await?;
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site");
    if cross_site {
        return Err(AppError::Forbidden);
    }
    let Some(token) = token else {
        return link_unusable(&state).await.map(private);
    };
    let opened = state
        .run(move |conn| selfservice::open(conn, &token))
        .await?;
    let Ok(link) = opened else {
        return link_unusable(&state).await.map(private);
    };
    let mut jar = CookieJar::new();
    let cookie = Cookie::build(COOKIE, link.id.to_string())
        .path("/s")
        .http_only(true)
        .secure(state.settings.cookie_secure)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::minutes(
            selfservice::SESSION_MINUTES,
        ))
        .finish();
    jar.signed_mut(&state.cookie_key).add(cookie);
    let mut response = HttpResponse::SeeOther();
    response.insert_header((actix_web::http::header::LOCATION, "/s/profile"));
    for cookie in jar.delta() {
        response.cookie(cookie.clone());
    }
    Ok(private(response.finish()))
}

/// The link id of the customer session, if the cookie is present and signed by us.
fn session_link(req: &HttpRequest, state: &AppState) -> Option<i64> {
    let raw = req.cookie(COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(raw);
    jar.signed(&state.cookie_key)
        .get(COOKIE)?
        .value()
        .parse()
        .ok()
}

#[derive(Template)]
#[template(path = "self/profile.html")]
struct ProfilePage {
    org_name: String,
    name: String,
    fields: FieldGroups,
    csrf_token: String,
    version: i64,
    saved: bool,
    notice: Option<&'static str>,
    any_editable: bool,
    /// The fields refused, as (input name, label, message), summarised at the top.
    problems: Vec<(String, String, String)>,
}

/// Query of the page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileQuery {
    saved: Option<String>,
}

async fn profile_page(
    state: &AppState,
    link_id: i64,
    submitted: Option<&Submitted>,
    errors: &FieldErrors,
    notice: Option<&'static str>,
    saved: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let loaded = state
        .run(move |conn| {
            let Some(link) = selfservice::session(conn, link_id)? else {
                return Ok(None);
            };
            let customer = customers::get_customer(conn, link.customer_id)?;
            let registry = db::properties::list_properties(conn)?;
            let values = profiles::current_values(conn, &customer, &registry)?;
            let config = selfservice::config(conn)?;
            let read_only = selfservice::locked_for_customer(conn, &config, customer.id)?;
            Ok(Some((customer, registry, values, config, read_only)))
        })
        .await?;
    let Some((customer, registry, values, config, read_only)) = loaded else {
        return session_ended(state).await;
    };
    let ctx = PageContext::anonymous();
    let mut fields = field_groups(
        &ctx,
        &registry,
        &values,
        Editor::Customer,
        submitted,
        errors,
    );
    let notice = if read_only {
        // A locked profile the customer may not edit: shown, not offered as a form.
        for field in fields.standard.iter_mut().chain(fields.custom.iter_mut()) {
            field.editable = false;
        }
        notice.or(Some(selfservice::LOCKED_NOTICE))
    } else {
        notice
    };
    let any_editable = fields.any_editable();
    let problems = fields
        .standard
        .iter()
        .chain(&fields.custom)
        .filter_map(|f| {
            let message = f.error.clone()?;
            Some((f.name.clone(), f.label.clone(), message))
        })
        .collect();
    let page = ProfilePage {
        org_name: config.org_name,
        name: customer.name.clone().unwrap_or_default(),
        fields,
        csrf_token: csrf_for(state, link_id),
        version: submitted
            .and_then(|s| s.first("version"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(customer.version),
        saved,
        notice,
        any_editable,
        problems,
    };
    render_status(&page, status)
}

/// `GET /s/profile`.
pub async fn profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ProfileQuery>,
) -> Result<HttpResponse, AppError> {
    limit(
        &state,
        format!("ip:{}", client_address(&req, state.settings.trust_proxy)),
    )
    .await?;
    let Some(link) = session_link(&req, &state) else {
        return link_needed(&state).await;
    };
    profile_page(
        &state,
        link,
        None,
        &FieldErrors::default(),
        None,
        query.saved.is_some(),
        StatusCode::OK,
    )
    .await
}

/// `POST /s/profile`: the customer saves the properties they may edit, with the same
/// parsers as staff forms; history records the customer as the author.
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    limit(
        &state,
        format!("ip:{}", client_address(&req, state.settings.trust_proxy)),
    )
    .await?;
    let Some(link_id) = session_link(&req, &state) else {
        return link_needed(&state).await;
    };
    limit(&state, format!("link:{link_id}")).await?;
    let submitted = Submitted::from_pairs(&form);
    let expected = csrf_for(&state, link_id);
    if !constant_time_eq(
        submitted.first("csrf_token").unwrap_or_default().as_bytes(),
        expected.as_bytes(),
    ) {
        return Err(AppError::CsrfRejected);
    }
    let version = submitted
        .first("version")
        .and_then(|v| v.parse::<i64>().ok());
    // Without the version it was based on, a save could undo a change made meanwhile.
    if version.is_none() {
        return profile_page(
            &state,
            link_id,
            Some(&submitted),
            &FieldErrors::default(),
            Some("Nothing was saved: the page came without its version. Check your details and save again."),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let edit_source = Submitted::from_pairs(&form);
    let result = state
        .run(move |conn| {
            selfservice::save_own_profile(conn, link_id, version, |registry| {
                edit_source.to_edit(registry, false)
            })
        })
        .await;
    match result {
        Ok(EditOutcome::Saved(_)) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, "/s/profile?saved=1"))
            .finish()),
        Ok(EditOutcome::Conflict {
            current_version, ..
        }) => {
            let mut pairs = form.into_inner();
            pairs.retain(|(k, _)| k != "version");
            pairs.push(("version".to_owned(), current_version.to_string()));
            let kept = Submitted::from_pairs(&pairs);
            profile_page(
                &state,
                link_id,
                Some(&kept),
                &FieldErrors::default(),
                Some("Your details were changed meanwhile. Check them and save again."),
                false,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(AppError::Invalid(errors)) => {
            profile_page(
                &state,
                link_id,
                Some(&submitted),
                &errors,
                None,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Unauthorized { .. }) => session_ended(&state).await,
        Err(other) => Err(other),
    }
}

/// The "text me my link" page.
#[derive(Template)]
#[template(path = "self/request.html")]
struct RequestPage {
    org_name: String,
    keyword: String,
    csrf_token: String,
    phone: String,
    error: Option<String>,
    notice: Option<&'static str>,
    failed: bool,
}

async fn request_page(
    state: &AppState,
    session: &crate::auth::TypedSession,
    phone: String,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let config = state.run(selfservice::config).await?;
    let page = RequestPage {
        org_name: config.org_name,
        keyword: config.keyword,
        csrf_token: session.csrf_token()?,
        phone,
        error,
        failed: notice == Some(link_requests::FAILED),
        notice,
    };
    let mut response = render_status(&page, status)?;
    response.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// The page's query: the request whose outcome to show.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestQuery {
    r: String,
}

/// `GET /s`: customers type their phone number to get their link; after a request, the
/// page says how sending went (reloading it shows a delivery that failed meanwhile).
pub async fn request_form(
    state: web::Data<AppState>,
    session: crate::auth::TypedSession,
    query: web::Query<RequestQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().r;
    let notice = if token.is_empty() {
        None
    } else {
        state
            .run(move |conn| link_requests::state(conn, &token))
            .await?
    };
    request_page(
        &state,
        &session,
        String::new(),
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

/// The phone number form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    phone: String,
}

/// `POST /s`: sends a link when the number belongs to a customer; answers the same for
/// every number.
pub async fn request_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: crate::auth::TypedSession,
    form: web::Form<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let phone = form.into_inner().phone;
    let address = client_address(&req, state.settings.trust_proxy);
    let base = state.public_url.clone();
    let typed = phone.clone();
    let outcome = state
        .run(move |conn| link_requests::request(conn, &typed, &address, &base))
        .await;
    match outcome {
        Ok(link_requests::Requested::Accepted(token)) => {
            Ok(crate::error::see_other(&format!("/s?r={token}")))
        }
        Ok(link_requests::Requested::TooSoon) => {
            request_page(
                &state,
                &session,
                phone,
                None,
                Some(link_requests::TOO_SOON),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Err(AppError::Invalid(errors)) => {
            let error = errors.get("phone").map(str::to_owned);
            request_page(
                &state,
                &session,
                phone,
                error,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}
