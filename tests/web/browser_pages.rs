//! Every page as people meet it in Chromium: axe-core finds no accessibility problem on
//! any of them (staff at 1366×900, customers on a 360-px phone), the README's screenshots
//! are taken from them, the queue keeps the focus while it refreshes, and the one search
//! box finds an older customer.

use std::time::{Duration, Instant};

use clientele::domain::Role;
use diesel::prelude::*;

use crate::browser_self::link_of;
use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// Opens `path` and waits until the page and its script have loaded.
async fn open(chrome: &Chrome, app: &TestApp, path: &str) {
    chrome
        .driver
        .goto(format!("{}{path}", app.address))
        .await
        .expect(path);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = chrome
            .driver
            .execute("return document.readyState;", Vec::new())
            .await
            .expect("ready state");
        if ready.json().as_str() == Some("complete") {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never finished loading");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An installation with something on every page: a customer with a conversation, tags,
/// an order, a possible duplicate and a finished import.
async fn furnished() -> (TestApp, String, i64, String) {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    app.create_user("ana.agent", Role::Agent);
    app.create_property("loyalty_tier", "single_choice", &["Bronze", "Gold"], "edit");
    app.with_db(|conn| {
        clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").expect("tag");
    });
    let ada = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("phone", "+385912345678"),
        ("loyalty_tier", "Gold"),
    ]);
    app.create_customer(&[("name", "Ada Lovelace"), ("email", "ada.l@example.org")]);
    app.work_out_duplicates();
    let token = app.api_token("gateway");
    let first = app
        .inbound(
            &token,
            serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello, where is my order?"}),
        )
        .await;
    let conversation = first["conversation_id"].as_i64().expect("a conversation");
    // A web chat with a long visitor string, for the Interactions tab.
    app.add_identity(&ada, "web", "visitor-ada");
    app.inbound(
        &token,
        serde_json::json!({"channel": "web", "external_id": "visitor-ada", "text": "Hi from the site",
            "web": {"ip": "203.0.113.7", "region": "Zagreb, HR", "source": "https://shop.example.com/checkout?step=payment&campaign=autumn-sale-2026",
                    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"}}),
    )
    .await;
    (app, ada, conversation, token)
}

#[tokio::test]
async fn every_page_passes_the_accessibility_check_and_the_readme_screenshots_are_taken() {
    let (app, ada, conversation, token) = furnished().await;
    let link = link_of(&app, &token, "+385912345678").await;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .driver
        .set_window_rect(0, 0, 1366, 900)
        .await
        .expect("a laptop screen");
    let mut problems: Vec<String> = Vec::new();
    open(&chrome, &app, "/login").await;
    problems.extend(chrome.accessibility_problems().await);
    if std::env::var_os("AXE_JS").is_some() {
        // The check itself works: an image without a text alternative is caught.
        chrome
            .driver
            .execute(
                "document.body.append(Object.assign(document.createElement('img'), {src: '/static/img/logo.svg'}));",
                Vec::new(),
            )
            .await
            .expect("an image without alt");
        let caught = chrome.accessibility_problems().await;
        assert!(
            caught.iter().any(|p| p.starts_with("image-alt")),
            "{caught:?}"
        );
    }
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    let pages = [
        "/".to_owned(),
        format!("/conversations/{conversation}"),
        "/customers".to_owned(),
        "/customers?q=ada%40example".to_owned(),
        "/customers?period=all&lifecycle=vip&f=orders_count:at_least:1".to_owned(),
        "/customers/new".to_owned(),
        "/customers/duplicates".to_owned(),
        "/customers/import".to_owned(),
        format!("/customers/{ada}"),
        format!("/customers/{ada}/profile"),
        format!("/customers/{ada}/conversations"),
        format!("/customers/{ada}/messages"),
        format!("/customers/{ada}/interactions"),
        format!("/customers/{ada}/identities"),
        format!("/customers/{ada}/orders"),
        format!("/customers/{ada}/tags"),
        format!("/customers/{ada}/history"),
        format!("/customers/{ada}/anonymize"),
        "/settings/properties".to_owned(),
        "/settings/properties/new".to_owned(),
        "/settings/tags".to_owned(),
        "/settings/card".to_owned(),
        "/settings/features".to_owned(),
        "/settings/lifecycle".to_owned(),
        "/settings/audit".to_owned(),
        "/settings/integrations".to_owned(),
        "/settings/self-service".to_owned(),
        "/settings/teams".to_owned(),
        "/settings/teams/new".to_owned(),
        "/settings/users".to_owned(),
        "/settings/users/new".to_owned(),
        "/account/password".to_owned(),
    ];
    for path in &pages {
        open(&chrome, &app, path).await;
        problems.extend(
            chrome
                .accessibility_problems()
                .await
                .into_iter()
                .map(|p| format!("{path}: {p}")),
        );
        match path.as_str() {
            "/customers" => chrome.screenshot("customers").await,
            p if p.starts_with("/conversations/") => chrome.screenshot("workspace").await,
            _ => {}
        }
    }
    chrome.quit().await;

    // The customer's pages, on a phone.
    let Some(phone) = Chrome::start().await else {
        return;
    };
    phone
        .driver
        .set_window_rect(0, 0, 360, 740)
        .await
        .expect("a phone screen");
    open(&phone, &app, "/s").await;
    problems.extend(phone.accessibility_problems().await);
    phone.driver.goto(link.clone()).await.expect("the link");
    phone.wait_for_text("Open my profile").await;
    problems.extend(phone.accessibility_problems().await);
    phone.click("#open-profile").await;
    phone.wait_for_text("Your details").await;
    problems.extend(phone.accessibility_problems().await);
    phone.screenshot("self-service-phone").await;
    phone.quit().await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn the_queue_keeps_the_focus_while_it_refreshes_with_a_new_conversation() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let token = app.api_token("gateway");
    let first = app
        .inbound(
            &token,
            serde_json::json!({"channel": "web", "external_id": "visitor-1", "display_name": "Guest", "text": "Hello"}),
        )
        .await;
    let conversation = first["conversation_id"].as_i64().expect("a conversation");
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Guest").await;
    // Found and focused in one step in the page: the queue refreshes itself on a timer,
    // and a refresh between finding the link and focusing it would replace the element.
    let link = format!("#queue a[href='/conversations/{conversation}']");
    let focused: bool = agent
        .driver
        .execute(
            "const link = document.querySelector(arguments[0]); if (!link) return false; link.focus(); return true;",
            vec![serde_json::json!(link)],
        )
        .await
        .expect("focus")
        .convert()
        .expect("a boolean");
    assert!(focused, "the conversation's link");
    app.inbound(
        &token,
        serde_json::json!({"channel": "telegram", "external_id": "42", "display_name": "Newcomer", "text": "Are you open today?"}),
    )
    .await;
    agent.wait_for_text("Are you open today?").await;
    let focused: String = agent
        .driver
        .execute(
            "return document.activeElement.getAttribute('href') || '';",
            Vec::new(),
        )
        .await
        .expect("the focus")
        .convert()
        .expect("text");
    assert_eq!(focused, format!("/conversations/{conversation}"));
    agent.quit().await;
}

#[tokio::test]
async fn a_supervisor_finds_a_three_week_old_customer_by_part_of_their_email() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    let maria = app.create_customer(&[("name", "Maria Garcia"), ("email", "m.garcia@example.net")]);
    app.create_customer(&[("name", "Ivan Horvat"), ("email", "ivan@example.org")]);
    let at = chrono::Utc::now().naive_utc() - chrono::Duration::weeks(3);
    app.with_db(|conn| {
        use clientele::db::schema::customers::dsl as c;
        diesel::update(c::customers.filter(c::public_id.eq(&maria)))
            .set(c::created_at.eq(at))
            .execute(conn)
            .expect("three weeks old");
    });
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    chrome.click("nav.mainnav a[href='/customers']").await;
    chrome.wait_for_text("Find customers").await;
    chrome.fill("q", "garcia@exa\u{e007}").await;
    let page = chrome.wait_for_text("Found by e-mail").await;
    assert!(page.contains(&maria), "the older customer is found");
    assert!(!page.contains("Ivan Horvat"));
    chrome.quit().await;
}
