//! "Text me my link": a customer types their phone number on `/s` and gets a link on it;
//! every number gets the same answer, one request per number a minute, limits kept in the
//! database, and the keyword limited per identity the same way.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Browser, TestApp, location, spawn_app};
use crate::receiver::silent_receiver;

/// Outbound messages carrying a link, as stored.
/// The messages that carried a link (each keeps a mark where the link was).
fn links_sent(app: &TestApp) -> Vec<String> {
    app.with_db(|conn| {
        use clientele::db::schema::messages::dsl::*;
        use diesel::prelude::*;
        let mark = clientele::services::selfservice::LINK_LEFT_OUT;
        messages
            .filter(direction.eq("outbound"))
            .filter(body.like(format!("%{mark}%")))
            .select(body)
            .load::<String>(conn)
            .expect("messages")
    })
}

fn set_webhook(app: &TestApp, url: &str) {
    app.with_db(|conn| {
        clientele::db::settings::upsert_setting(
            conn,
            clientele::db::types::Setting::WebhookUrl,
            url,
        )
    })
    .expect("webhook set");
}

/// Every limit event so far happened two minutes ago.
fn two_minutes_pass(app: &TestApp) {
    app.with_db(|conn| {
        use clientele::db::schema::limit_events::dsl::*;
        use diesel::prelude::*;
        diesel::update(limit_events)
            .set(at.eq(clientele::db::now() - chrono::TimeDelta::minutes(2)))
            .execute(conn)
    })
    .expect("time passes");
}

async fn ask(browser: &Browser, phone: &str) -> reqwest::Response {
    let form = browser.page("/s").await;
    let token = crate::helpers::extract_csrf(&form).expect("a csrf token");
    browser
        .post_raw("/s", &[("phone", phone), ("csrf_token", &token)])
        .await
}

#[tokio::test]
async fn known_and_unknown_numbers_get_the_same_answer_and_only_customers_get_a_link() {
    let app = spawn_app().await;
    // A receiver that refused at once would fail the delivery before the page is read,
    // and the page would say so: the answer is compared while delivery is under way.
    let (_receiver, url) = silent_receiver();
    set_webhook(&app, &url);
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let customer = app.browser();

    let page = customer.page("/s").await;
    assert!(page.contains("Your phone number") && page.contains("Text me my link"));
    let known = ask(&customer, "00385 91 234 5678").await;
    assert_eq!(known.status(), StatusCode::SEE_OTHER);
    let sent = customer.page(&location(&known)).await;
    let unknown = ask(&customer, "+385 98 765 4321").await;
    assert_eq!(unknown.status(), StatusCode::SEE_OTHER);
    let nothing = customer.page(&location(&unknown)).await;
    let notice = |html: &str| {
        html.split("id=\"request-notice\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(str::to_owned)
    };
    assert!(notice(&sent).is_some());
    assert_eq!(
        notice(&sent),
        notice(&nothing),
        "no hint whether a customer exists"
    );

    let sent_links = links_sent(&app);
    assert_eq!(sent_links.len(), 1, "only the customer got a link");
    // The link went to an SMS identity added for the customer's phone.
    let identities = app
        .supervisor()
        .await
        .page(&format!("/customers/{ada}/identities"))
        .await;
    assert!(identities.contains("+385912345678"));

    // The same number again within a minute: nothing sent.
    let again = ask(&customer, "+385912345678").await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = again.text().await.expect("page");
    assert!(html.contains("Please allow a full minute between phone number submissions."));
    assert!(
        html.contains("value=\"+385912345678\""),
        "what was typed stays"
    );
    assert_eq!(links_sent(&app).len(), 1);

    // Not a phone number: said at the field, typed text kept.
    let wrong = ask(&customer, "call me maybe").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = wrong.text().await.expect("page");
    assert!(html.contains("id=\"phone-error\"") && html.contains("value=\"call me maybe\""));

    // A forged form is refused.
    let response = customer
        .post_raw(
            "/s",
            &[("phone", "+385912345678"), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_failed_delivery_shows_on_reload_and_a_missing_webhook_shows_for_every_number() {
    let app = spawn_app().await;
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let customer = app.browser();
    // No webhook: nothing can be delivered, said for known and unknown numbers alike.
    for phone in ["+385912345678", "+385987654321"] {
        let response = ask(&customer, phone).await;
        let page = customer.page(&location(&response)).await;
        assert!(
            page.contains("There was an issue with SMS sending."),
            "{phone}"
        );
    }
    // A receiver that cannot be reached: the page says so once delivery was tried.
    set_webhook(&app, "http://127.0.0.1:9/unreachable");
    app.forget_limits();
    let response = ask(&customer, "+385912345678").await;
    let target = location(&response);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let page = customer.page(&target).await;
        if page.contains("There was an issue with SMS sending.") {
            break;
        }
        assert!(
            page.contains("We&#39;ve sent you a link") || page.contains("We've sent you a link")
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the failure never showed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_keyword_gets_one_link_a_minute_and_five_a_day_per_identity() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let text = || {
        app.inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "profile"}),
        )
    };
    assert_eq!(text().await["replies"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        text().await["replies"].as_array().map(Vec::len),
        Some(0),
        "a second one within a minute"
    );
    // Four more minutes pass: five links in a day, then none.
    for _ in 0..4 {
        two_minutes_pass(&app);
        assert_eq!(text().await["replies"].as_array().map(Vec::len), Some(1));
    }
    two_minutes_pass(&app);
    assert_eq!(
        text().await["replies"].as_array().map(Vec::len),
        Some(0),
        "five a day"
    );
    assert_eq!(links_sent(&app).len(), 5);
}

#[tokio::test]
async fn blacklisted_customers_and_a_disabled_self_service_get_no_link_and_the_same_answer() {
    let app = spawn_app().await;
    set_webhook(&app, "http://127.0.0.1:9/unreachable");
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(
            &format!("/customers/{ada}/blacklist"),
            &[("reason", "abuse")],
        )
        .await;
    let customer = app.browser();
    let response = ask(&customer, "+385912345678").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        customer
            .page(&location(&response))
            .await
            .contains("sent you a link")
    );
    assert!(links_sent(&app).is_empty());
}
