//! Customer self-service: the keyword, links, the customer session and its limits.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, location, spawn_app};

/// The `/s/<token>` path inside a reply.
fn link_path(reply: &str) -> String {
    let start = reply.find("/s/").expect("a link in the reply");
    reply[start..start + 3 + 64].to_owned()
}

async fn text_profile(app: &TestApp, token: &str, external_id: &str, name: Option<&str>) -> Value {
    let mut body = json!({"channel": "whatsapp", "external_id": external_id, "text": "  Profile "});
    if let Some(name) = name {
        body["display_name"] = json!(name);
    }
    app.inbound(token, body).await
}

/// A customer browser that opened a fresh link.
async fn customer_session(app: &TestApp, token: &str, phone: &str) -> (Browser, String) {
    let answer = text_profile(app, token, phone, None).await;
    let link = link_path(answer["replies"][0]["text"].as_str().expect("a reply"));
    let browser = app.browser();
    let response = browser.open_link(&link).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/s/profile");
    (browser, link)
}

fn csrf(html: &str) -> String {
    crate::helpers::extract_csrf(html).expect("a csrf token")
}

#[tokio::test]
async fn a_known_customer_texting_profile_gets_a_link_in_the_conversation() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let answer = text_profile(&app, &token, "+385912345678", None).await;
    assert_eq!(answer["customer_id"], customer.as_str());
    let reply = answer["replies"][0]["text"].as_str().unwrap();
    assert!(reply.contains("/s/") && reply.contains("24 hours"));
    // The request and the reply are in the conversation; the reply is queued for delivery.
    let supervisor = app.supervisor().await;
    let messages = supervisor
        .page(&format!("/customers/{customer}/messages"))
        .await;
    assert!(messages.contains("Profile") && messages.contains("Here is your personal link"));
    assert!(messages.contains("Waiting for delivery"));
}

