//! Locked profiles: channel data never changes them; staff edits still work; customers'
//! own edits follow the self-service setting; only supervisors lock and unlock.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{location, spawn_app};

#[tokio::test]
async fn a_locked_profile_keeps_its_data_when_a_channel_reports_a_name() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(&format!("/customers/{customer}/lock"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let profile = supervisor
        .page(&format!("/customers/{customer}/profile"))
        .await;
    assert!(profile.contains("id=\"locked\"") && profile.contains("Unlock"));

    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "display_name": "Channel Name", "text": "Hi"}),
        )
        .await;
    assert_eq!(answer["known"], true);
    assert_eq!(
        app.customer(&customer).name,
        None,
        "the channel's name does not fill a locked profile"
    );
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    assert!(
        supervisor
            .page(&format!("/conversations/{conversation}"))
            .await
            .contains("id=\"card-locked\"")
    );

    // Staff edits still work on a locked profile.
    let version = app.version_of(&customer);
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_name", "Ana Staff")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.customer(&customer).name.as_deref(), Some("Ana Staff"));

    supervisor
        .post_form(&format!("/customers/{customer}/unlock"), &[])
        .await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("locked") && history.contains("unlocked"));
}

#[tokio::test]
async fn an_unlocked_profile_still_takes_the_channel_name() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    app.inbound(
        &token,
        json!({"channel": "whatsapp", "external_id": "+385912345678", "display_name": "Channel Name", "text": "Hi"}),
    )
    .await;
    assert_eq!(
        app.customer(&customer).name.as_deref(),
        Some("Channel Name")
    );
}

#[tokio::test]
async fn an_agent_cannot_lock_a_profile_even_with_a_crafted_post() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    let customer = app.create_customer(&[("name", "Ada")]);
    let agent = app.agent().await;
    assert!(
        !agent
            .page(&format!("/customers/{customer}/profile"))
            .await
            .contains("Lock profile")
    );
    let response = agent
        .post_form(&format!("/customers/{customer}/lock"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let locked = app.with_db(|conn| {
        clientele::db::locks::find_lock(conn, app.customer(&customer).id).expect("a lookup")
    });
    assert!(locked.is_none());
}

#[tokio::test]
async fn customers_edit_a_locked_profile_only_while_the_setting_allows_it() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(&format!("/customers/{customer}/lock"), &[])
        .await;

    let open_session = || async {
        // A minute passes between the two requests for a link.
        app.forget_limits();
        let answer = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "profile"}),
            )
            .await;
        let reply = answer["replies"][0]["text"].as_str().expect("a reply");
        let start = reply.find("/s/").expect("a link");
        let browser = app.browser();
        let response = browser.open_link(&reply[start..start + 3 + 64]).await;
        assert_eq!(location(&response), "/s/profile");
        let page = browser.page("/s/profile").await;
        let csrf = crate::helpers::extract_csrf(&page).expect("a token");
        (browser, csrf)
    };
    let save = |browser: crate::helpers::Browser, csrf: String, email: &'static str| {
        let version = app.version_of(&customer);
        async move {
            browser
                .post_raw(
                    "/s/profile",
                    &[
                        ("csrf_token", &csrf),
                        ("version", &version),
                        ("p_email", email),
                    ],
                )
                .await
        }
    };

    // By default a locked profile is still the customer's to correct.
    let (browser, csrf) = open_session().await;
    let response = save(browser, csrf, "ada@example.com").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.customer(&customer).email.as_deref(),
        Some("ada@example.com")
    );

    supervisor
        .post_form(
            "/settings/self-service",
            &[
                ("enabled", "on"),
                ("keyword", "profile"),
                ("ttl_hours", "24"),
                ("org_name", "Clientele"),
            ],
        )
        .await;
    let (browser, csrf) = open_session().await;
    let page = browser.page("/s/profile").await;
    assert!(page.contains("Your details are locked"), "said on the page");
    assert!(
        !page.contains("name=\"p_email\"") && !page.contains("Save my details"),
        "shown, not offered as a form"
    );
    // A crafted save is refused all the same.
    let response = save(browser, csrf, "other@example.com").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        response
            .text()
            .await
            .expect("a body")
            .contains("Your details are locked")
    );
    assert_eq!(
        app.customer(&customer).email.as_deref(),
        Some("ada@example.com")
    );
}
