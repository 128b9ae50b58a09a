//! The whole route table, in one place, grouped by who may use it. Access is enforced by
//! each handler's extractor (`CurrentUser`, `Supervisor`), never by hiding links; pages of
//! one conversation or customer also pass the teams' scope guard (`handlers::scope`).

use std::path::Path;

use actix_files::Files;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::{ApiError, AppError};
use crate::handlers::api::{customers as api_customers, messages, openapi};
use crate::handlers::conversations;
use crate::handlers::customers::{
    actions, bulk, columns, export, history, identities, import, list, merge, orders, profile,
    segments, traffic,
};
use crate::handlers::settings::{
    audit, card, features, integrations, lifecycle, properties, selfservice as self_settings, tags,
    teams, users,
};
use crate::handlers::{account, health, insights, scope, selfservice, session, workspace};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig, static_dir: &Path) {
    cfg
        // Public.
        .route("/healthz", web::get().to(health::healthz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/login", web::get().to(session::login_form))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::post().to(session::logout))
        .service(
            web::scope("/static")
                .wrap(DefaultHeaders::new().add(("Cache-Control", "public, max-age=86400")))
                .service(
                    Files::new("", static_dir)
                        .use_etag(true)
                        .use_last_modified(true),
                ),
        )
        // Customers, with a self-service link (never a staff session).
        .route("/s", web::get().to(selfservice::request_form))
        .route("/s", web::post().to(selfservice::request_link))
        .route("/s/profile", web::get().to(selfservice::profile))
        .route("/s/profile", web::post().to(selfservice::save))
        .route("/s/{token}", web::get().to(selfservice::open_page))
        .route("/s/{token}", web::post().to(selfservice::open))
        // Any signed-in staff member.
        .route("/", web::get().to(workspace::index))
        .route(
            "/workspace/conversations.json",
            web::get().to(workspace::poll),
        )
        // One conversation, for staff whose teams reach it (the agent workspace links here).
        .service(
            web::scope("/conversations/{id}")
                .wrap(actix_web::middleware::from_fn(scope::guard))
                .route("", web::get().to(workspace::show))
                .route("/take", web::post().to(workspace::take))
                .route("/close", web::post().to(workspace::close))
                .route("/reply", web::post().to(workspace::reply))
                .route("/card", web::post().to(workspace::save_card))
                .route("/note", web::post().to(workspace::add_note))
                .route("/messages.json", web::get().to(workspace::thread))
                .route(
                    "/identities",
                    web::post().to(workspace::panel::add_identity),
                )
                .route("/tags", web::post().to(workspace::panel::add_tag))
                .route(
                    "/tags/{tag}/remove",
                    web::post().to(workspace::panel::remove_tag),
                )
                .route("/comments", web::post().to(workspace::panel::comment))
                .route("/send-link", web::post().to(workspace::send_link))
                .route("/link", web::post().to(conversations::link))
                .route("/link-new", web::post().to(conversations::link_new))
                .route("/unlink", web::post().to(conversations::unlink))
                .route("/move", web::post().to(conversations::move_conversation))
                .route(
                    "/contact-blacklist",
                    web::post().to(conversations::blacklist_contact),
                )
                .route(
                    "/contact-blacklist/remove",
                    web::post().to(conversations::unblacklist_contact),
                ),
        )
        .route("/account/password", web::get().to(account::password_form))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route(
            "/account/sign-out-everywhere",
            web::post().to(account::sign_out_everywhere),
        )
        // Background jobs started from the Customers page, and their progress.
        .route("/jobs/{id}", web::get().to(bulk::show))
        .route("/jobs/{id}/status", web::get().to(bulk::status))
        .route("/jobs/{id}/refused.csv", web::get().to(import::refused_csv))
        // Staff allowed on the Customers page (supervisors; agents when the feature is on).
        .service(
            web::scope("/customers")
                .wrap(actix_web::middleware::from_fn(merge::follow_merged))
                .wrap(actix_web::middleware::from_fn(scope::guard))
                .route("", web::get().to(list::list))
                .route("", web::post().to(list::create))
                .route("/new", web::get().to(list::new_form))
                .route("/bulk", web::post().to(bulk::apply))
                .route("/columns", web::post().to(columns::save))
                .route("/import", web::get().to(import::upload_form))
                .route("/import", web::post().to(import::upload))
                .route("/import/{id}", web::get().to(import::show))
                .route("/import/{id}/{what}", web::post().to(import::start))
                .route("/duplicates", web::get().to(merge::list))
                .route("/export.csv", web::get().to(export::export_filter))
                .route("/export.csv", web::post().to(export::export_selected))
                .route("/segments", web::post().to(segments::save))
                .route("/segments/{id}", web::post().to(segments::rename))
                .route("/segments/{id}/delete", web::post().to(segments::delete))
                .route("/{id}", web::get().to(profile::summary))
                .route("/{id}/notes", web::post().to(profile::add_note))
                .route("/{id}/profile", web::get().to(profile::profile))
                .route("/{id}/profile", web::post().to(profile::save_profile))
                .route("/{id}/tags", web::get().to(profile::tags_tab))
                .route("/{id}/tags", web::post().to(profile::add_tag))
                .route(
                    "/{id}/tags/{tag}/remove",
                    web::post().to(profile::remove_tag),
                )
                .route("/{id}/identities", web::get().to(identities::identities))
                .route("/{id}/identities", web::post().to(identities::add_identity))
                .route(
                    "/{id}/duplicates/{other}/dismiss",
                    web::post().to(identities::dismiss_duplicate),
                )
                .route(
                    "/{id}/identities/{identity}/remove",
                    web::post().to(identities::remove_identity),
                )
                .route("/{id}/interactions", web::get().to(traffic::interactions))
                .route("/{id}/messages", web::get().to(traffic::messages))
                .route("/{id}/conversations", web::get().to(traffic::replies))
                .route("/{id}/orders", web::get().to(orders::orders))
                .route("/{id}/blacklist", web::post().to(actions::blacklist))
                .route(
                    "/{id}/blacklist/remove",
                    web::post().to(actions::unblacklist),
                )
                .route("/{id}/contact", web::post().to(actions::contact))
                .route("/{id}/lock", web::post().to(actions::lock))
                .route("/{id}/lifecycle/pin", web::post().to(actions::pin_stage))
                .route("/{id}/anonymize", web::get().to(actions::confirm_anonymize))
                .route("/{id}/anonymize", web::post().to(actions::anonymize))
                .route("/{id}/unlock", web::post().to(actions::unlock))
                .route("/{id}/send-link", web::post().to(actions::send_link))
                .route("/{id}/links/revoke", web::post().to(actions::revoke_links))
                .route("/{id}/merge/{other}", web::get().to(merge::review))
                .route("/{id}/merge/{other}", web::post().to(merge::merge))
                .route("/{id}/history", web::get().to(history::history))
                .route(
                    "/{id}/merges/{merge}/undo",
                    web::post().to(history::undo_merge),
                )
                .route("/{id}/export.json", web::get().to(export::export_customer))
                .route(
                    "/{id}/history/{event}/revert",
                    web::post().to(history::revert),
                ),
        )
        // Supervisors.
        .service(
            web::scope("/settings/properties")
                .route("", web::get().to(properties::list))
                .route("", web::post().to(properties::create))
                .route("/new", web::get().to(properties::new_form))
                .route("/{id}", web::get().to(properties::edit_form))
                .route("/{id}", web::post().to(properties::update))
                .route("/{id}/delete", web::get().to(properties::confirm_delete))
                .route("/{id}/delete", web::post().to(properties::delete)),
        )
        .service(
            web::scope("/settings/tags")
                .route("", web::get().to(tags::list))
                .route("", web::post().to(tags::create))
                .route("/{id}", web::post().to(tags::update))
                .route("/{id}/delete", web::post().to(tags::delete)),
        )
        .route("/settings/integrations", web::get().to(integrations::show))
        .route(
            "/settings/integrations/webhook",
            web::post().to(integrations::save_webhook),
        )
        .route(
            "/settings/integrations/retry",
            web::post().to(integrations::retry_failed),
        )
        .route(
            "/settings/integrations/test",
            web::post().to(integrations::send_test),
        )
        .route(
            "/settings/tokens",
            web::post().to(integrations::create_token),
        )
        .route(
            "/settings/tokens/{id}/revoke",
            web::post().to(integrations::revoke_token),
        )
        .route("/settings/self-service", web::get().to(self_settings::show))
        .route(
            "/settings/self-service",
            web::post().to(self_settings::save),
        )
        .route("/settings/card", web::get().to(card::show))
        .route("/settings/card", web::post().to(card::save))
        .route("/settings/audit", web::get().to(audit::show))
        .route(
            "/settings/audit/retention",
            web::post().to(audit::save_retention),
        )
        .route("/insights", web::get().to(insights::show))
        .route("/insights/{chart}", web::get().to(insights::csv))
        .route("/settings/lifecycle", web::get().to(lifecycle::show))
        .route("/settings/lifecycle", web::post().to(lifecycle::save))
        .route("/settings/features", web::get().to(features::show))
        .route("/settings/features", web::post().to(features::save))
        .service(
            web::scope("/settings/teams")
                .route("", web::get().to(teams::list))
                .route("", web::post().to(teams::create))
                .route("/new", web::get().to(teams::new_form))
                .route("/{id}", web::get().to(teams::edit_form))
                .route("/{id}", web::post().to(teams::update))
                .route("/{id}/delete", web::post().to(teams::delete)),
        )
        .service(
            web::scope("/settings/users")
                .route("", web::get().to(users::list))
                .route("", web::post().to(users::create))
                .route("/new", web::get().to(users::new_form))
                .route("/{id}", web::get().to(users::edit_form))
                .route("/{id}", web::post().to(users::update))
                .route("/{id}/password", web::post().to(users::reset_password))
                .route("/{id}/deactivate", web::post().to(users::deactivate))
                .route("/{id}/activate", web::post().to(users::activate)),
        )
        // Integrations (bearer tokens); JSON errors only.
        .service(
            web::scope("/api/v1")
                // Bodies are read by `ApiJson`, strictly, up to this size.
                .app_data(web::PayloadConfig::new(crate::handlers::api::body::LIMIT))
                .app_data(web::PathConfig::default().error_handler(|err, _| {
                    ApiError(AppError::field("path", err.to_string())).into()
                }))
                .route("/openapi.json", web::get().to(openapi::document))
                .route("/messages", web::post().to(messages::receive))
                .route("/conversations/{id}/rating", web::post().to(messages::rate))
                .route("/customers", web::get().to(api_customers::list))
                .route("/customers", web::post().to(api_customers::create))
                .route("/customers/{id}", web::get().to(api_customers::get))
                .route(
                    "/customers/{id}/export",
                    web::get().to(api_customers::export),
                )
                .route("/customers/{id}", web::patch().to(api_customers::patch))
                .route(
                    "/customers/{id}/merge",
                    web::post().to(crate::handlers::api::merge::merge),
                )
                .route("/customers/{id}", web::delete().to(api_customers::delete))
                .route(
                    "/customers/{id}/identities",
                    web::post().to(api_customers::add_identity),
                )
                .route(
                    "/customers/{id}/identities/{channel}/{external_id}",
                    web::delete().to(api_customers::remove_identity),
                )
                .route(
                    "/customers/{id}/tags",
                    web::post().to(api_customers::add_tag),
                )
                .route(
                    "/customers/{id}/tags/{tag}",
                    web::delete().to(api_customers::remove_tag),
                )
                .route(
                    "/customers/{id}/orders/{order_ref}",
                    web::put().to(crate::handlers::api::orders::put_order),
                )
                .default_service(web::to(not_found)),
        )
        .default_service(web::to(not_found));
}

/// 404 in the right shape: JSON under `/api`, the HTML page elsewhere.
async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        // Distinct from a missing resource: the endpoint itself does not exist.
        HttpResponse::NotFound().json(serde_json::json!({
            "error": "no_route",
            "message": format!("There is no API endpoint {} {}; see /api/v1/openapi.json.", req.method(), req.path()),
        }))
    } else {
        AppError::NotFound.error_response()
    }
}
