//! The blacklist blocks: blacklisting closes the customer's conversations, refuses
//! replies, callbacks, links and self-service, keeps and lists what arrives meanwhile;
//! an unknown contact can be blacklisted on its own.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// Flash messages are shown on the next page: follow the redirect and read it.
async fn flash_after(browser: &crate::helpers::Browser, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    browser.page(&crate::helpers::location(&response)).await
}

fn identity_of(app: &TestApp, public_id: &str) -> i64 {
    let row = app.customer(public_id);
    app.with_db(|conn| {
        clientele::db::identities::list_customer_identities(conn, row.id).expect("identities")[0]
            .id
            .0
    })
}

#[tokio::test]
async fn blacklisting_closes_open_conversations_and_refuses_replies_callbacks_links_and_self_service()
 {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Spammer"), ("phone", "+385912345678")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    let id = app.customer(&customer).id;
    let link = app.with_db(|conn| {
        let config = clientele::services::selfservice::config(conn).expect("config");
        clientele::services::selfservice::issue(conn, id, "http://127.0.0.1", &config)
            .expect("a link")
            .sent
    });
    let token_in_link = link
        .split("/s/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a link in the text")
        .to_owned();

    let supervisor = app.supervisor().await;
    let profile = supervisor
        .page(&format!("/customers/{customer}/profile"))
        .await;
    assert!(
        profile.contains("data-confirm=\"Blacklist Spammer?"),
        "the browser asks before blacklisting"
    );
    supervisor
        .post_form(
            &format!("/customers/{customer}/blacklist"),
            &[("reason", "Abusive messages")],
        )
        .await;

    // The open conversation is closed, with a note saying why.
    let thread = supervisor
        .page(&format!("/conversations/{conversation}"))
        .await;
    assert!(thread.contains("the customer was added to the blacklist"));
    let status = app.with_db(|conn| {
        clientele::db::conversations::get_conversation(
            conn,
            clientele::db::types::ConversationId(conversation),
        )
        .expect("the conversation")
        .status
    });
    assert_eq!(status, clientele::db::types::ConversationStatus::Closed);

    // Replies, callbacks, links and self-service are refused, saying why.
    let page = flash_after(
        &supervisor,
        supervisor
            .post_form(
                &format!("/conversations/{conversation}/reply"),
                &[("text", "Are you there?")],
            )
            .await,
    )
    .await;
    assert!(
        page.contains("on the blacklist: replies are refused"),
        "{page}"
    );
    let identity = identity_of(&app, &customer).to_string();
    let page = flash_after(
        &supervisor,
        supervisor
            .post_form(
                &format!("/customers/{customer}/contact"),
                &[("identity_id", &identity), ("text", "Call me")],
            )
            .await,
    )
    .await;
    assert!(
        page.contains("on the blacklist: callbacks are refused"),
        "{page}"
    );
    let page = flash_after(
        &supervisor,
        supervisor
            .post_form(
                &format!("/customers/{customer}/send-link"),
                &[("identity_id", &identity)],
            )
            .await,
    )
    .await;
    assert!(page.contains("no self-service link is sent"), "{page}");
    let opened = app
        .browser()
        .open_link(&format!("/s/{token_in_link}"))
        .await;
    assert_ne!(
        opened.status(),
        StatusCode::SEE_OTHER,
        "a link issued before the blacklist no longer opens"
    );
    assert_eq!(app.customer(&customer).conversations_count, 1);

    // An unknown contact's conversation is not linked to a blacklisted customer.
    let stranger = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "4242", "text": "Hi"}),
        )
        .await;
    let page = flash_after(
        &supervisor,
        supervisor
            .post_form(
                &format!("/conversations/{}/link", stranger["conversation_id"]),
                &[("customer_id", &customer)],
            )
            .await,
    )
    .await;
    assert!(page.contains("no conversation is linked to them"), "{page}");
}

#[tokio::test]
async fn messages_received_while_blacklisted_are_listed_on_the_profile_and_never_replayed() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Spammer"), ("phone", "+385912345678")]);
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(
            &format!("/customers/{customer}/blacklist"),
            &[("reason", "Abuse")],
        )
        .await;
    for text in ["Buy now", "Last chance"] {
        let answer = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385912345678", "text": text}),
            )
            .await;
        assert_eq!(answer["blocked"], true);
    }
    let messages = supervisor
        .page(&format!("/customers/{customer}/messages"))
        .await;
    assert!(messages.contains("Messages received while blacklisted (2)"));
    assert!(messages.contains("Last chance") && messages.contains("Buy now"));

    supervisor
        .post_form(&format!("/customers/{customer}/blacklist/remove"), &[])
        .await;
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Sorry"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    let thread = supervisor
        .page(&format!("/conversations/{conversation}"))
        .await;
    assert!(thread.contains("Sorry"));
    assert!(
        !thread.contains("Buy now"),
        "what arrived while blacklisted is not replayed"
    );
}

#[tokio::test]
async fn an_unknown_contact_is_blacklisted_from_the_workspace() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let agent = app.agent().await;
    let answer = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "777", "display_name": "Bot", "text": "Spam"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    assert!(
        agent
            .page(&format!("/conversations/{conversation}"))
            .await
            .contains("Blacklist this contact")
    );

    let page = flash_after(
        &agent,
        agent
            .post_form(
                &format!("/conversations/{conversation}/contact-blacklist"),
                &[("reason", "")],
            )
            .await,
    )
    .await;
    assert!(page.contains("Give a reason of 1 to 500 characters."));
    let page = flash_after(
        &agent,
        agent
            .post_form(
                &format!("/conversations/{conversation}/contact-blacklist"),
                &[("reason", "Spam bot")],
            )
            .await,
    )
    .await;
    assert!(page.contains("Blacklisted contact: Spam bot"));

    let again = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "777", "text": "More spam"}),
        )
        .await;
    assert_eq!(again["blocked"], true);
    assert!(again["conversation_id"].is_null());
    assert!(!agent.page("/").await.contains("More spam"));

    agent
        .post_form(
            &format!("/conversations/{conversation}/contact-blacklist/remove"),
            &[],
        )
        .await;
    let after = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "777", "text": "Real question"}),
        )
        .await;
    assert_eq!(after["blocked"], false);
    assert!(after["conversation_id"].is_i64());
}

#[tokio::test]
async fn a_contact_that_belongs_to_a_customer_is_blacklisted_through_the_customer() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("phone", "+385912345678")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi"}),
        )
        .await;
    let agent = app.agent().await;
    let page = flash_after(
        &agent,
        agent
            .post_form(
                &format!(
                    "/conversations/{}/contact-blacklist",
                    answer["conversation_id"]
                ),
                &[("reason", "Spam")],
            )
            .await,
    )
    .await;
    assert!(page.contains("blacklist the customer from their profile"));
    assert!(!app.customer(&customer).blacklisted);
}
