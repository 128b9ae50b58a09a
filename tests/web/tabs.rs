//! The profile's conversation tabs page through every conversation (no cap), and an
//! Interactions row opens the conversation's details.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_conversation_tabs_page_through_every_conversation() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let mut ids = Vec::new();
    for n in 0..30 {
        let id = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385912345678", "text": format!("question {n}")}),
            )
            .await["conversation_id"]
            .as_i64()
            .expect("a conversation");
        app.with_db(|conn| {
            clientele::services::conversations::workspace::close(
                conn,
                clientele::db::types::ConversationId(id),
            )
        })
        .expect("closed");
        ids.push(id);
    }
    let supervisor = app.supervisor().await;
    let first = supervisor.page(&format!("/customers/{ada}/messages")).await;
    assert_eq!(first.matches("class=\"card conversation\"").count(), 25);
    let older = first
        .split("id=\"older-conversations\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("older conversations");
    let second = supervisor.page(older).await;
    assert_eq!(second.matches("class=\"card conversation\"").count(), 5);
    assert!(second.contains("question 0<") && !second.contains("question 29<"));
    assert!(!second.contains("id=\"older-conversations\""));

    let interactions = supervisor
        .page(&format!("/customers/{ada}/interactions"))
        .await;
    let newest = ids.last().expect("ids");
    assert!(interactions.contains(&format!("href=\"/conversations/{newest}\"")));
}

#[tokio::test]
async fn a_conversation_shows_its_rating_and_web_visitor_data() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let id = app
        .inbound(
            &token,
            json!({"channel": "web", "external_id": "visitor-1", "text": "Hi",
                   "web": {"ip": "203.0.113.9", "region": "Zagreb", "user_agent": "Firefox", "source": "/pricing"}}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    app.api(
        reqwest::Method::POST,
        &format!("/api/v1/conversations/{id}/rating"),
        &token,
        Some(json!({"rating": 5})),
    )
    .await;
    let page = app
        .agent()
        .await
        .page(&format!("/conversations/{id}"))
        .await;
    assert!(page.contains("rated 5/5"));
    assert!(page.contains("IP 203.0.113.9") && page.contains("from /pricing"));
}

#[tokio::test]
async fn the_workspace_queue_pages_through_every_open_conversation() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    for n in 0..60 {
        app.inbound(
            &token,
            json!({"channel": "web", "external_id": format!("visitor-{n}"), "text": format!("hello {n}")}),
        )
        .await;
    }
    let agent = app.agent().await;
    let first = agent.page("/").await;
    assert_eq!(first.matches("<tr data-id=").count(), 50);
    assert!(
        first.contains("data-poll="),
        "the first page refreshes itself"
    );
    let next = first
        .split("id=\"queue-next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .expect("an older page");
    let second = agent.page(&next).await;
    assert_eq!(second.matches("<tr data-id=").count(), 10);
    assert!(!second.contains("data-poll="), "a later page stays still");
    assert!(second.contains("hello 0<") && !second.contains("hello 59<"));
}