#[tokio::test]
async fn an_unknown_sender_gets_a_customer_created_first() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let answer = text_profile(&app, &token, "+385919999999", Some("Marija")).await;
    assert_eq!(answer["known"], true);
    let customer = answer["customer_id"].as_str().unwrap().to_owned();
    assert_eq!(app.customer(&customer).name.as_deref(), Some("Marija"));
    assert_eq!(answer["replies"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_keyword_is_a_setting_and_can_be_turned_off() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            "/settings/self-service",
            &[
                ("enabled", "on"),
                ("keyword", "details"),
                ("ttl_hours", "2"),
                ("org_name", "Acme Support"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        text_profile(&app, &token, "+385912345678", None).await["replies"],
        json!([])
    );
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "DETAILS"}),
        )
        .await;
    assert!(
        answer["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("2 hours")
    );
    let response = supervisor
        .post_form(
            "/settings/self-service",
            &[
                ("keyword", "details"),
                ("ttl_hours", "2"),
                ("org_name", "Acme Support"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "details"}),
        )
        .await;
    assert_eq!(answer["replies"], json!([]));
    let response = supervisor
        .post_form(
            "/settings/self-service",
            &[("keyword", ""), ("ttl_hours", "0"), ("org_name", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_blacklisted_customer_gets_no_link() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let row = app.customer(&customer);
    app.with_db(|conn| {
        clientele::services::conversations::set_blacklisted(
            conn,
            row.id,
            Some("Abuse"),
            &clientele::domain::customer::Actor::System,
        )
        .unwrap()
    });
    let answer = text_profile(&app, &token, "+385912345678", None).await;
    assert_eq!(answer["blocked"], true);
    assert_eq!(answer["replies"], json!([]));
    let links: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::self_service_links::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(links, 0);
}

#[tokio::test]
async fn the_customer_sees_only_what_customers_may_and_edits_with_the_same_rules() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[
        ("name", "Ada"),
        ("phone", "+385912345678"),
        ("city", "Zagreb"),
        ("email", "ada@example.com"),
    ]);
    let (browser, _) = customer_session(&app, &token, "+385912345678").await;
    let page = browser.page("/s/profile").await;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Clientele"));
    assert!(
        page.contains("name=\"p_name\"")
            && page.contains("name=\"p_email\"")
            && page.contains("name=\"p_language\"")
    );
    assert!(
        page.contains("+385912345678") && !page.contains("name=\"p_phone\""),
        "phone is view-only"
    );
    assert!(
        !page.contains("Zagreb") && !page.contains(&customer),
        "no staff-only data, no internal id"
    );

    let token_field = csrf(&page);
    let version = app.version_of(&customer);
    // Without its version, the page saves nothing and keeps what was typed.
    let response = browser
        .post_raw(
            "/s/profile",
            &[
                ("csrf_token", &token_field),
                ("p_email", "kept@example.com"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("the page");
    assert!(html.contains("Nothing was saved") && html.contains("value=\"kept@example.com\""));
    assert_ne!(
        app.value_of(&customer, "email").as_deref(),
        Some("kept@example.com")
    );
    let response = browser
        .post_raw(
            "/s/profile",
            &[
                ("csrf_token", &token_field),
                ("version", &version),
                ("p_email", "not-an-address"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("Enter an e-mail address") && html.contains("value=\"not-an-address\""));

    let response = browser
        .post_raw(
            "/s/profile",
            &[
                ("csrf_token", &token_field),
                ("version", &version),
                ("p_email", "ada.new@example.com"),
                ("p_language", "fr"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        browser
            .page("/s/profile?saved=1")
            .await
            .contains("your details are saved")
    );
    assert_eq!(
        app.value_of(&customer, "email").as_deref(),
        Some("ada.new@example.com")
    );
    let supervisor = app.supervisor().await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(
        history.contains("· by Customer</p>"),
        "the customer is the author"
    );

    // View-only and staff-only properties are refused outright.
    for (field, value) in [
        ("p_phone", "+385910000000"),
        ("p_city", "Split"),
        ("p_orders_count", "3"),
    ] {
        let version = app.version_of(&customer);
        let response = browser
            .post_raw(
                "/s/profile",
                &[
                    ("csrf_token", &token_field),
                    ("version", &version),
                    (field, value),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{field}");
    }
    assert_eq!(app.value_of(&customer, "city").as_deref(), Some("Zagreb"));
    assert_eq!(
        app.value_of(&customer, "phone").as_deref(),
        Some("+385912345678")
    );
    // A POST without the session's token is refused.
    let response = browser
        .post_raw(
            "/s/profile",
            &[("version", &app.version_of(&customer)), ("p_name", "X")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_link_works_once_and_unusable_links_all_look_the_same() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("phone", "+385912345678")]);
    let (_, link) = customer_session(&app, &token, "+385912345678").await;
    let again = app.browser().get(&link).await;
    assert_eq!(again.status(), StatusCode::GONE, "reuse after the exchange");
    let reused = again.text().await.unwrap();
    let unknown = app.browser().get(&format!("/s/{}", "ab".repeat(32))).await;
    assert_eq!(unknown.status(), StatusCode::GONE);
    assert_eq!(
        unknown.text().await.unwrap(),
        reused,
        "no hint whether a customer exists"
    );
    assert!(reused.contains("send the message <strong>profile</strong>"));

    // Expired.
    app.forget_limits();
    let answer = text_profile(&app, &token, "+385912345678", None).await;
    let expired = link_path(answer["replies"][0]["text"].as_str().unwrap());
    app.with_db(|conn| {
        use clientele::db::schema::self_service_links::dsl::*;
        use diesel::prelude::*;
        diesel::update(self_service_links.filter(opened_at.is_null()))
            .set(expires_at.eq(clientele::db::now() - chrono::TimeDelta::hours(1)))
            .execute(conn)
            .unwrap();
    });
    assert_eq!(app.browser().get(&expired).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn staff_revoke_links_and_open_sessions_end() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let (browser, _) = customer_session(&app, &token, "+385912345678").await;
    app.forget_limits();
    let unused = link_path(
        text_profile(&app, &token, "+385912345678", None).await["replies"][0]["text"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(browser.get("/s/profile").await.status(), StatusCode::OK);
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(&format!("/customers/{customer}/links/revoke"), &[])
        .await;
    assert_eq!(
        browser.get("/s/profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.browser().get(&unused).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_customer_session_opens_no_staff_page_and_a_staff_session_opens_no_customer_page() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("phone", "+385912345678")]);
    let (customer, _) = customer_session(&app, &token, "+385912345678").await;
    for path in ["/", "/customers", "/settings/users"] {
        let response = customer.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&response).starts_with("/login"));
    }
    let supervisor = app.supervisor().await;
    assert_eq!(
        supervisor.get("/s/profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn staff_send_the_link_from_the_card_and_the_profile() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let agent = app.agent().await;
    let response = agent
        .post_form(&format!("/conversations/{conversation}/send-link"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        agent
            .page(&format!("/conversations/{conversation}"))
            .await
            .contains("Here is your personal link")
    );
    let supervisor = app.supervisor().await;
    let identity = app.with_db(|conn| {
        clientele::db::identities::list_customer_identities(conn, app.customer(&customer).id)
            .unwrap()[0]
            .id
    });
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/send-link"),
            &[("identity_id", &identity.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let links: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::self_service_links::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(links, 2);
}

#[tokio::test]
async fn requests_per_address_are_rate_limited() {
    let app = spawn_app().await;
    let browser = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..clientele::services::selfservice::PER_MINUTE + 1 {
        statuses.push(
            browser
                .get(&format!("/s/{}", "cd".repeat(32)))
                .await
                .status(),
        );
    }
    assert!(statuses[..30].iter().all(|s| *s == StatusCode::GONE));
    assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_forged_customer_cookie_opens_nothing() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    // A real session exists (link id 1), but an unsigned cookie naming it is refused.
    let (_real, _) = customer_session(&app, &token, "+385912345678").await;
    let response = reqwest::Client::new()
        .get(format!("{}/s/profile", app.address))
        .header("Cookie", "clientele_customer=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(!response.text().await.unwrap().contains("Ada"));
}

#[tokio::test]
async fn a_link_preview_uses_nothing_and_staff_never_see_the_link() {
    let app = spawn_app().await;
    let receiver = crate::receiver::start_receiver(0).await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let answer = text_profile(&app, &token, "+385912345678", None).await;
    let link = link_path(answer["replies"][0]["text"].as_str().expect("a reply"));
    let secret = &link[3..];

    // A messaging app's preview, then a mail scanner: each gets the page, nothing is used.
    for _ in 0..2 {
        let preview = app.browser().get(&link).await;
        assert_eq!(preview.status(), StatusCode::OK);
        assert_eq!(
            preview.headers()["cache-control"],
            "no-store",
            "no cache keeps the page"
        );
        assert!(preview.text().await.unwrap().contains("Open my profile"));
    }
    // A form on another site cannot press the button for the customer.
    let forged = reqwest::Client::new()
        .post(format!("{}{link}", app.address))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Nothing shaped like a token: the same page as any link that does not work.
    assert_eq!(
        app.browser().post_raw("/s/not-a-token", &[]).await.status(),
        StatusCode::GONE
    );
    let customer_browser = app.browser();
    let opened = customer_browser.open_link(&link).await;
    assert_eq!(
        opened.status(),
        StatusCode::SEE_OTHER,
        "the customer's click works"
    );
    assert_eq!(location(&opened), "/s/profile");
    assert_eq!(
        customer_browser.post_raw(&link, &[]).await.status(),
        StatusCode::GONE,
        "and only once"
    );

    // Staff see that a link was sent, never the link: the thread, the tab, the JSON.
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    for page in [
        format!("/customers/{customer}/messages"),
        format!("/conversations/{conversation}"),
        format!("/conversations/{conversation}/messages.json"),
    ] {
        let shown = supervisor.page(&page).await;
        assert!(
            shown.contains(clientele::services::selfservice::LINK_LEFT_OUT),
            "{page}: {shown}"
        );
        assert!(!shown.contains(secret), "{page} shows the link");
    }
    // The customer's channel gets the link, once; then no copy stays in the database.
    crate::receiver::wait_until(|| receiver.seen.lock().unwrap().len() == 1).await;
    let (_, body) = receiver.seen.lock().unwrap()[0].clone();
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert!(payload["text"].as_str().unwrap().contains(&link));
    crate::receiver::wait_until(|| {
        app.with_db(|conn| {
            use clientele::db::schema::outbox::dsl::*;
            use diesel::prelude::*;
            outbox
                .filter(text.is_not_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap()
                == 0
        })
    })
    .await;
    let bodies: Vec<String> = app.with_db(|conn| {
        use clientele::db::schema::messages::dsl::*;
        use diesel::prelude::*;
        messages.select(body).load(conn).unwrap()
    });
    assert!(bodies.iter().all(|b| !b.contains(secret)), "{bodies:?}");
}

#[tokio::test]
async fn customers_are_asked_for_an_address_only_see_filled_details_and_a_summary_of_errors() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_property("home", "location", &[], "edit");
    app.create_property("member_since", "date", &[], "edit");
    app.with_db(|conn| {
        use clientele::db::schema::properties::dsl::*;
        use diesel::prelude::*;
        diesel::update(properties.filter(key.eq_any(["home", "member_since"])))
            .set(customer_access.eq("view"))
            .execute(conn)
            .unwrap();
        diesel::update(properties.filter(key.eq("home")))
            .set(customer_access.eq("edit"))
            .execute(conn)
            .unwrap();
    });
    let customer = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    let saved = supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[
                ("version", &app.version_of(&customer)),
                ("p_home", "Ilica 1, Zagreb"),
                ("p_home__lat", "45.8131"),
                ("p_home__lng", "15.9772"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (browser, _) = customer_session(&app, &token, "+385912345678").await;
    let page = browser.page("/s/profile").await;
    assert!(page.contains("name=\"p_home\"") && page.contains("Ilica 1, Zagreb"));
    assert!(
        !page.contains("Latitude") && page.contains("type=\"hidden\" name=\"p_home__lat\""),
        "an address, no coordinates to type"
    );
    assert!(
        !page.contains("member_since label"),
        "an empty view-only detail is left out"
    );
    assert!(page.contains("uses these details only to serve you"));

    // Two mistakes: summarised at the top, each linked to its field, typed text kept.
    let response = browser
        .post_raw(
            "/s/profile",
            &[
                ("csrf_token", &csrf(&page)),
                ("version", &app.version_of(&customer)),
                ("p_email", "not-an-address"),
                ("p_language", "klingon"),
                ("p_home", "Ilica 2, Zagreb"),
                ("p_home__lat", "45.8131"),
                ("p_home__lng", "15.9772"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let summary = html
        .split("id=\"error-summary\"")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .expect("an error summary");
    assert!(summary.contains("these 2 details"), "{summary}");
    assert!(summary.contains("href=\"#p_email\"") && summary.contains("href=\"#p_language\""));
    assert!(html.contains("value=\"not-an-address\"") && html.contains("Ilica 2, Zagreb"));

    // A new address keeps the coordinates staff set; nothing is lost.
    let page = browser.page("/s/profile").await;
    let response = browser
        .post_raw(
            "/s/profile",
            &[
                ("csrf_token", &csrf(&page)),
                ("version", &app.version_of(&customer)),
                ("p_home", "Ilica 2, Zagreb"),
                ("p_home__lat", "45.8131"),
                ("p_home__lng", "15.9772"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored: Vec<(Option<String>, Option<f64>)> = app.with_db(|conn| {
        use clientele::db::schema::customer_values::dsl::*;
        use diesel::prelude::*;
        customer_values
            .select((value_text, value_number))
            .load(conn)
            .unwrap()
    });
    assert!(
        stored.contains(&(Some("Ilica 2, Zagreb".to_owned()), Some(45.8131))),
        "{stored:?}"
    );
}
