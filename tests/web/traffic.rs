//! Channel traffic: inbound messages, known and unknown senders, automatic links, the
//! blacklist, idempotent retries, link/unlink and ratings (callbacks: `webhooks.rs`).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{location, spawn_app};

#[tokio::test]
async fn an_unknown_sender_opens_a_conversation_that_belongs_to_the_identity() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let answer = app
        .inbound(&token, json!({"channel": "telegram", "external_id": "123456789", "display_name": "Ivo", "text": "Hello"}))
        .await;
    assert_eq!(answer["known"], false);
    assert_eq!(answer["blocked"], false);
    assert!(answer["customer_id"].is_null());
    let conversation = answer["conversation_id"].as_i64().unwrap();
    // The next message joins the same open conversation.
    let again = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "123456789", "text": "Anyone there?"}),
        )
        .await;
    assert_eq!(again["conversation_id"].as_i64(), Some(conversation));
}

#[tokio::test]
async fn a_known_sender_is_recognised_whatever_the_phone_formatting_and_counters_follow() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+1 555 123 4567")]);
    let answer = app
        .inbound(&token, json!({"channel": "whatsapp", "external_id": "+1 (555) 123-4567", "display_name": "Ada", "text": "Hi"}))
        .await;
    assert_eq!(answer["known"], true, "auto-linked by phone");
    assert_eq!(answer["customer_id"], customer.as_str());
    app.inbound(
        &token,
        json!({"channel": "whatsapp", "external_id": "+15551234567", "text": "Me again"}),
    )
    .await;
    let row = app.customer(&customer);
    assert_eq!(row.conversations_count, 1);
    assert_eq!(row.messages_count, 2);
    assert!(row.last_contact_at.is_some());
    assert_eq!(
        row.name.as_deref(),
        Some("Ada"),
        "the channel's name fills an empty name"
    );
}

#[tokio::test]
async fn two_customers_with_the_same_phone_leave_the_sender_unknown() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    app.create_customer(&[("phone", "+1 555 123 4567")]);
    app.create_customer(&[("phone", "+1 555 123 4567")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "sms", "external_id": "+15551234567", "text": "Hi"}),
        )
        .await;
    assert_eq!(answer["known"], false);
}

#[tokio::test]
async fn an_email_sender_is_linked_by_address_case_insensitively() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("email", "Ada@Example.com")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "email", "external_id": "ADA@example.com", "text": "Invoice?"}),
        )
        .await;
    assert_eq!(answer["customer_id"], customer.as_str());
}

#[tokio::test]
async fn a_channel_name_never_overwrites_an_existing_name() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Ada Lovelace"), ("phone", "+385912345678")]);
    app.inbound(&token, json!({"channel": "whatsapp", "external_id": "+385912345678", "display_name": "ada_l", "text": "Hi"}))
        .await;
    assert_eq!(
        app.customer(&customer).name.as_deref(),
        Some("Ada Lovelace")
    );
}

#[tokio::test]
async fn a_retry_with_the_same_message_id_is_stored_once() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let body = json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi", "message_id": "wamid.1", "sent_at": "2026-11-20T10:00:00Z"});
    let first = app.inbound(&token, body.clone()).await;
    let second = app.inbound(&token, body).await;
    assert_eq!(first, second);
    assert_eq!(app.customer(&customer).messages_count, 1);
}

#[tokio::test]
async fn a_blacklisted_customer_is_stored_but_opens_no_conversation() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Spammer"), ("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/blacklist"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.customer(&customer).blacklisted, "a reason is required");
    supervisor
        .post_form(
            &format!("/customers/{customer}/blacklist"),
            &[("reason", "Abusive messages")],
        )
        .await;
    assert!(
        supervisor
            .page(&format!("/customers/{customer}/profile"))
            .await
            .contains("On the blacklist: Abusive messages")
    );

    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Buy now"}),
        )
        .await;
    assert_eq!(answer["blocked"], true);
    assert!(answer["conversation_id"].is_null());
    let row = app.customer(&customer);
    assert_eq!((row.conversations_count, row.messages_count), (0, 0));
    let suppressed =
        app.with_db(|conn| clientele::db::conversations::count_suppressed(conn, row.id).unwrap());
    assert_eq!(suppressed, 1, "the message itself is kept");

    supervisor
        .post_form(&format!("/customers/{customer}/blacklist/remove"), &[])
        .await;
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Sorry"}),
        )
        .await;
    assert_eq!(answer["blocked"], false);
    assert!(answer["conversation_id"].is_i64());
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(
        history.contains("Added to the blacklist")
            && history.contains("Removed from the blacklist")
    );
}

