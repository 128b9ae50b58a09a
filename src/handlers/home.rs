//! The landing page after sign-in.

use actix_web::HttpResponse;
use askama::Template;

use super::page::{PageContext, render};
use crate::auth::CurrentUser;
use crate::error::AppError;

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomePage {
    ctx: PageContext,
    display_name: String,
}

/// `GET /`: the workspace home.
pub async fn index(current: CurrentUser) -> Result<HttpResponse, AppError> {
    let page = HomePage {
        ctx: PageContext::new(&current, "home")?,
        display_name: current.user.display_name.clone(),
    };
    render(&page)
}
