//! The conversation page's earlier and later conversations of the same relationship (the
//! customer's, or an unknown contact's): read in place, stepped through one at a time,
//! and only those the reader's teams may see, however long the history.

use serde_json::json;

use crate::helpers::{Browser, TestApp, spawn_app};

#[tokio::test]
async fn earlier_and_later_conversations_are_read_in_place() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let agent = app.agent().await;
    let mut ids = Vec::new();
    for text in ["First visit", "Second visit", "Third visit"] {
        let answer = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385912345678", "text": text}),
            )
            .await;
        let id = answer["conversation_id"].as_i64().unwrap();
        agent
            .post_form(&format!("/conversations/{id}/close"), &[])
            .await;
        ids.push(id);
    }
    let latest = agent.page(&format!("/conversations/{}", ids[2])).await;
    assert!(latest.contains("Third visit") && !latest.contains("Second visit"));
    assert!(latest.contains(&format!(
        "href=\"/conversations/{}?earlier=1\" id=\"more-history\"",
        ids[2]
    )));
    let more = agent
        .page(&format!("/conversations/{}?earlier=1", ids[2]))
        .await;
    assert!(
        more.contains("Second visit")
            && more.contains("Third visit")
            && !more.contains("First visit")
    );
    assert!(
        more.find("Second visit") < more.find("Third visit"),
        "oldest first"
    );
    let all = agent
        .page(&format!("/conversations/{}?earlier=2", ids[2]))
        .await;
    assert!(all.contains("First visit") && !all.contains("id=\"more-history\""));
    let first = agent.page(&format!("/conversations/{}", ids[0])).await;
    assert!(first.contains(&format!(
        "href=\"/conversations/{}\" id=\"next-conversation\"",
        ids[1]
    )));
}

/// A conversation from `external_id` on `channel`, closed at once so the next message
/// opens another.
async fn closed_conversation(
    app: &TestApp,
    token: &str,
    closer: &Browser,
    channel: &str,
    external_id: &str,
    text: &str,
) -> i64 {
    let answer = app
        .inbound(
            token,
            json!({"channel": channel, "external_id": external_id, "text": text}),
        )
        .await;
    let id = answer["conversation_id"].as_i64().expect("a conversation");
    closer
        .post_form(&format!("/conversations/{id}/close"), &[])
        .await;
    id
}

fn next_link(to: i64) -> String {
    format!("href=\"/conversations/{to}\" id=\"next-conversation\"")
}

#[tokio::test]
async fn earlier_and_later_conversations_skip_those_the_readers_teams_do_not_see() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[
        ("name", "Dee"),
        ("phone", "+385922222222"),
        ("email", "dee@example.com"),
    ]);
    let supervisor = app.supervisor().await;
    let history = [
        ("whatsapp", "WhatsApp one"),
        ("email", "Mail one"),
        ("whatsapp", "WhatsApp two"),
        ("email", "Mail two"),
        ("whatsapp", "WhatsApp three"),
    ];
    let mut ids = Vec::new();
    for (channel, text) in history {
        let from = if channel == "email" {
            "dee@example.com"
        } else {
            "+385922222222"
        };
        ids.push(closed_conversation(&app, &token, &supervisor, channel, from, text).await);
    }
    let agent = app.agent_in_team("wanda.agent", &["whatsapp"]).await;

    let last = agent
        .page(&format!("/conversations/{}?earlier=1", ids[4]))
        .await;
    assert!(last.contains("WhatsApp two") && last.contains("WhatsApp three"));
    assert!(
        !last.contains("Mail two") && !last.contains("Mail one"),
        "{last}"
    );
    assert!(
        last.contains(&format!("/conversations/{}?earlier=2", ids[4])),
        "WhatsApp one lies further back"
    );
    let all = agent
        .page(&format!("/conversations/{}?earlier=2", ids[4]))
        .await;
    assert!(all.contains("WhatsApp one") && !all.contains("id=\"more-history\""));
    assert!(!all.contains("Mail"));

    let first = agent.page(&format!("/conversations/{}", ids[0])).await;
    assert!(
        first.contains(&next_link(ids[2])),
        "the next one it may see"
    );
    let first = supervisor.page(&format!("/conversations/{}", ids[0])).await;
    assert!(
        first.contains(&next_link(ids[1])),
        "a supervisor sees every one"
    );
    let newest = supervisor.page(&format!("/conversations/{}", ids[4])).await;
    assert!(!newest.contains("id=\"next-conversation\""));
}

#[tokio::test]
async fn a_long_history_the_reader_cannot_see_is_walked_past() {
    // More conversations between two the agent may see than one read of the history
    // holds: the page keeps reading until it finds the next one it may show.
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[
        ("name", "Eve"),
        ("phone", "+385933333333"),
        ("email", "eve@example.com"),
    ]);
    let supervisor = app.supervisor().await;
    let first = closed_conversation(
        &app,
        &token,
        &supervisor,
        "whatsapp",
        "+385933333333",
        "WhatsApp before",
    )
    .await;
    for n in 0..45 {
        closed_conversation(
            &app,
            &token,
            &supervisor,
            "email",
            "eve@example.com",
            &format!("Mail {n}"),
        )
        .await;
    }
    let last = closed_conversation(
        &app,
        &token,
        &supervisor,
        "whatsapp",
        "+385933333333",
        "WhatsApp after",
    )
    .await;
    let agent = app.agent_in_team("wanda.agent", &["whatsapp"]).await;
    let page = agent
        .page(&format!("/conversations/{last}?earlier=1"))
        .await;
    assert!(page.contains("WhatsApp before") && page.contains("WhatsApp after"));
    assert!(!page.contains("Mail ") && !page.contains("id=\"more-history\""));
    let page = agent.page(&format!("/conversations/{first}")).await;
    assert!(page.contains(&next_link(last)), "{page}");
}

#[tokio::test]
async fn an_unknown_contacts_conversations_are_stepped_through_too() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let supervisor = app.supervisor().await;
    let mut ids = Vec::new();
    for text in ["Visit one", "Visit two", "Visit three"] {
        ids.push(closed_conversation(&app, &token, &supervisor, "web", "visitor-7", text).await);
    }
    let page = supervisor
        .page(&format!("/conversations/{}?earlier=1", ids[2]))
        .await;
    assert!(page.contains("Visit two") && page.contains("Visit three"));
    assert!(!page.contains("Visit one"));
    assert!(page.contains(&format!("/conversations/{}?earlier=2", ids[2])));
    let page = supervisor.page(&format!("/conversations/{}", ids[1])).await;
    assert!(page.contains(&next_link(ids[2])));
}
