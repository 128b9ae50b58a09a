//! The signed-in user's own password.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::page::{PageContext, render, render_status};
use crate::auth::SignedIn;
use crate::domain::FieldErrors;
use crate::domain::password::verify_password;
use crate::domain::user::NewPassword;
use crate::error::{AppError, see_other};
use crate::page::FlashKind;
use crate::services::accounts;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    ctx: PageContext,
    forced: bool,
    errors: FieldErrors,
}

/// `GET /account/password`.
pub async fn password_form(signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let page = PasswordPage {
        ctx: PageContext::for_user(&signed_in.user, &signed_in.session, "account")?,
        forced: signed_in.user.must_change_password,
        errors: FieldErrors::default(),
    };
    render(&page)
}

/// The password change form. Passwords are never echoed back into the form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/password`: checks the current password, applies the policy, ends the
/// user's other sessions and keeps this one.
pub async fn change_password(
    signed_in: SignedIn,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let user = signed_in.user.clone();
    let current_ok = {
        let candidate = form.current_password.clone();
        let hash = user.password_hash.clone();
        actix_web::web::block(move || verify_password(&candidate, &hash)).await?
    };
    if !current_ok {
        errors.push("current_password", "This is not your current password.");
    }
    let new_password = errors.check("new_password", NewPassword::parse(&form.new_password));
    if form.new_password != form.confirm_password {
        errors.push("confirm_password", "The two new passwords differ.");
    }
    if current_ok && form.new_password == form.current_password {
        errors.push(
            "new_password",
            "Choose a password different from the current one.",
        );
    }
    let new_password = match new_password {
        Some(password) if errors.is_empty() => password,
        _ => {
            let page = PasswordPage {
                ctx: PageContext::for_user(&user, &signed_in.session, "account")?,
                forced: user.must_change_password,
                errors,
            };
            return render_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let (id, actor) = (user.id, signed_in.actor());
    let updated = state
        .run(move |conn| accounts::set_password(conn, &actor, id, &new_password, false))
        .await?;
    signed_in.session.sign_in(&updated)?;
    signed_in.session.flash(
        FlashKind::Success,
        "Your password was changed. Other sessions of yours have ended.",
    );
    Ok(see_other("/"))
}

/// `POST /account/sign-out-everywhere`: ends every session of the account, on every
/// device and instance, this one included.
pub async fn sign_out_everywhere(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (signed_in.user.id, signed_in.actor());
    state
        .run(move |conn| accounts::end_all_sessions(conn, &actor, id))
        .await?;
    signed_in.session.sign_out();
    Ok(see_other("/login"))
}
