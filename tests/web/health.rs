//! `/healthz` tells a load balancer whether this instance can reach its database.

use std::time::Duration;

use actix_web::{App, test, web};
use clientele::config::Settings;
use clientele::db::{DatabaseUrl, DbManager};
use clientele::state::AppState;
use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_200_when_the_database_answers() {
    let app = spawn_app().await;
    let response = app.browser().get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[actix_web::test]
async fn healthz_answers_503_when_the_database_does_not() {
    // A PostgreSQL that is not there: nothing listens on port 9 of the loopback.
    let url: DatabaseUrl = "postgres://nobody@127.0.0.1:9/none?connect_timeout=1"
        .parse()
        .unwrap();
    let pool = diesel::r2d2::Pool::builder()
        .connection_timeout(Duration::from_millis(300))
        .build_unchecked(DbManager::new(url.clone()));
    let state = web::Data::new(AppState {
        pool,
        settings: Settings::for_tests(url),
        public_url: "http://127.0.0.1:1".to_owned(),
        cookie_key: actix_web::cookie::Key::generate(),
        figures: Default::default(),
    });
    let service = test::init_service(App::new().app_data(state).route(
        "/healthz",
        web::get().to(clientele::handlers::health::healthz),
    ))
    .await;
    let response = test::call_service(
        &service,
        test::TestRequest::get().uri("/healthz").to_request(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 503);
}

#[tokio::test]
async fn the_suite_runs_on_the_backend_it_was_asked_for() {
    let app = spawn_app().await;
    let wants_postgres = std::env::var(crate::helpers::PG_ENV).is_ok_and(|v| !v.is_empty());
    let is_postgres =
        app.with_db(|conn| matches!(conn, clientele::db::DbConnection::Postgresql(_)));
    assert_eq!(is_postgres, wants_postgres);
}

#[tokio::test]
async fn head_answers_as_get_does_without_a_body() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    for (path, status) in [
        ("/healthz", StatusCode::OK),
        ("/login", StatusCode::OK),
        ("/", StatusCode::SEE_OTHER),
        ("/no-such-page", StatusCode::NOT_FOUND),
    ] {
        let response = client
            .head(format!("{}{path}", app.address))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(response.status(), status, "HEAD {path}");
        assert!(
            response.headers().contains_key("content-security-policy"),
            "HEAD {path}"
        );
        assert!(
            response.bytes().await.expect("body").is_empty(),
            "HEAD {path}"
        );
    }
}

#[tokio::test]
async fn metrics_are_served_only_with_their_token_and_name_routes_not_paths() {
    let plain = spawn_app().await;
    assert_eq!(
        plain.browser().get("/metrics").await.status(),
        StatusCode::NOT_FOUND,
        "off unless a token is set"
    );

    let token = "m".repeat(40);
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.metrics_token = Some(token.parse().expect("a token"));
    })
    .await;
    let customer = app.create_customer(&[("name", "Counted")]);
    let supervisor = app.supervisor().await;
    supervisor
        .get(&format!("/customers/{customer}/profile"))
        .await;
    app.browser()
        .sign_in("sam.supervisor", "not the password")
        .await;
    let client = reqwest::Client::new();
    let scrape = || async {
        client
            .get(format!("{}/metrics", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .expect("scraped")
    };
    let refused = client
        .get(format!("{}/metrics", app.address))
        .bearer_auth("m".repeat(39))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let response = scrape().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.expect("text");
    assert!(
        text.contains(r#"clientele_http_requests_total{method="GET",route="/customers/{id}/profile",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("clientele_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(!text.contains(&customer), "paths with ids stay out");
    for name in [
        "clientele_sign_in_failures_total ",
        "clientele_db_pool_connections ",
        "clientele_db_pool_waiting ",
        "clientele_jobs_unfinished 0",
        "clientele_jobs_oldest_age_seconds 0",
        "clientele_outbox_pending 0",
        "clientele_outbox_failed 0",
    ] {
        assert!(text.contains(name), "{name}: {text}");
    }
    let failures: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("clientele_sign_in_failures_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a count");
    assert!(failures >= 1.0, "{text}");
}
