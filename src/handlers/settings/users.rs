//! Settings → Users: supervisors list, create and manage staff accounts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Supervisor;
use crate::db::users::User;
use crate::db::{self, types::UserId};
use crate::domain::user::{DisplayName, NewPassword};
use crate::domain::{FieldErrors, Role};
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::accounts::{self, AccountInput, parse_time_zone};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    ctx: PageContext,
    users: Vec<User>,
}

/// `GET /settings/users`.
pub async fn list(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let users = state.run(|conn| Ok(db::users::list_users(conn)?)).await?;
    render(&UsersPage {
        ctx: PageContext::new(&current, "users")?,
        users,
    })
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewUserPage {
    ctx: PageContext,
    form: AccountInput,
    errors: FieldErrors,
    roles: [Role; 2],
}

/// `GET /settings/users/new`.
pub async fn new_form(Supervisor(current): Supervisor) -> Result<HttpResponse, AppError> {
    render(&NewUserPage {
        ctx: PageContext::new(&current, "users")?,
        form: AccountInput {
            role: Role::Agent.as_str().to_owned(),
            time_zone: "UTC".to_owned(),
            ..AccountInput::default()
        },
        errors: FieldErrors::default(),
        roles: Role::ALL,
    })
}

/// `POST /settings/users`: the new account must change its password at first sign-in.
pub async fn create(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<AccountInput>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let result = match form.parse() {
        Ok(account) => {
            let actor = current.actor();
            state
                .run(move |conn| accounts::create_account(conn, &actor, &account, true))
                .await
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(user) => {
            current.session.flash(
                FlashKind::Success,
                format!(
                    "Created {} ({}). They choose their own password at first sign-in.",
                    user.username,
                    user.role().label()
                ),
            );
            Ok(see_other("/settings/users"))
        }
        // The temporary password typed stays in the form, like every other field.
        Err(AppError::Invalid(errors)) => render_status(
            &NewUserPage {
                ctx: PageContext::new(&current, "users")?,
                form,
                errors,
                roles: Role::ALL,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => Err(other),
    }
}

/// The editable profile of an account, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    display_name: String,
    role: String,
    time_zone: String,
}

#[derive(Template)]
#[template(path = "users/edit.html")]
struct EditUserPage {
    ctx: PageContext,
    user: User,
    form: ProfileForm,
    errors: FieldErrors,
    password_errors: FieldErrors,
    /// The temporary password typed, kept when it was refused.
    password: String,
    roles: [Role; 2],
    is_self: bool,
}

impl EditUserPage {
    fn new(ctx: PageContext, user: User, is_self: bool) -> Self {
        let form = ProfileForm {
            display_name: user.display_name.clone(),
            role: user.role().as_str().to_owned(),
            time_zone: user.time_zone.clone(),
        };
        EditUserPage {
            ctx,
            user,
            form,
            errors: FieldErrors::default(),
            password_errors: FieldErrors::default(),
            password: String::new(),
            roles: Role::ALL,
            is_self,
        }
    }
}

async fn load_user(state: &AppState, id: UserId) -> Result<User, AppError> {
    state
        .run(move |conn| Ok(db::users::get_user(conn, id)?))
        .await
}

/// `GET /settings/users/{id}`.
pub async fn edit_form(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    let user = load_user(&state, path.into_inner()).await?;
    let is_self = user.id == current.user.id;
    render(&EditUserPage::new(
        PageContext::new(&current, "users")?,
        user,
        is_self,
    ))
}

/// `POST /settings/users/{id}`: display name, role, time zone. A supervisor cannot change
/// their own role, and the last active supervisor cannot be demoted.
pub async fn update(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let user = load_user(&state, path.into_inner()).await?;
    let is_self = user.id == current.user.id;
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let display_name = errors.check("display_name", DisplayName::parse(&form.display_name));
    let role = errors.check("role", form.role.parse::<Role>());
    let time_zone = errors.check("time_zone", parse_time_zone(&form.time_zone));
    if is_self && role.is_some_and(|r| r != user.role()) {
        errors.push(
            "role",
            "You cannot change your own role; ask another supervisor.",
        );
    }
    if let (Some(display_name), Some(role), Some(time_zone), true) =
        (display_name, role, time_zone, errors.is_empty())
    {
        let (id, actor) = (user.id, current.actor());
        let outcome = state
            .run(move |conn| {
                accounts::update_account(conn, &actor, id, &display_name, role, &time_zone)
            })
            .await?;
        match outcome {
            Some(updated) => {
                current
                    .session
                    .flash(FlashKind::Success, format!("Saved {}.", updated.username));
                return Ok(see_other(&format!("/settings/users/{}", updated.id)));
            }
            None => errors.push(
                "role",
                "This is the last active supervisor; make someone else a supervisor first.",
            ),
        }
    }
    let mut page = EditUserPage::new(PageContext::new(&current, "users")?, user, is_self);
    page.form = form;
    page.errors = errors;
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// The reset-password form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ResetPasswordForm {
    password: String,
}

/// `POST /settings/users/{id}/password`: sets a temporary password the user must change;
/// their sessions end.
pub async fn reset_password(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
    form: web::Form<ResetPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let user = load_user(&state, path.into_inner()).await?;
    match NewPassword::parse(&form.password) {
        Ok(password) => {
            let (id, actor) = (user.id, current.actor());
            state
                .run(move |conn| accounts::set_password(conn, &actor, id, &password, true))
                .await?;
            current.session.flash(
                FlashKind::Success,
                format!(
                    "Password of {} reset. They must choose a new one at their next sign-in.",
                    user.username
                ),
            );
            Ok(see_other(&format!("/settings/users/{id}")))
        }
        Err(message) => {
            let is_self = user.id == current.user.id;
            let mut page = EditUserPage::new(PageContext::new(&current, "users")?, user, is_self);
            page.password_errors.push("password", message);
            page.password.clone_from(&form.password);
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// `POST /settings/users/{id}/deactivate`: ends the user's sessions at their next request.
pub async fn deactivate(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    set_active(current, state, path.into_inner(), false).await
}

/// `POST /settings/users/{id}/activate`.
pub async fn activate(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    set_active(current, state, path.into_inner(), true).await
}

async fn set_active(
    current: crate::auth::CurrentUser,
    state: web::Data<AppState>,
    id: UserId,
    active: bool,
) -> Result<HttpResponse, AppError> {
    if id == current.user.id && !active {
        current
            .session
            .flash(FlashKind::Error, "You cannot deactivate your own account.");
        return Ok(see_other(&format!("/settings/users/{id}")));
    }
    let actor = current.actor();
    let updated = state
        .run(move |conn| accounts::set_active(conn, &actor, id, active))
        .await?;
    match updated {
        Some(user) if active => current.session.flash(
            FlashKind::Success,
            format!("{} can sign in again.", user.username),
        ),
        Some(user) => current.session.flash(
            FlashKind::Success,
            format!(
                "{} is deactivated and signed out everywhere.",
                user.username
            ),
        ),
        None => current.session.flash(
            FlashKind::Error,
            "The last active supervisor cannot be deactivated.",
        ),
    }
    Ok(see_other(&format!("/settings/users/{id}")))
}
