//! The customer information panel beside a conversation: identities, tags and the agents'
//! replies with internal comments, for any agent who sees the conversation — with the
//! Customers page off for agents too.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, location, spawn_app};

/// Ada writes on WhatsApp; an agent replies. Returns (customer, conversation).
async fn conversation(app: &TestApp) -> (String, i64) {
    let token = app.api_token("gw");
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}),
        )
        .await;
    (
        ada,
        answer["conversation_id"].as_i64().expect("a conversation"),
    )
}

#[tokio::test]
async fn an_agent_adds_an_identity_and_a_tag_from_the_panel_without_the_customers_page() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(false);
    let (ada, id) = conversation(&app).await;
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "gold"))
        .expect("tag");
    let agent = app.agent().await;
    assert_eq!(
        agent.get(&format!("/customers/{ada}")).await.status(),
        StatusCode::FORBIDDEN
    );

    let page = agent
        .page(&format!("/conversations/{id}?panel=identities"))
        .await;
    assert!(page.contains("id=\"panel-identities\"") && page.contains("+385912345678"));
    // A wrong id is said at the field, and what was typed stays.
    let response = agent
        .post_form(
            &format!("/conversations/{id}/identities"),
            &[("channel", "email"), ("external_id", "not an address")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(
        html.contains("id=\"panel-external-id-error\"")
            && html.contains("value=\"not an address\"")
    );
    let response = agent
        .post_form(
            &format!("/conversations/{id}/identities"),
            &[("channel", "email"), ("external_id", "Ada@Example.com")],
        )
        .await;
    assert_eq!(
        location(&response),
        format!("/conversations/{id}?panel=identities")
    );
    assert!(
        agent
            .page(&location(&response))
            .await
            .contains("ada@example.com")
    );

    let page = agent.page(&format!("/conversations/{id}?panel=tags")).await;
    let vip = app.with_db(|conn| clientele::db::tags::list_tags(conn).expect("tags"))[0]
        .id
        .0;
    assert!(page.contains(&format!("<option value=\"{vip}\">VIP</option>")));
    let response = agent
        .post_form(
            &format!("/conversations/{id}/tags"),
            &[("tag", &vip.to_string())],
        )
        .await;
    assert_eq!(
        location(&response),
        format!("/conversations/{id}?panel=tags")
    );
    assert!(
        agent
            .page(&location(&response))
            .await
            .contains(&format!("/tags/{vip}/remove"))
    );
    let response = agent
        .post_form(&format!("/conversations/{id}/tags/{vip}/remove"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let customer = app.customer(&ada).id;
    let held =
        app.with_db(|conn| clientele::db::tags::list_customer_tags(conn, customer).expect("tags"));
    assert!(held.is_empty());
}

#[tokio::test]
async fn comments_sit_under_the_agents_replies_and_never_reach_the_outbox() {
    let app = spawn_app().await;
    let (ada, id) = conversation(&app).await;
    let agent = app.agent().await;
    agent
        .post_form(
            &format!("/conversations/{id}/reply"),
            &[("text", "How can I help?")],
        )
        .await;
    let outbox_before: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::outbox::table
            .count()
            .get_result(conn)
            .expect("count")
    });
    let response = agent
        .post_form(
            &format!("/conversations/{id}/comments"),
            &[("comment", "   "), ("from", &id.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .expect("page")
            .contains(&format!("id=\"comment-{id}-error\""))
    );
    let response = agent
        .post_form(
            &format!("/conversations/{id}/comments"),
            &[
                ("comment", "Asked about the <b>refund</b> policy"),
                ("from", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(
        location(&response),
        format!("/conversations/{id}?panel=conversations")
    );
    let page = agent.page(&location(&response)).await;
    assert!(page.contains("How can I help?"), "the agent's reply");
    assert!(
        page.contains("refund") && !page.contains("<b>refund"),
        "shown, escaped"
    );
    let outbox_after: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::outbox::table
            .count()
            .get_result(conn)
            .expect("count")
    });
    assert_eq!(outbox_before, outbox_after, "a comment is never delivered");

    // A comment on another customer's conversation from this page is refused.
    let token = app.api_token("gw2");
    app.create_customer(&[("name", "Bob"), ("phone", "+385981112222")]);
    let other = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385981112222", "text": "Hi"}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let response = agent
        .post_form(
            &format!("/conversations/{other}/comments"),
            &[("comment", "sneaky"), ("from", &id.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Anonymizing the customer erases the comments' text.
    app.with_db(|conn| {
        clientele::services::erasure::anonymize(
            conn,
            app.customer(&ada).id,
            &clientele::domain::customer::Actor::System,
        )
    })
    .expect("anonymized");
    assert!(
        !agent
            .page(&format!("/conversations/{id}?panel=conversations"))
            .await
            .contains("refund")
    );
}

#[tokio::test]
async fn an_unknown_contact_has_no_panel_and_its_forms_are_refused() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let id = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "5550001", "text": "Hi"}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let agent = app.agent().await;
    let page = agent
        .page(&format!("/conversations/{id}?panel=identities"))
        .await;
    assert!(
        !page.contains("id=\"panel-identities\""),
        "the card instead"
    );
    let response = agent
        .post_form(
            &format!("/conversations/{id}/identities"),
            &[("channel", "email"), ("external_id", "x@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_summary_mixes_conversations_messages_notes_ratings_and_changes_newest_first() {
    let app = spawn_app().await;
    let token = app.api_token("gw2");
    app.create_property("secret_score", "text", &[], "hidden");
    let (ada, id) = conversation(&app).await;
    let agent = app.agent().await;
    agent
        .post_form(
            &format!("/conversations/{id}/reply"),
            &[("text", "How can I help?")],
        )
        .await;
    let response = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/conversations/{id}/rating"),
            &token,
            Some(json!({"rating": 4})),
        )
        .await;
    assert!(response.status().is_success());
    for properties in [json!({"city": "London"}), json!({"secret_score": "42"})] {
        let response = app
            .api(
                reqwest::Method::PATCH,
                &format!("/api/v1/customers/{ada}"),
                &token,
                Some(json!({ "properties": properties })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = agent
        .post_form(
            &format!("/conversations/{id}/note"),
            &[("body", "VIP treatment please"), ("panel", "summary")],
        )
        .await;
    assert_eq!(
        location(&response),
        format!("/conversations/{id}?panel=summary")
    );
    let page = agent.page(&location(&response)).await;
    let log = &page[page.find("id=\"panel-summary\"").expect("the summary")..];
    for expected in [
        "Conversation on WhatsApp",
        "Message from the customer",
        "How can I help?",
        "Rated the conversation",
        "Changed City",
        "VIP treatment please",
    ] {
        assert!(log.contains(expected), "{expected}");
    }
    assert!(
        !log.to_lowercase().contains("secret"),
        "a change of a property hidden from agents stays hidden"
    );
    let note = log.find("VIP treatment please").expect("note");
    let first = log.find("Conversation on WhatsApp").expect("conversation");
    assert!(note < first, "newest first");
    // The card shows the note too, once added.
    let page = agent.page(&format!("/conversations/{id}")).await;
    let card = &page[page.find("id=\"card-notes\"").expect("the card's notes")..];
    assert!(card.contains("VIP treatment please"));
}

#[tokio::test]
async fn the_summary_pages_back_through_a_long_history() {
    let app = spawn_app().await;
    let token = app.api_token("gw-more");
    let (_, id) = conversation(&app).await;
    for n in 0..40 {
        app.inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": format!("message number {n}")}),
        )
        .await;
    }
    let agent = app.agent().await;
    let summary =
        |page: String| page[page.find("id=\"panel-summary\"").expect("the summary")..].to_owned();
    let first = summary(
        agent
            .page(&format!("/conversations/{id}?panel=summary"))
            .await,
    );
    assert!(first.contains("message number 39"));
    assert!(!first.contains("message number 5<"));
    let older = first
        .split("\" id=\"activity-older\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .map(|href| href.replace("&amp;", "&"))
        .expect("an older page");
    let second = summary(agent.page(&older).await);
    assert!(second.contains("message number 5<"), "{older}");
    assert!(!second.contains("message number 39"));
}

#[tokio::test]
async fn extra_actions_show_only_what_the_reader_may_use() {
    let app = spawn_app().await;
    let (ada, id) = conversation(&app).await;
    app.set_customers_page_for_agents(false);
    let agent = app.agent().await;
    let page = agent
        .page(&format!("/conversations/{id}?panel=actions"))
        .await;
    assert!(page.contains("Send self-service link"));
    assert!(!page.contains(&format!("/customers/{ada}/anonymize")));
    assert!(!page.contains(&format!("/customers/{ada}/export.json")));
    let supervisor = app.supervisor().await;
    let page = supervisor
        .page(&format!("/conversations/{id}?panel=actions"))
        .await;
    assert!(page.contains(&format!("/customers/{ada}/anonymize")));
    assert!(page.contains(&format!("/customers/{ada}/export.json")));
    assert!(page.contains(&format!("/customers/{ada}/identities#duplicates")));
}

#[tokio::test]
async fn the_messages_section_shows_every_conversation_with_its_messages_page_by_page() {
    let app = spawn_app().await;
    let token = app.api_token("gw-threads");
    let (_, id) = conversation(&app).await;
    app.with_db(|conn| {
        clientele::services::conversations::workspace::close(
            conn,
            clientele::db::types::ConversationId(id),
        )
    })
    .expect("closed");
    let mut last = id;
    for n in 0..6 {
        last = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385912345678", "text": format!("thread {n}")}),
            )
            .await["conversation_id"]
            .as_i64()
            .expect("a conversation");
        app.with_db(|conn| {
            clientele::services::conversations::workspace::close(
                conn,
                clientele::db::types::ConversationId(last),
            )
        })
        .expect("closed");
    }
    let agent = app.agent().await;
    let section =
        |page: String| page[page.find("id=\"panel-messages\"").expect("messages")..].to_owned();
    let first = section(
        agent
            .page(&format!("/conversations/{last}?panel=messages"))
            .await,
    );
    assert_eq!(first.matches("class=\"panel-conversation\"").count(), 5);
    assert!(first.contains("thread 5<") && !first.contains(">Hello<"));
    let older = first
        .split("\" id=\"messages-older\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .map(|href| href.replace("&amp;", "&"))
        .expect("more message history");
    let second = section(agent.page(&older).await);
    assert_eq!(second.matches("class=\"panel-conversation\"").count(), 2);
    assert!(second.contains(">Hello<"));
}

#[tokio::test]
async fn summary_lines_recorded_at_one_instant_are_neither_lost_nor_repeated_across_pages() {
    let app = spawn_app().await;
    let token = app.api_token("gw-instant");
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    // Five changes saved at once share one time.
    let response = app
        .api(
            reqwest::Method::PATCH,
            &format!("/api/v1/customers/{ada}"),
            &token,
            Some(json!({"properties": {"city": "London", "company": "Engines", "nickname": "Countess", "gender": "female", "email": "ada@example.com"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut id = 0;
    for n in 0..27 {
        id = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385912345678", "text": format!("line {n}")}),
            )
            .await["conversation_id"]
            .as_i64()
            .expect("a conversation");
    }
    let agent = app.agent().await;
    let summary =
        |page: String| page[page.find("id=\"panel-summary\"").expect("summary")..].to_owned();
    let first = summary(
        agent
            .page(&format!("/conversations/{id}?panel=summary"))
            .await,
    );
    let older = first
        .split("\" id=\"activity-older\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .map(|href| href.replace("&amp;", "&"))
        .expect("an older page");
    let second = summary(agent.page(&older).await);
    for label in ["E-mail", "Gender", "Nickname", "Company", "City"] {
        let line = format!("· Changed {label}<");
        assert_eq!(
            first.matches(&line).count() + second.matches(&line).count(),
            1,
            "{label}: once across the pages"
        );
    }
    assert!(
        first.contains("· Changed E-mail<") && second.contains("· Changed City<"),
        "the instant straddles the pages"
    );
}

#[tokio::test]
async fn the_profile_section_edits_every_property_the_agent_may_edit() {
    let app = spawn_app().await;
    app.create_property("loyalty_code", "word", &[], "edit");
    app.create_property("risk_note", "text", &[], "view");
    app.create_property("secret_score", "text", &[], "hidden");
    let (ada, id) = conversation(&app).await;
    let agent = app.agent().await;
    let page = agent
        .page(&format!("/conversations/{id}?panel=profile"))
        .await;
    let section = &page[page
        .find("id=\"panel-profile\"")
        .expect("the profile section")..];
    assert!(section.contains("name=\"p_loyalty_code\""));
    assert!(
        section.contains("risk_note label") && !section.contains("name=\"p_risk_note\""),
        "view only"
    );
    assert!(!section.contains("secret_score"), "hidden");
    let version = app.version_of(&ada);
    let response = agent
        .post_form(
            &format!("/conversations/{id}/card"),
            &[
                ("panel", "profile"),
                ("version", &version),
                ("p_loyalty_code", "two words"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(html.contains("id=\"panel-profile\"") && html.contains("value=\"two words\""));
    let response = agent
        .post_form(
            &format!("/conversations/{id}/card"),
            &[
                ("panel", "profile"),
                ("version", &version),
                ("p_loyalty_code", "GOLD7"),
            ],
        )
        .await;
    assert_eq!(
        location(&response),
        format!("/conversations/{id}?panel=profile")
    );
    assert_eq!(app.value_of(&ada, "loyalty_code").as_deref(), Some("GOLD7"));
    // A view-only property cannot be saved by a crafted form.
    let response = agent
        .post_form(
            &format!("/conversations/{id}/card"),
            &[
                ("panel", "profile"),
                ("version", &app.version_of(&ada)),
                ("p_risk_note", "edited"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The card itself still takes only its own attributes.
    let response = agent
        .post_form(
            &format!("/conversations/{id}/card"),
            &[
                ("version", &app.version_of(&ada)),
                ("p_loyalty_code", "OTHER1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_refused_note_keeps_what_was_typed_at_its_box() {
    let app = spawn_app().await;
    let (_, id) = conversation(&app).await;
    let agent = app.agent().await;
    let long = "x".repeat(5001);
    for (panel, box_id) in [("", "note-body"), ("summary", "summary-note")] {
        let response = agent
            .post_form(
                &format!("/conversations/{id}/note"),
                &[("body", &long), ("panel", panel)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.expect("page");
        assert!(html.contains(&format!("id=\"{box_id}-error\"")), "{panel}");
        assert!(html.contains(&long), "what was typed stays");
    }
}
