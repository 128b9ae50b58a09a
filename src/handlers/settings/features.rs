//! Settings → Features: switches that change what agents can reach.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::audit_actor;
use crate::auth::Supervisor;
use crate::db::{self, audit, settings};
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "settings/features.html")]
struct FeaturesPage {
    ctx: PageContext,
    customers_page_for_agents: bool,
}

/// `GET /settings/features`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let customers_page_for_agents = db::run(&state.pool, |conn| {
        Ok(settings::is_enabled(
            conn,
            settings::CUSTOMERS_PAGE_FOR_AGENTS,
        )?)
    })
    .await?;
    render(&FeaturesPage {
        ctx: PageContext::new(&current, "features")?,
        customers_page_for_agents,
    })
}

/// The features form: an unchecked box is simply absent.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct FeaturesForm {
    customers_page_for_agents: Option<String>,
}

/// `POST /settings/features`: applies at every agent's next page load.
pub async fn save(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<FeaturesForm>,
) -> Result<HttpResponse, AppError> {
    let on = form.customers_page_for_agents.is_some();
    let (actor_id, actor_name) = audit_actor(&current);
    db::run(&state.pool, move |conn| {
        settings::upsert_setting(
            conn,
            settings::CUSTOMERS_PAGE_FOR_AGENTS,
            if on { "on" } else { "off" },
        )?;
        audit::insert_audit(
            conn,
            actor_id,
            &actor_name,
            "feature_changed",
            "Customers page in agent mode",
            if on { "on" } else { "off" },
        )?;
        Ok(())
    })
    .await?;
    current.session.flash("success", "Features saved.");
    Ok(see_other("/settings/features"))
}
