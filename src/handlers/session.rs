//! Sign in and sign out, with throttling of repeated failures.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::page::{PageContext, client_address, render, render_status, safe_next};
use crate::auth::TypedSession;
use crate::domain::throttle;
use crate::error::{AppError, see_other};
use crate::services::accounts::{self, SignIn};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "session/login.html")]
struct LoginPage {
    ctx: PageContext,
    username: String,
    next: String,
    error: Option<String>,
}

/// Query of the sign-in page.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`.
pub async fn login_form(
    session: TypedSession,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let page = LoginPage {
        ctx: PageContext::signed_out(&session)?,
        username: String::new(),
        next: safe_next(query.next.as_deref()),
        error: None,
    };
    render(&page)
}

/// The sign-in form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`.
pub async fn login(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let address = client_address(&req, state.settings.trust_proxy);
    let (pool, username, password) = (
        state.pool.clone(),
        form.username.clone(),
        form.password.clone(),
    );
    let outcome =
        web::block(move || accounts::sign_in(&pool, &username, &password, &address)).await??;
    let (status, error) = match outcome {
        SignIn::Success(user) => {
            session.sign_in(&user)?;
            tracing::info!(user = %user.username, "signed in");
            let target = if user.must_change_password {
                "/account/password".to_owned()
            } else {
                safe_next(form.next.as_deref())
            };
            return Ok(see_other(&target));
        }
        SignIn::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins. Wait {} minutes and try again, or ask a supervisor to reset your password.",
                throttle::WINDOW.num_minutes()
            ),
        ),
        SignIn::Wrong => (
            StatusCode::UNAUTHORIZED,
            "The username or password is not right.".to_owned(),
        ),
        SignIn::Deactivated => (
            StatusCode::FORBIDDEN,
            "This account is deactivated. Ask a supervisor to reactivate it.".to_owned(),
        ),
    };
    crate::metrics::METRICS.sign_in_failed();
    let page = LoginPage {
        ctx: PageContext::signed_out(&session)?,
        username: form.username,
        next: safe_next(form.next.as_deref()),
        error: Some(error),
    };
    render_status(&page, status)
}

/// `POST /logout`: the session ends for good, a copy of its cookie included.
pub async fn logout(
    session: TypedSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some((id, since)) = session.ended() {
        let lifetime = state.settings.session_lifetime_secs;
        state
            .run(move |conn| accounts::end_session(conn, &id, since, lifetime))
            .await?;
    }
    session.sign_out();
    Ok(see_other("/login"))
}
