//! Sessions that really end (sign-out, sign out everywhere, an absolute lifetime), redirects
//! that stay on the site, requests from other sites refused, and refusals that are logged
//! and carry the security headers like every other answer.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};

use crate::helpers::{PASSWORD, TestApp, extract_csrf, location, spawn_app, spawn_app_with};
use clientele::domain::Role;

/// A client that keeps no cookies and follows no redirects: each request carries exactly
/// the cookie given, as a copied cookie would.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// The session cookie a response sets, as `name=value`.
fn cookie_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clientele_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Signs `username` in and returns the session cookie and its CSRF token.
async fn signed_in(app: &TestApp, username: &str) -> (String, String) {
    let client = bare();
    let login = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("the sign-in page");
    let cookie = cookie_of(&login).expect("a session cookie");
    let token = extract_csrf(&login.text().await.expect("body")).expect("a token");
    let response = client
        .post(format!("{}/login", app.address))
        .header(COOKIE, &cookie)
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_of(&response).expect("the signed-in cookie");
    let page = client
        .get(format!("{}/account/password", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("a page");
    let token = extract_csrf(&page.text().await.expect("body")).expect("a token");
    (cookie, token)
}

async fn get_with(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    bare()
        .get(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("GET")
}

async fn post_with(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    bare()
        .post(format!("{}{path}", app.address))
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .expect("POST")
}

#[tokio::test]
async fn a_copy_of_the_cookie_stops_working_once_its_session_signs_out() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let customer = app.create_customer(&[("name", "Ada")]);
    let (cookie, token) = signed_in(&app, "ana.agent").await;
    let copy = cookie.clone();
    assert_eq!(get_with(&app, &copy, "/").await.status(), StatusCode::OK);
    let out = post_with(&app, &cookie, "/logout", &[("csrf_token", &token)]).await;
    assert_eq!(location(&out), "/login");
    // The copy taken before signing out: neither reads nor writes.
    let read = get_with(&app, &copy, "/").await;
    assert_eq!(read.status(), StatusCode::SEE_OTHER);
    assert!(location(&read).starts_with("/login"));
    let write = post_with(
        &app,
        &copy,
        &format!("/customers/{customer}/notes"),
        &[("body", "written after sign-out"), ("csrf_token", &token)],
    )
    .await;
    assert_ne!(write.status(), StatusCode::OK);
    let notes = app.with_db(|conn| {
        clientele::db::notes::list_latest_notes(conn, app.customer(&customer).id, 10)
            .expect("notes")
    });
    assert!(notes.is_empty(), "nothing was written with the old cookie");
}

#[tokio::test]
async fn sign_out_everywhere_ends_the_other_devices_sessions_too() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let (laptop, token) = signed_in(&app, "ana.agent").await;
    let (phone, _) = signed_in(&app, "ana.agent").await;
    assert_eq!(get_with(&app, &phone, "/").await.status(), StatusCode::OK);
    let page = get_with(&app, &laptop, "/account/password").await;
    assert!(
        page.text()
            .await
            .expect("body")
            .contains("Sign out everywhere")
    );
    let out = post_with(
        &app,
        &laptop,
        "/account/sign-out-everywhere",
        &[("csrf_token", &token)],
    )
    .await;
    assert_eq!(location(&out), "/login");
    for cookie in [&laptop, &phone] {
        assert_eq!(
            get_with(&app, cookie, "/").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    // Signing in again works.
    let (again, _) = signed_in(&app, "ana.agent").await;
    assert_eq!(get_with(&app, &again, "/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = spawn_app_with(|settings| settings.session_lifetime_secs = 5).await;
    app.create_user("ana.agent", Role::Agent);
    let (cookie, _) = signed_in(&app, "ana.agent").await;
    assert_eq!(get_with(&app, &cookie, "/").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(6200)).await;
    let late = get_with(&app, &cookie, "/").await;
    assert_eq!(late.status(), StatusCode::SEE_OTHER);
    assert!(location(&late).starts_with("/login"));
}

#[tokio::test]
async fn sign_in_goes_back_only_to_paths_on_this_site() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    for next in [
        "/\t/evil.example",
        "/\\evil.example",
        "//evil.example",
        "/a\r\nSet-Cookie: x=1",
    ] {
        let browser = app.browser();
        let response = browser
            .post_form(
                "/login",
                &[
                    ("username", "ana.agent"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&response), "/", "{next:?}");
    }
    // A control character other than tab and newline is left out of every form before
    // it is read: what remains is a path on this site.
    let response = app
        .browser()
        .post_form(
            "/login",
            &[
                ("username", "ana.agent"),
                ("password", PASSWORD),
                ("next", "/\u{b}settings"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/settings");
    let page = app.browser().get("/login?next=%2Fa%0D%0Ab").await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_whatever_its_token() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let supervisor = app.supervisor().await;
    let path = format!("/customers/{customer}/notes");
    let fields = [("body", "a note")];
    for headers in [
        [("Sec-Fetch-Site", "cross-site")],
        [("Origin", "http://evil.example")],
    ] {
        let response = supervisor.post_form_with(&path, &fields, &headers).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }
    let host = app.address.trim_start_matches("http://").to_owned();
    let same = format!("http://{host}");
    let response = supervisor
        .post_form_with(
            &path,
            &fields,
            &[("Origin", &same), ("Sec-Fetch-Site", "same-origin")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn refusals_before_any_handler_carry_the_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let forged = supervisor
        .post_raw("/settings/tags", &[("name", "x"), ("csrf_token", "forged")])
        .await;
    let big = "x".repeat(2 * 1024 * 1024);
    let oversized = supervisor
        .post_form("/settings/tags", &[("name", big.as_str())])
        .await;
    for (response, status) in [
        (forged, StatusCode::FORBIDDEN),
        (oversized, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        assert_eq!(response.status(), status);
        for header in [
            "content-security-policy",
            "x-frame-options",
            "x-content-type-options",
            "x-request-id",
        ] {
            assert!(
                response.headers().contains_key(header),
                "{status}: {header}"
            );
        }
    }
}

#[tokio::test]
async fn messages_never_pile_up_in_the_cookie_of_a_client_that_does_not_follow_redirects() {
    let app = spawn_app().await;
    app.create_customer(&[("name", "Ada")]);
    let supervisor = app.supervisor().await;
    for _ in 0..60 {
        let response = supervisor
            .post_form(
                "/customers/bulk",
                &[
                    ("query", "period=all"),
                    ("action", "add_tag"),
                    ("scope", "selected"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let page = supervisor.page("/customers?period=all").await;
    assert_eq!(page.matches("id=\"bulk-error\"").count(), 1);
}

#[tokio::test]
async fn the_published_address_counts_as_this_site_whatever_host_a_proxy_passes_on() {
    let app = spawn_app_with(|settings| {
        settings.public_url = Some("https://crm.example.com".to_owned());
    })
    .await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let supervisor = app.supervisor().await;
    let path = format!("/customers/{customer}/notes");
    let response = supervisor
        .post_form_with(
            &path,
            &[("body", "from the published address")],
            &[("Origin", "https://crm.example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = supervisor
        .post_form_with(
            &path,
            &[("body", "from elsewhere")],
            &[("Origin", "https://crm.example.com.evil.example")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
