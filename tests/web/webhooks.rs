//! The outbound webhook: callbacks delivered exactly once, messages waiting until a
//! webhook exists, its settings (the signing secret shown once), and deliveries that give
//! up after the horizon until retried.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Browser, TestApp, spawn_app, spawn_app_with};
use crate::receiver::{start_receiver, wait_until};

/// An app whose deliveries give up after a second of retrying.
async fn giving_up_soon() -> TestApp {
    spawn_app_with(|settings| {
        settings.delivery_horizon_secs = 1;
        settings.retry_base_ms = 200;
    })
    .await
}

/// Points the webhook at `url` and has `count` customers ask for their link, which queues
/// one delivery each.
async fn queue_links(app: &TestApp, supervisor: &Browser, url: &str, count: usize) {
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", url)])
        .await;
    let token = app.api_token("gw");
    for i in 0..count {
        let phone = format!("+38591234560{i}");
        app.create_customer(&[("name", &format!("Waiting {i}")), ("phone", &phone)]);
        app.inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": phone, "text": "profile"}),
        )
        .await;
    }
}

/// Points the webhook at a port nothing listens on (every attempt fails) and has a customer
/// ask for their link, which queues one delivery.
async fn queue_a_delivery_that_fails(app: &TestApp, supervisor: &Browser) {
    queue_links(app, supervisor, "http://127.0.0.1:9/hook", 1).await;
}

/// How many deliveries are failed for good.
fn failed(app: &TestApp) -> i64 {
    app.with_db(|conn| {
        clientele::db::outbox::count_by_status(conn, clientele::db::types::DeliveryStatus::Failed)
            .expect("count")
    })
}

