//! Settings → Features: switches that change what agents can reach.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Supervisor;
use crate::db::settings as stored;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render};
use crate::page::FlashKind;
use crate::services::settings;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/features.html")]
struct FeaturesPage {
    ctx: PageContext,
    customers_page_for_agents: bool,
    agents_merge: bool,
    time_zone: String,
    error: Option<String>,
}

/// `GET /settings/features`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (customers_page_for_agents, agents_merge, time_zone) = state
        .run(|conn| {
            Ok((
                stored::is_enabled(conn, crate::db::types::Setting::CustomersPageForAgents)?,
                stored::is_enabled(conn, crate::db::types::Setting::AgentsMerge)?,
                stored::find_setting(conn, crate::db::types::Setting::OrgTimeZone)?
                    .unwrap_or_else(|| "UTC".to_owned()),
            ))
        })
        .await?;
    render(&FeaturesPage {
        ctx: PageContext::new(&current, "features")?,
        customers_page_for_agents,
        agents_merge,
        time_zone,
        error: None,
    })
}

/// The features form: an unchecked box is simply absent.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct FeaturesForm {
    customers_page_for_agents: Option<String>,
    agents_merge: Option<String>,
    time_zone: String,
}

/// `POST /settings/features`: applies at every agent's next page load.
pub async fn save(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<FeaturesForm>,
) -> Result<HttpResponse, AppError> {
    let on = form.customers_page_for_agents.is_some();
    let merge = form.agents_merge.is_some();
    let zone = match crate::services::accounts::parse_time_zone(&form.time_zone) {
        Ok(zone) => zone.name().to_owned(),
        Err(message) => {
            let page = FeaturesPage {
                ctx: PageContext::new(&current, "features")?,
                customers_page_for_agents: on,
                agents_merge: merge,
                time_zone: form.time_zone.clone(),
                error: Some(message),
            };
            return crate::handlers::page::render_status(
                &page,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let actor = current.actor();
    state
        .run(move |conn| settings::save_features(conn, &actor, on, merge, &zone))
        .await?;
    current.session.flash(FlashKind::Success, "Features saved.");
    Ok(see_other("/settings/features"))
}
