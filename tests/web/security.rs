//! CSRF protection and the headers every response carries.

use clientele::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_post_without_a_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_raw(
            "/settings/users",
            &[
                ("username", "forged"),
                ("role", "supervisor"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("Form expired"));
    let response = supervisor
        .post_raw(
            "/settings/users",
            &[
                ("username", "forged"),
                ("role", "supervisor"),
                ("password", "long enough pass"),
                ("csrf_token", "0123456789abcdef"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let forged =
        app.with_db(|conn| clientele::db::users::find_user_by_username(conn, "forged").unwrap());
    assert!(forged.is_none());
}

#[tokio::test]
async fn a_token_from_another_session_does_not_work() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let attacker = app.browser();
    let foreign_token = attacker.csrf_token().await;
    let response = supervisor
        .post_raw(
            "/settings/users",
            &[
                ("username", "forged"),
                ("role", "agent"),
                ("password", "long enough pass"),
                ("csrf_token", &foreign_token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sign_in_itself_needs_the_token() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let browser = app.browser();
    let response = browser
        .post_raw(
            "/login",
            &[("username", "ana.agent"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let browser = app.browser();
    for path in ["/login", "/healthz", "/no/such/page", "/static/css/app.css"] {
        let response = browser.get(path).await;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(
            headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert!(headers.get("referrer-policy").is_some(), "{path}");
        assert!(headers.get("x-request-id").is_some(), "{path}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = app.browser().get("/login").await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("clientele_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn error_pages_use_the_layout_and_api_errors_are_json() {
    let app = spawn_app().await;
    let browser = app.browser();
    let response = browser.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found") && html.contains("class=\"topbar\""));
    let response = browser.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "no_route");
}

#[tokio::test]
async fn static_assets_are_cacheable() {
    let app = spawn_app().await;
    let response = app.browser().get("/static/css/app.css").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response
        .headers()
        .get("cache-control")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cache.contains("max-age="));
    assert!(response.headers().get("etag").is_some());
}
