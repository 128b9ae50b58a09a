//! "Not from this customer": one conversation moves to another customer or to nobody,
//! with its messages and counters; the contact's other conversations stay.

use clientele::db::types::{ConversationId, ConversationStatus};
use serde_json::json;

use crate::helpers::{TestApp, location, spawn_app};

fn conversation(app: &TestApp, id: i64) -> clientele::db::conversations::Conversation {
    app.with_db(|conn| {
        clientele::db::conversations::get_conversation(conn, ConversationId(id))
            .expect("the conversation")
    })
}

/// Two conversations of one contact of Ada: the first closed, the second open.
async fn two_conversations(app: &TestApp, token: &str) -> (String, i64, i64) {
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let say = |text: &'static str| {
        app.inbound(
            token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": text}),
        )
    };
    let first = say("Order for my sister").await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    app.with_db(|conn| {
        clientele::services::conversations::workspace::close(conn, ConversationId(first))
            .expect("closed")
    });
    let second = say("My own question").await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    assert_ne!(first, second);
    (ada, first, second)
}

#[tokio::test]
async fn one_conversation_moves_to_another_customer_with_its_counters_and_history() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, first, second) = two_conversations(&app, &token).await;
    let bea = app.create_customer(&[("name", "Bea")]);
    assert_eq!(app.customer(&ada).conversations_count, 2);

    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{second}")).await;
    assert!(page.contains("Not from this customer (this conversation only)"));
    let response = agent
        .post_form(
            &format!("/conversations/{first}/move"),
            &[("customer_id", &bea)],
        )
        .await;
    let after = agent.page(&location(&response)).await;
    assert!(
        after.contains("Only this conversation was moved"),
        "{after}"
    );

    assert_eq!(
        conversation(&app, first).customer_id,
        Some(app.customer(&bea).id)
    );
    assert_eq!(
        conversation(&app, second).customer_id,
        Some(app.customer(&ada).id)
    );
    let (ada_row, bea_row) = (app.customer(&ada), app.customer(&bea));
    assert_eq!(
        (ada_row.conversations_count, ada_row.messages_count),
        (1, 1)
    );
    assert_eq!(
        (bea_row.conversations_count, bea_row.messages_count),
        (1, 1)
    );
    let moved_messages: i64 = app.with_db(|conn| {
        use clientele::db::schema::messages;
        use diesel::prelude::*;
        messages::table
            .filter(messages::conversation_id.eq(first))
            .filter(messages::customer_id.eq(bea_row.id))
            .count()
            .get_result(conn)
            .expect("a count")
    });
    assert_eq!(moved_messages, 1, "the messages follow the conversation");

    let supervisor = app.supervisor().await;
    let history = supervisor.page(&format!("/customers/{ada}/history")).await;
    assert!(
        history.contains("Moved a conversation") && history.contains(&format!("moved to {bea}"))
    );
    let history = supervisor.page(&format!("/customers/{bea}/history")).await;
    assert!(history.contains(&format!("moved from {ada}")));

    // The contact still belongs to Ada: the next message joins her open conversation.
    let next = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Thanks"}),
        )
        .await;
    assert_eq!(next["conversation_id"].as_i64(), Some(second));
    assert_eq!(next["customer_id"], ada.as_str());
}

#[tokio::test]
async fn an_open_conversation_moved_to_nobody_is_closed_and_leaves_the_counters() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, _, second) = two_conversations(&app, &token).await;
    let agent = app.agent().await;
    agent
        .post_form(
            &format!("/conversations/{second}/move"),
            &[("customer_id", "")],
        )
        .await;
    let moved = conversation(&app, second);
    assert_eq!(moved.customer_id, None);
    assert_eq!(moved.status, ConversationStatus::Closed);
    assert_eq!(app.customer(&ada).conversations_count, 1);
}

#[tokio::test]
async fn an_unknown_customer_id_moves_nothing_and_says_so() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, first, _) = two_conversations(&app, &token).await;
    let agent = app.agent().await;
    let response = agent
        .post_form(
            &format!("/conversations/{first}/move"),
            &[("customer_id", "C9999999")],
        )
        .await;
    let page = agent.page(&location(&response)).await;
    assert!(page.contains("No customer has the ID C9999999."));
    assert_eq!(
        conversation(&app, first).customer_id,
        Some(app.customer(&ada).id)
    );
    assert_eq!(app.customer(&ada).conversations_count, 2);
}
