//! Signing in and out, forced password changes, throttling, and sessions that end.

use clientele::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, location, spawn_app};

#[tokio::test]
async fn an_anonymous_visitor_is_sent_to_the_sign_in_page() {
    let app = spawn_app().await;
    let response = app.browser().get("/settings/users").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fsettings%2Fusers");
}

#[tokio::test]
async fn a_staff_member_signs_in_with_the_right_password_and_lands_where_they_were_going() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let browser = app.browser();
    let response = browser
        .post_form(
            "/login",
            &[
                ("username", "ANA.Agent"),
                ("password", PASSWORD),
                ("next", "/account/password"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/password");
    let home = browser.page("/").await;
    assert!(
        home.contains("ana.agent display"),
        "the header names the user"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_the_username_kept() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let browser = app.browser();
    let response = browser.sign_in("ana.agent", "not the password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("The username or password is not right."));
    assert!(html.contains("value=\"ana.agent\""));
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_unknown_username_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let response = app.browser().sign_in("nobody", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The username or password is not right.")
    );
}

#[tokio::test]
async fn signing_in_renews_the_session_cookie() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let browser = app.browser();
    let before = browser.csrf_token().await;
    browser.sign_in("ana.agent", PASSWORD).await;
    let after = browser.csrf_token().await;
    assert_ne!(
        before, after,
        "a new session (and CSRF token) starts at sign-in"
    );
}

#[tokio::test]
async fn an_open_redirect_after_sign_in_is_not_followed() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let response = app
        .browser()
        .post_form(
            "/login",
            &[
                ("username", "ana.agent"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/");
}

#[tokio::test]
async fn repeated_failures_throttle_the_username_even_for_the_right_password() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let browser = app.browser();
    for _ in 0..5 {
        let response = browser.sign_in("ana.agent", "wrong password!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = browser.sign_in("ana.agent", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins")
    );
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
    // Another username from the same address is not yet throttled.
    app.create_user("bo.agent", Role::Agent);
    assert_eq!(
        app.browser().sign_in("bo.agent", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_every_username() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let browser = app.browser();
    for i in 0..20 {
        browser
            .sign_in(&format!("guess{i}"), "wrong password!")
            .await;
    }
    assert_eq!(
        browser.sign_in("ana.agent", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let browser = app.agent().await;
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    let response = browser.post_form("/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_new_user_must_choose_a_password_before_anything_else() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            "/settings/users",
            &[
                ("username", "new.agent"),
                ("display_name", "New Agent"),
                ("role", "agent"),
                ("time_zone", "Europe/Zagreb"),
                ("password", "temporary-pass-1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let agent = app.browser();
    let response = agent.sign_in("new.agent", "temporary-pass-1").await;
    assert_eq!(location(&response), "/account/password");
    let response = agent.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/password");
    assert!(
        agent
            .page("/account/password")
            .await
            .contains("The one you signed in with was temporary")
    );

    // Mismatch and policy are refused at their fields; nothing changes.
    let response = agent
        .post_form(
            "/account/password",
            &[
                ("current_password", "temporary-pass-1"),
                ("new_password", "short"),
                ("confirm_password", "other"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("A password has at least 10 characters."));
    assert!(html.contains("The two new passwords differ."));

    let response = agent
        .post_form(
            "/account/password",
            &[
                ("current_password", "temporary-pass-1"),
                ("new_password", "my own long secret"),
                ("confirm_password", "my own long secret"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(agent.get("/").await.status(), StatusCode::OK);
    // The new password works, the temporary one no longer does.
    assert_eq!(
        app.browser()
            .sign_in("new.agent", "temporary-pass-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser()
            .sign_in("new.agent", "my own long secret")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_wrong_current_password_does_not_change_the_password() {
    let app = spawn_app().await;
    let agent = app.agent().await;
    let response = agent
        .post_form(
            "/account/password",
            &[
                ("current_password", "not my password"),
                ("new_password", "another long secret"),
                ("confirm_password", "another long secret"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This is not your current password.")
    );
    assert_eq!(
        app.browser().sign_in("ana.agent", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_at_the_next_request_and_cannot_sign_in() {
    let app = spawn_app().await;
    let agent = app.agent().await;
    let supervisor = app.supervisor().await;
    assert_eq!(agent.get("/").await.status(), StatusCode::OK);

    let agent_id = app.with_db(|conn| {
        clientele::db::users::find_user_by_username(conn, "ana.agent")
            .unwrap()
            .unwrap()
            .id
    });
    let response = supervisor
        .post_form(&format!("/settings/users/{agent_id}/deactivate"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let response = agent.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
    let response = app.browser().sign_in("ana.agent", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("deactivated"));
}

#[tokio::test]
async fn a_password_reset_by_a_supervisor_ends_the_users_sessions() {
    let app = spawn_app().await;
    let agent = app.agent().await;
    let supervisor = app.supervisor().await;
    let agent_id = app.with_db(|conn| {
        clientele::db::users::find_user_by_username(conn, "ana.agent")
            .unwrap()
            .unwrap()
            .id
    });
    let response = supervisor
        .post_form(
            &format!("/settings/users/{agent_id}/password"),
            &[("password", "fresh temporary 1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(agent.get("/").await.status(), StatusCode::SEE_OTHER);
    let again = app.browser();
    assert_eq!(
        location(&again.sign_in("ana.agent", "fresh temporary 1").await),
        "/account/password"
    );
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = crate::helpers::spawn_app_with(|settings| settings.idle_timeout_minutes = 0).await;
    let agent = app.agent().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = agent.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
    assert!(agent.page("/login").await.contains("period of inactivity"));
}
