//! One customer's data as JSON, for access and portability requests: complete, streamed,
//! recorded, for supervisors and integrations only.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A customer with a bit of everything: properties, a tag, a note, a conversation with
/// messages, an order.
async fn busy_customer(app: &TestApp, token: &str) -> String {
    let customer = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("phone", "+385912345678"),
    ]);
    for text in ["Hello", "Where is my order?"] {
        app.inbound(
            token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": text, "web": {"ip": "203.0.113.9"}}),
        )
        .await;
    }
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/customers/{customer}/orders/A-1"),
            token,
            Some(json!({"placed_at": "2026-11-20T10:00:00Z", "status": "paid", "total": "59.90", "currency": "EUR", "items_summary": "Book"})),
        )
        .await;
    assert!(response.status().is_success());
    app.with_db(|conn| {
        let (color, _) = clientele::domain::customer::TAG_COLORS[0];
        let actor = clientele::domain::customer::Actor::System;
        clientele::services::tags::save_tag(conn, &actor, None, "VIP", color).expect("a tag")
    });
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/customers/{customer}/tags"),
            token,
            Some(json!({"tag": "VIP"})),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    customer
}

#[tokio::test]
async fn a_supervisor_downloads_everything_about_one_customer_and_the_export_is_recorded() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = busy_customer(&app, &token).await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(
            &format!("/customers/{customer}/notes"),
            &[("body", "Prefers e-mail")],
        )
        .await;
    assert!(
        supervisor
            .page(&format!("/customers/{customer}/profile"))
            .await
            .contains(&format!("/customers/{customer}/export.json"))
    );
    let conversation_id = app.with_db(|conn| {
        clientele::db::conversations::list_customer_conversations_before(
            conn,
            app.customer(&customer).id,
            &[],
            None,
            1,
        )
        .expect("conversations")[0]
            .id
            .0
    });
    supervisor
        .post_form(
            &format!("/conversations/{conversation_id}/comments"),
            &[
                ("comment", "Called back about the order"),
                ("from", &conversation_id.to_string()),
            ],
        )
        .await;

    let response = supervisor
        .get(&format!("/customers/{customer}/export.json"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains(&format!("{customer}.json")))
    );
    let export: Value = response.json().await.expect("valid JSON");
    assert_eq!(export["customer_id"], customer.as_str());
    assert_eq!(export["profile"]["name"]["value"], "Ada Lovelace");
    assert_eq!(export["profile"]["email"]["type"], "email");
    assert!(export["profile"]["conversations_count"].is_object());
    assert_eq!(export["tags"], json!(["VIP"]));
    assert_eq!(export["identities"][0]["external_id"], "+385912345678");
    assert_eq!(export["notes"][0]["text"], "Prefers e-mail");
    assert_eq!(export["orders"][0]["order_ref"], "A-1");
    let conversation = &export["conversations"][0];
    assert_eq!(conversation["web"]["ip"], "203.0.113.9");
    let texts: Vec<&str> = conversation["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts, ["Hello", "Where is my order?"]);
    assert_eq!(
        conversation["comments"][0]["text"],
        "Called back about the order"
    );
    assert!(
        export["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|e| e["action"] == "created"))
    );

    let recorded = app.with_db(|conn| {
        clientele::db::audit::list_audit(conn, &Default::default(), 10)
            .expect("the audit log")
            .into_iter()
            .any(|entry| entry.action == "customer.exported" && entry.subject == customer)
    });
    assert!(recorded, "the export is in the audit log");
}

#[tokio::test]
async fn an_agent_cannot_export_a_customer() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    let customer = app.create_customer(&[("name", "Ada")]);
    let agent = app.agent().await;
    let response = agent
        .get(&format!("/customers/{customer}/export.json"))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_integration_exports_over_the_api_and_an_unknown_id_is_404() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = busy_customer(&app, &token).await;
    let response = app
        .api(
            Method::GET,
            &format!("/api/v1/customers/{customer}/export"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let export: Value = response.json().await.expect("valid JSON");
    assert_eq!(export["customer_id"], customer.as_str());
    let response = app
        .api(
            Method::GET,
            "/api/v1/customers/C9999999/export",
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .api(
            Method::GET,
            &format!("/api/v1/customers/{customer}/export"),
            "wrong",
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_long_history_is_exported_whole_across_pages_and_chunks() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let first = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "message 0"}),
        )
        .await;
    let conversation = clientele::db::types::ConversationId(
        first["conversation_id"].as_i64().expect("a conversation"),
    );
    // Enough messages to span several pages of 500 and chunks of 64 KiB.
    app.with_db(|conn| {
        let found = clientele::db::conversations::get_conversation(conn, conversation)
            .expect("the conversation");
        let text = "x".repeat(100);
        for n in 1..1_200 {
            let body = format!("message {n} {text}");
            clientele::db::conversations::insert_message(
                conn,
                &clientele::db::conversations::NewMessage {
                    conversation: Some(found.id),
                    identity: found.identity_id,
                    customer: found.customer_id,
                    direction: clientele::db::types::Direction::Inbound,
                    author_kind: clientele::db::types::AuthorKind::Customer,
                    author_user_id: None,
                    author_name: None,
                    body: &body,
                    client_message_id: None,
                    suppressed: false,
                    sent_at: clientele::db::now(),
                },
            )
            .expect("a message");
        }
    });
    let response = app
        .api(
            Method::GET,
            &format!("/api/v1/customers/{customer}/export"),
            &token,
            None,
        )
        .await;
    let export: Value = response.json().await.expect("valid JSON");
    let messages = export["conversations"][0]["messages"]
        .as_array()
        .expect("messages");
    assert_eq!(messages.len(), 1_200);
    assert_eq!(messages[0]["text"], "message 0");
    assert!(
        messages[1_199]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("message 1199 "))
    );
}

/// Connections of the server's pool checked out now.
fn in_use(app: &TestApp) -> u32 {
    let state = app.pool.state();
    state.connections - state.idle_connections
}

#[tokio::test]
async fn a_download_read_slowly_holds_no_connection_while_the_reader_takes_its_time() {
    // Each chunk waits for the reader in `send`: a connection held across it would stay
    // out of the pool for as long as a slow client takes.
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = busy_customer(&app, &token).await;
    let id = app.customer(&customer).id;
    let actor = clientele::domain::customer::Actor::System;
    let mut document = Vec::new();
    clientele::services::customer_export::write_customer(&app.pool, id, &actor, &mut |chunk| {
        assert_eq!(
            in_use(&app),
            0,
            "a connection held while a chunk is handed on"
        );
        document.extend(chunk);
        true
    })
    .expect("the export is written");
    let parsed: Value = serde_json::from_slice(&document).expect("JSON");
    assert_eq!(
        parsed["conversations"][0]["messages"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let registry =
        app.with_db(|conn| clientele::db::properties::list_properties(conn).expect("the registry"));
    let plan = clientele::services::export::ExportPlan::new(
        &registry,
        clientele::domain::Role::Supervisor,
        clientele::db::listing::CustomerFilter::default(),
    );
    let mut csv = Vec::new();
    clientele::services::export::write_all(&app.pool, &plan, &actor, "all", &mut |chunk| {
        assert_eq!(
            in_use(&app),
            0,
            "a connection held while a chunk is handed on"
        );
        csv.extend(chunk);
        true
    })
    .expect("the export is written");
    assert!(String::from_utf8_lossy(&csv).contains("Ada Lovelace"));
}