#[tokio::test]
async fn bad_inbound_messages_get_json_errors_naming_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let cases = [
        (
            json!({"channel": "fax", "external_id": "1", "text": "x"}),
            "channel",
        ),
        (
            json!({"channel": "whatsapp", "external_id": "not a phone", "text": "x"}),
            "external_id",
        ),
        (
            json!({"channel": "telegram", "external_id": "42", "text": "   "}),
            "text",
        ),
        (
            json!({"channel": "telegram", "external_id": "42", "text": "x", "sent_at": "yesterday"}),
            "sent_at",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .api(Method::POST, "/api/v1/messages", &token, Some(body))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid");
        assert_eq!(error["fields"][0]["field"], field);
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/messages", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid"
    );
    let huge = "x".repeat(300 * 1024);
    let response = app
        .api(
            Method::POST,
            "/api/v1/messages",
            &token,
            Some(json!({"channel": "web", "external_id": "v1", "text": huge})),
        )
        .await;
    assert!(response.status().is_client_error());
    let stored: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::messages::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_missing_or_revoked_token_gets_401() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let body = json!({"channel": "web", "external_id": "visitor-1", "text": "Hi"});
    let response = app
        .api(
            Method::POST,
            "/api/v1/messages",
            "clt_wrong",
            Some(body.clone()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "unauthorized"
    );
    assert_eq!(
        app.api(Method::POST, "/api/v1/messages", &token, Some(body.clone()))
            .await
            .status(),
        StatusCode::OK
    );

    let supervisor = app.supervisor().await;
    let id = app.with_db(|conn| clientele::db::tokens::list_tokens(conn).unwrap()[0].id);
    supervisor
        .post_form(&format!("/settings/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(
        app.api(Method::POST, "/api/v1/messages", &token, Some(body))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_supervisor_creates_a_token_that_is_shown_once_and_stored_hashed() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form("/settings/tokens", &[("name", "whatsapp-gateway")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let start = html.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let secret = &html[start..start + 68];
    assert!(secret.starts_with("clt_"));
    let stored = app.with_db(|conn| clientele::db::tokens::list_tokens(conn).unwrap());
    assert_ne!(stored[0].token_hash, secret);
    assert!(
        !supervisor
            .page("/settings/integrations")
            .await
            .contains(secret),
        "never shown again"
    );
    let answer = app
        .inbound(
            secret,
            json!({"channel": "web", "external_id": "v-1", "text": "Hi"}),
        )
        .await;
    assert_eq!(answer["known"], false);
}

#[tokio::test]
async fn linking_and_unlinking_a_conversation_moves_it_and_its_counters() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Ada")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "instagram", "external_id": "@ada", "text": "Hi"}),
        )
        .await;
    app.inbound(
        &token,
        json!({"channel": "instagram", "external_id": "@ada", "text": "It's Ada"}),
    )
    .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let agent = app.agent().await;
    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/link"),
            &[("customer_id", &customer), ("back", "/")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let row = app.customer(&customer);
    assert_eq!((row.conversations_count, row.messages_count), (1, 2));
    let next = app
        .inbound(
            &token,
            json!({"channel": "instagram", "external_id": "ada", "text": "Thanks"}),
        )
        .await;
    assert_eq!(
        next["customer_id"],
        customer.as_str(),
        "the identity is now the customer's"
    );

    agent
        .post_form(
            &format!("/conversations/{conversation}/unlink"),
            &[("back", "/")],
        )
        .await;
    let row = app.customer(&customer);
    assert_eq!((row.conversations_count, row.messages_count), (0, 0));
    let later = app
        .inbound(
            &token,
            json!({"channel": "instagram", "external_id": "ada", "text": "?"}),
        )
        .await;
    assert_eq!(later["known"], false);
    let supervisor = app.supervisor().await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(
        history.contains("Linked the identity Instagram ada")
            && history.contains("Unlinked the identity Instagram ada")
    );
}

#[tokio::test]
async fn create_customer_from_contact_copies_name_and_phone() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let answer = app
        .inbound(&token, json!({"channel": "whatsapp", "external_id": "+385 91 234 5678", "display_name": "Marko", "text": "Hi"}))
        .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let agent = app.agent().await;
    let response = agent
        .post_form(&format!("/conversations/{conversation}/link-new"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let public_id = location(&response)
        .trim_start_matches("/customers/")
        .trim_end_matches("/profile")
        .to_owned();
    let row = app.customer(&public_id);
    assert_eq!(row.name.as_deref(), Some("Marko"));
    assert_eq!(row.phone.as_deref(), Some("+385912345678"));
    assert_eq!(row.conversations_count, 1);
}

#[tokio::test]
async fn ratings_are_recorded_and_averaged() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "sms", "external_id": "+385912345678", "text": "Hi"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{conversation}/rating");
    assert_eq!(
        app.api(Method::POST, &path, &token, Some(json!({"rating": 6})))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.api(Method::POST, &path, &token, Some(json!({"rating": 4})))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.customer(&customer).csat_average, Some(4.0));
    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/conversations/999999/rating",
            &token,
            Some(json!({"rating": 4}))
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let supervisor = app.supervisor().await;
    let interactions = supervisor
        .page(&format!("/customers/{customer}/interactions"))
        .await;
    assert!(interactions.contains("4/5"));
}

#[tokio::test]
async fn web_visitor_metadata_shows_on_interactions() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let answer = app
        .inbound(&token, json!({"channel": "web", "external_id": "visitor-7", "text": "Hi",
            "web": {"ip": "203.0.113.9", "region": "Zagreb, HR", "user_agent": "Firefox/130", "source": "https://shop.example/cart"}}))
        .await;
    let customer = app.create_customer(&[("name", "Visitor")]);
    let agent = app.agent().await;
    agent
        .post_form(
            &format!("/conversations/{}/link", answer["conversation_id"]),
            &[("customer_id", &customer)],
        )
        .await;
    let supervisor = app.supervisor().await;
    let page = supervisor
        .page(&format!("/customers/{customer}/interactions"))
        .await;
    for text in [
        "203.0.113.9",
        "Zagreb, HR",
        "Firefox/130",
        "https://shop.example/cart",
    ] {
        assert!(page.contains(text), "{text}");
    }
}

#[tokio::test]
async fn an_identity_linked_elsewhere_is_refused_with_a_link_to_its_customer() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let ada = app.create_customer(&[("name", "Ada")]);
    let bob = app.create_customer(&[("name", "Bob")]);
    let response = supervisor
        .post_form(
            &format!("/customers/{ada}/identities"),
            &[
                ("channel", "whatsapp"),
                ("external_id", "+1 (555) 123-4567"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = supervisor
        .post_form(
            &format!("/customers/{bob}/identities"),
            &[("channel", "sms"), ("external_id", "not a number")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("international form")
    );
    let response = supervisor
        .post_form(
            &format!("/customers/{bob}/identities"),
            &[("channel", "whatsapp"), ("external_id", "+15551234567")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!(
        "href=\"/customers/{ada}/identities\" id=\"owner-link\""
    )));
    let page = supervisor
        .page(&format!("/customers/{ada}/identities"))
        .await;
    assert!(page.contains("+15551234567"));
}

#[tokio::test]
async fn concurrent_inbound_messages_all_succeed() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let client = reqwest::Client::new();
    let requests = (0..40).map(|i| {
        let body = if i % 2 == 0 {
            json!({"channel": "web", "external_id": format!("visitor-{i}"), "text": "Hi"})
        } else {
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": format!("Message {i}")})
        };
        client
            .post(format!("{}/api/v1/messages", app.address))
            .bearer_auth(&token)
            .json(&body)
            .send()
    });
    let responses = futures_join_all(requests).await;
    for response in responses {
        assert_eq!(response.expect("request").status(), StatusCode::OK);
    }
    assert_eq!(app.customer(&customer).messages_count, 20);
}

/// Awaits every future, concurrently.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}
