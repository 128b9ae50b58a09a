//! Sign in and sign out, with throttling of repeated failures.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::page::{PageContext, client_address, render, render_status, safe_next};
use crate::auth::TypedSession;
use crate::db::{self, now};
use crate::domain::password::{dummy_hash, verify_password};
use crate::domain::throttle;
use crate::error::{AppError, see_other};
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

enum Outcome {
    Throttled,
    Wrong,
    Deactivated,
    Success(Box<db::users::User>),
}

/// `POST /login`.
pub async fn login(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let user_subject = throttle::username_subject(&form.username);
    let address_subject =
        throttle::address_subject(&client_address(&req, state.settings.trust_proxy));
    let username = form.username.trim().to_lowercase();
    let password = form.password.clone();
    let outcome = state.run(move |conn| {
        let since = now() - throttle::WINDOW;
        let by_user = db::sign_in::count_failures_since(conn, &user_subject, since)?;
        let by_address = db::sign_in::count_failures_since(conn, &address_subject, since)?;
        if throttle::is_throttled(by_user, by_address) {
            return Ok(Outcome::Throttled);
        }
        let user = db::users::find_user_by_username(conn, &username)?;
        let hash = user
            .as_ref()
            .map_or(dummy_hash(), |u| u.password_hash.as_str());
        let matches = verify_password(&password, hash);
        match user {
            // The writes take the writer's turn like any transaction (see
            // `db::transaction`): a sign-in waits for at most one batch of an import.
            Some(user) if matches => {
                db::transaction(conn, |conn| {
                    db::sign_in::delete_failures(conn, &user_subject)
                })?;
                if user.active {
                    Ok(Outcome::Success(Box::new(user)))
                } else {
                    Ok(Outcome::Deactivated)
                }
            }
            _ => {
                db::transaction(conn, |conn| {
                    db::sign_in::insert_failures(conn, &[&user_subject, &address_subject])?;
                    db::sign_in::delete_failures_before(conn, since)
                })?;
                Ok(Outcome::Wrong)
            }
        }
    })
    .await?;

    let (status, error) = match outcome {
        Outcome::Success(user) => {
            session.sign_in(&user)?;
            tracing::info!(user = %user.username, "signed in");
            let target = if user.must_change_password {
                "/account/password".to_owned()
            } else {
                safe_next(form.next.as_deref())
            };
            return Ok(see_other(&target));
        }
        Outcome::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins. Wait {} minutes and try again, or ask a supervisor to reset your password.",
                throttle::WINDOW.num_minutes()
            ),
        ),
        Outcome::Wrong => (
            StatusCode::UNAUTHORIZED,
            "The username or password is not right.".to_owned(),
        ),
        Outcome::Deactivated => (
            StatusCode::FORBIDDEN,
            "This account is deactivated. Ask a supervisor to reactivate it.".to_owned(),
        ),
    };
    let page = LoginPage {
        ctx: PageContext::signed_out(&session)?,
        username: form.username,
        next: safe_next(form.next.as_deref()),
        error: Some(error),
    };
    render_status(&page, status)
}

/// `POST /logout`.
pub async fn logout(session: TypedSession) -> HttpResponse {
    session.sign_out();
    see_other("/login")
}