#[tokio::test]
async fn the_signing_secret_is_shown_once_and_signs_every_delivery() {
    let app = spawn_app().await;
    let receiver = start_receiver(0).await;
    let supervisor = app.supervisor().await;
    let saved = supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;
    assert_eq!(
        saved.status(),
        StatusCode::OK,
        "the answer shows the secret"
    );
    let page = saved.text().await.unwrap();
    let shown = page
        .split("id=\"new-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new secret on the page")
        .to_owned();
    assert_eq!(shown.len(), 64);
    let again = supervisor.page("/settings/integrations").await;
    assert!(!again.contains(&shown), "shown once");
    // Saving the URL again keeps the secret, and says nothing of it.
    let kept = supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);

    // A receiver holding the shown secret verifies a delivery.
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let token = app.api_token("gw");
    app.inbound(
        &token,
        json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "profile"}),
    )
    .await;
    wait_until(|| receiver.seen.lock().unwrap().len() == 1).await;
    let (signature, body) = receiver.seen.lock().unwrap()[0].clone();
    // The receiver keeps the signature, not the timestamp header: any second of the last
    // two minutes.
    let timestamp = chrono::Utc::now().timestamp();
    assert!(
        (timestamp - 120..=timestamp + 5).any(|at| {
            clientele::services::delivery::sign(&shown, at, body.as_bytes()) == signature
        }),
        "the signature checks with the shown secret"
    );

    // Rotating shows the new one.
    let rotated = supervisor
        .post_form(
            "/settings/integrations/webhook",
            &[("url", &receiver.url), ("new_secret", "1")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(rotated.contains("id=\"new-secret\">") && !rotated.contains(&shown));
}

#[tokio::test]
async fn a_delivery_retried_past_the_horizon_is_failed_until_retried() {
    let app = giving_up_soon().await;
    let supervisor = app.supervisor().await;
    queue_a_delivery_that_fails(&app, &supervisor).await;
    wait_until(|| failed(&app) == 1).await;
    let page = supervisor.page("/settings/integrations").await;
    assert!(
        page.contains("0 waiting, 1 failed"),
        "given up, shown as failed"
    );
    assert!(page.contains("Retry failed deliveries"));
    // Retried: one more attempt, then failed again (the receiver is still down).
    supervisor
        .post_form("/settings/integrations/retry", &[])
        .await;
    let attempts = || {
        app.with_db(|conn| {
            use diesel::prelude::*;
            clientele::db::schema::outbox::table
                .select(clientele::db::schema::outbox::attempts)
                .first::<i32>(conn)
                .unwrap()
        })
    };
    let before = attempts();
    wait_until(|| attempts() > before && failed(&app) == 1).await;
}

#[tokio::test]
async fn a_test_event_is_signed_sent_now_and_its_outcome_said() {
    let app = spawn_app().await;
    let receiver = start_receiver(0).await;
    let supervisor = app.supervisor().await;
    // No webhook yet: a crafted post is told so.
    supervisor
        .post_form("/settings/integrations/test", &[])
        .await;
    let page = supervisor.page("/settings/integrations").await;
    assert!(
        page.contains("The test event failed: no webhook URL is set."),
        "{page}"
    );
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;
    let secret = app.with_db(|conn| {
        clientele::db::settings::find_setting(conn, clientele::db::types::Setting::WebhookSecret)
            .unwrap()
            .expect("a secret")
    });
    let page = supervisor.page("/settings/integrations").await;
    assert!(page.contains("Send a test event"));
    let sent = supervisor
        .post_form("/settings/integrations/test", &[])
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let page = supervisor.page("/settings/integrations").await;
    assert!(
        page.contains("The receiver took the test event in"),
        "{page}"
    );
    let (signature, body) = receiver.seen.lock().unwrap()[0].clone();
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "test");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - 60..=now).any(|at| {
            clientele::services::delivery::sign(&secret, at, body.as_bytes()) == signature
        }),
        "signed like every delivery"
    );
    // Nothing was queued for it.
    let queued = app.with_db(|conn| {
        clientele::db::outbox::count_by_status(conn, clientele::db::types::DeliveryStatus::Pending)
            .unwrap()
    });
    assert_eq!(queued, 0);

    // A receiver that is not there: said, with why.
    supervisor
        .post_form(
            "/settings/integrations/webhook",
            &[("url", "http://127.0.0.1:9/hook")],
        )
        .await;
    supervisor
        .post_form("/settings/integrations/test", &[])
        .await;
    let page = supervisor.page("/settings/integrations").await;
    assert!(
        page.contains("The test event failed: the receiver could not be reached"),
        "{page}"
    );
    // Agents cannot send one.
    let agent = app.agent().await;
    assert_eq!(
        agent
            .post_form("/settings/integrations/test", &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_delivery_log_lists_the_latest_deliveries_with_their_state_and_error() {
    let app = giving_up_soon().await;
    let supervisor = app.supervisor().await;
    let empty = supervisor.page("/settings/integrations").await;
    assert!(empty.contains("Nothing sent yet."));
    queue_a_delivery_that_fails(&app, &supervisor).await;
    wait_until(|| failed(&app) == 1).await;
    let page = supervisor.page("/settings/integrations").await;
    let log = page
        .split("id=\"deliveries\"")
        .nth(1)
        .expect("the delivery log");
    assert!(log.contains(">failed</span>"), "{log}");
    assert!(log.contains("the receiver could not be reached"), "{log}");
}

#[tokio::test]
async fn two_deliveries_at_most_are_in_flight_and_the_log_says_how_long_each_took() {
    use std::sync::atomic::Ordering;
    let app = spawn_app().await;
    let receiver =
        crate::receiver::start_slow_receiver(std::time::Duration::from_millis(300)).await;
    let supervisor = app.supervisor().await;
    queue_links(&app, &supervisor, &receiver.url, 6).await;
    wait_until(|| receiver.taken.load(Ordering::SeqCst) >= 6).await;
    assert_eq!(
        receiver.most_at_once.load(Ordering::SeqCst),
        2,
        "two at a time: not one after another, never more"
    );
    let page = supervisor.page("/settings/integrations").await;
    let log = &page[page.find("id=\"deliveries\"").expect("the log")..];
    assert!(log.contains(" ms</td>"), "{log}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_leaves_the_pages_their_connections() {
    // Each sender holds a database connection while the receiver keeps it waiting; with
    // as many senders as request connections, pages would wait for one and fail.
    let app = spawn_app_with(|settings| settings.pool_size = 2).await;
    let (_receiver, url) = crate::receiver::silent_receiver();
    let supervisor = app.supervisor().await;
    queue_links(&app, &supervisor, &url, 3).await;
    let in_flight = || {
        app.with_db(|conn| {
            use clientele::db::schema::outbox;
            use diesel::prelude::*;
            outbox::table
                .filter(outbox::sending_until.gt(clientele::db::now()))
                .count()
                .get_result::<i64>(conn)
                .expect("a count")
        })
    };
    wait_until(|| in_flight() == 2).await;
    for path in ["/customers", "/settings/integrations", "/insights"] {
        let response = supervisor.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(in_flight(), 2, "the senders still wait for the receiver");
}

#[tokio::test]
async fn a_receiver_in_a_private_network_is_refused_unless_the_operator_allows_it() {
    let app = spawn_app_with(|settings| settings.allow_private_webhooks = false).await;
    let supervisor = app.supervisor().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
    ] {
        let response = supervisor
            .post_form("/settings/integrations/webhook", &[("url", url)])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let page = response.text().await.expect("the page");
        assert!(page.contains("--allow-private-webhooks"), "{url}");
        assert!(
            page.contains(&format!("value=\"{url}\"")),
            "{url}: what was typed stays"
        );
    }
    let stored = app.with_db(|conn| {
        clientele::db::settings::find_setting(conn, clientele::db::types::Setting::WebhookUrl)
            .expect("a read")
    });
    assert!(stored.unwrap_or_default().is_empty(), "nothing was saved");
    // A URL saved while allowed is checked again at delivery time.
    app.with_db(|conn| {
        clientele::db::settings::upsert_setting(
            conn,
            clientele::db::types::Setting::WebhookUrl,
            "http://127.0.0.1:9/hook",
        )
        .expect("saved")
    });
    let response = supervisor
        .post_form("/settings/integrations/test", &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = supervisor.page("/settings/integrations").await;
    assert!(page.contains("--allow-private-webhooks"), "{page}");
}

#[tokio::test]
async fn a_callback_is_delivered_to_a_receiver_that_fails_twice_exactly_once() {
    let app = spawn_app().await;
    let receiver = start_receiver(2).await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let row = app.customer(&customer);
    app.add_identity(&customer, "whatsapp", "+385912345678");
    let identity = app.with_db(|conn| {
        clientele::db::identities::list_customer_identities(conn, row.id).unwrap()[0].id
    });
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/contact"),
            &[
                ("identity_id", &identity.to_string()),
                ("text", "Your order has shipped"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.customer(&customer).conversations_count, 1);

    wait_until(|| !receiver.seen.lock().unwrap().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "delivered once, nothing duplicated");
    let (signature, body) = &seen[0];
    assert!(signature.starts_with("sha256="));
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["text"], "Your order has shipped");
    assert_eq!(payload["external_id"], "+385912345678");
    let messages = supervisor
        .page(&format!("/customers/{customer}/messages"))
        .await;
    assert!(messages.contains("Delivered"));
    let deliveries = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::outbox::table
            .select(clientele::db::schema::outbox::attempts)
            .load::<i32>(conn)
            .unwrap()
    });
    assert_eq!(deliveries, vec![3]);
}

#[tokio::test]
async fn messages_wait_in_the_outbox_until_a_webhook_exists() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let row = app.customer(&customer);
    app.add_identity(&customer, "telegram", "42");
    let identity = app.with_db(|conn| {
        clientele::db::identities::list_customer_identities(conn, row.id).unwrap()[0].id
    });
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(
            &format!("/customers/{customer}/contact"),
            &[("identity_id", &identity.to_string()), ("text", "Hello")],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        supervisor
            .page(&format!("/customers/{customer}/messages"))
            .await
            .contains("Waiting for delivery")
    );
    let receiver = start_receiver(0).await;
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;
    wait_until(|| receiver.seen.lock().unwrap().len() == 1).await;
}
