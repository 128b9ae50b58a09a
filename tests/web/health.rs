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
