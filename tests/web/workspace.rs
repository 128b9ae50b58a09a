//! The agent workspace and the customer context card.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

fn property_id(app: &TestApp, key: &str) -> i64 {
    app.with_db(|conn| {
        clientele::db::properties::list_properties(conn)
            .expect("registry")
            .into_iter()
            .find(|p| p.key == key)
            .expect("property")
            .id
            .0
    })
}

/// Configures the card through the Settings form: (key, section, mode).
async fn configure_card(
    app: &TestApp,
    supervisor: &crate::helpers::Browser,
    attributes: &[(&str, &str, &str)],
) -> reqwest::Response {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (position, (key, section, mode)) in attributes.iter().enumerate() {
        let id = property_id(app, key);
        fields.push((format!("on_{id}"), "1".to_owned()));
        fields.push((format!("pos_{id}"), (position * 10).to_string()));
        fields.push((format!("section_{id}"), (*section).to_owned()));
        fields.push((format!("mode_{id}"), (*mode).to_owned()));
    }
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    supervisor.post_form("/settings/card", &borrowed).await
}

/// A known customer writing in on WhatsApp; returns (public id, conversation id).
async fn known_conversation(app: &TestApp, values: &[(&str, &str)]) -> (String, i64) {
    let token = app.api_token(&format!("gw-{}", values.len()));
    let mut all = values.to_vec();
    all.push(("phone", "+385912345678"));
    let customer = app.create_customer(&all);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}),
        )
        .await;
    (
        customer,
        answer["conversation_id"].as_i64().expect("conversation"),
    )
}

#[tokio::test]
async fn a_new_installation_shows_name_gender_city_and_country_as_basic_view_only() {
    let app = spawn_app().await;
    let (_, conversation) = known_conversation(
        &app,
        &[
            ("name", "Ada Lovelace"),
            ("gender", "Female"),
            ("city", "London"),
            ("country", "GB"),
            ("company", "Analytical Engines"),
        ],
    )
    .await;
    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    let basic = &page[page.find("id=\"card-basic\"").unwrap()..page.find("note-body").unwrap()];
    for label in ["Name", "Gender", "City", "Country"] {
        assert!(
            basic.contains(&format!("<span class=\"label\">{label}</span>")),
            "{label} on the card"
        );
    }
    assert!(basic.contains("Ada Lovelace"));
    assert!(
        basic.contains("(GB)"),
        "the country is shown by name with its code"
    );
    assert!(!basic.contains("name=\"p_name\""), "view only");
    assert!(
        !page.contains("Analytical Engines"),
        "company is not on the card"
    );
    assert!(!page.contains("id=\"card-more\""), "nothing additional");
}

#[tokio::test]
async fn the_card_follows_its_configuration_and_agents_edit_in_place() {
    let app = spawn_app().await;
    app.create_property("loyalty_tier", "single_choice", &["Bronze", "Gold"], "edit");
    let supervisor = app.supervisor().await;
    let response = configure_card(
        &app,
        &supervisor,
        &[
            ("loyalty_tier", "basic", "edit"),
            ("company", "additional", "view"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (customer, conversation) = known_conversation(
        &app,
        &[
            ("name", "Ada"),
            ("company", "ACME"),
            ("loyalty_tier", "Bronze"),
        ],
    )
    .await;
    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    assert!(
        page.contains("name=\"p_loyalty_tier\""),
        "editable basic attribute"
    );
    let more = &page[page.find("id=\"card-more\"").expect("See more")..];
    assert!(more.contains("ACME") && !more.contains("name=\"p_company\""));
    assert!(
        !page.contains("<span class=\"label\">City</span>"),
        "only configured attributes"
    );

    let version = app.version_of(&customer);
    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/card"),
            &[("version", &version), ("p_loyalty_tier", "Gold")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.value_of(&customer, "loyalty_tier").as_deref(),
        Some("Gold")
    );
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(
        history.contains("ana.agent display") && history.contains("Changed loyalty_tier label")
    );

    // A bad value is refused on the card, with the message and the typed value kept.
    let version = app.version_of(&customer);
    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/card"),
            &[("version", &version), ("p_loyalty_tier", "Diamond")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("is not one of the choices")
    );

    // A stale version is a conflict that applies nothing.
    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/card"),
            &[("version", "1"), ("p_loyalty_tier", "Bronze")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.value_of(&customer, "loyalty_tier").as_deref(),
        Some("Gold")
    );
}

#[tokio::test]
async fn view_only_and_hidden_attributes_cannot_be_changed_or_seen_through_the_card() {
    let app = spawn_app().await;
    app.create_property("secret_score", "number", &[], "hidden");
    app.create_property("vip_note", "text", &[], "edit");
    let supervisor = app.supervisor().await;
    configure_card(
        &app,
        &supervisor,
        &[
            ("secret_score", "basic", "edit"),
            ("vip_note", "basic", "view"),
            ("name", "basic", "edit"),
        ],
    )
    .await;
    let (customer, conversation) = known_conversation(
        &app,
        &[
            ("name", "Ada"),
            ("secret_score", "4242"),
            ("vip_note", "Prefers mornings"),
        ],
    )
    .await;
    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    assert!(
        !page.contains("secret_score") && !page.contains("4242"),
        "hidden never appears, whatever the card says"
    );
    assert!(page.contains("Prefers mornings") && !page.contains("name=\"p_vip_note\""));
    for (field, value) in [
        ("p_vip_note", "Hacked"),
        ("p_secret_score", "1"),
        ("p_email", "x@example.com"),
    ] {
        let version = app.version_of(&customer);
        let response = agent
            .post_form(
                &format!("/conversations/{conversation}/card"),
                &[("version", &version), (field, value)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{field}");
    }
    assert_eq!(
        app.value_of(&customer, "vip_note").as_deref(),
        Some("Prefers mornings")
    );
    assert_eq!(
        app.value_of(&customer, "secret_score").as_deref(),
        Some("4242")
    );
    assert_eq!(app.value_of(&customer, "email"), None);
}

#[tokio::test]
async fn more_than_five_basic_attributes_are_refused_and_the_form_is_kept() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let six = [
        ("name", "basic", "view"),
        ("email", "basic", "view"),
        ("phone", "basic", "view"),
        ("city", "basic", "view"),
        ("country", "basic", "view"),
        ("company", "basic", "edit"),
    ];
    let response = configure_card(&app, &supervisor, &six).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("At most 5 attributes can be basic"));
    let company = property_id(&app, "company");
    assert!(
        html.contains(&format!("name=\"on_{company}\" value=\"1\" checked")),
        "the choice is kept"
    );
    let saved = app.with_db(|conn| clientele::db::card::list_card(conn).unwrap());
    assert_eq!(saved.len(), 4, "the saved card is unchanged");
    // Computed properties are view only.
    let response = configure_card(&app, &supervisor, &[("orders_count", "basic", "edit")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = configure_card(&app, &supervisor, &[("orders_count", "basic", "view")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // Agents cannot configure the card.
    let agent = app.agent().await;
    assert_eq!(
        agent.get("/settings/card").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        configure_card(&app, &agent, &[("name", "basic", "edit")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_card_settings_list_attributes_as_the_card_shows_them_and_move_them() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = configure_card(
        &app,
        &supervisor,
        &[
            ("city", "basic", "view"),
            ("name", "basic", "view"),
            ("company", "additional", "view"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (city, name, company, email) = (
        property_id(&app, "city"),
        property_id(&app, "name"),
        property_id(&app, "company"),
        property_id(&app, "email"),
    );
    let at = |html: &str, id: i64| html.find(&format!("id=\"on_{id}\"")).expect("a row");
    let html = supervisor.page("/settings/card").await;
    // On the card first (basic, then additional, each by order), then the rest.
    assert!(at(&html, city) < at(&html, name));
    assert!(at(&html, name) < at(&html, company));
    assert!(at(&html, company) < at(&html, email));

    // "Move up" on Name puts it before City, shown again unsaved.
    let mut form: Vec<(String, String)> = Vec::new();
    for (id, position, section) in [
        (city, 0, "basic"),
        (name, 10, "basic"),
        (company, 20, "additional"),
    ] {
        form.push((format!("on_{id}"), "1".to_owned()));
        form.push((format!("pos_{id}"), position.to_string()));
        form.push((format!("section_{id}"), section.to_owned()));
        form.push((format!("mode_{id}"), "view".to_owned()));
    }
    form.push(("move".to_owned(), format!("up:{name}")));
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = supervisor.post_form("/settings/card", &borrowed).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("the page");
    assert!(at(&html, name) < at(&html, city), "moved up");
    assert!(html.contains("once you save it"));
    assert!(
        html.contains(&format!("name=\"pos_{name}\" value=\"10\"")),
        "renumbered"
    );
    assert!(html.contains(&format!("name=\"pos_{city}\" value=\"20\"")));
    let saved = app.with_db(|conn| clientele::db::card::list_card(conn).expect("card"));
    assert_eq!(saved[0].property_id.0, city, "a move saves nothing");
}

#[tokio::test]
async fn an_unknown_contact_is_linked_from_the_card_by_search() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let customer = app.create_customer(&[("name", "Ada Lovelace"), ("email", "ada@example.com")]);
    let answer = app
        .inbound(&token, json!({"channel": "telegram", "external_id": "5550001", "display_name": "Ada L", "text": "Hi"}))
        .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    assert!(
        page.contains("Unknown customer") && page.contains("5550001") && page.contains("Ada L")
    );
    for query in ["lovelace", "ada@example.com", &customer] {
        let results = agent
            .page(&format!(
                "/conversations/{conversation}?q={}",
                query.replace('@', "%40")
            ))
            .await;
        assert!(
            results.contains(&format!("name=\"customer_id\" value=\"{customer}\"")),
            "{query}"
        );
    }
    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/link"),
            &[
                ("customer_id", &customer),
                ("back", &format!("/conversations/{conversation}")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    assert!(page.contains("id=\"card-name\">Ada Lovelace<"));
    assert_eq!(app.customer(&customer).conversations_count, 1);
}

#[tokio::test]
async fn the_workspace_lists_queues_and_agents_take_reply_and_close() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let answer = app
        .inbound(&token, json!({"channel": "web", "external_id": "visitor-1", "display_name": "Guest", "text": "Is the shop open on Sunday?"}))
        .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let agent = app.agent().await;
    let all = agent.page("/").await;
    assert!(all.contains("Is the shop open on Sunday?") && all.contains("Guest"));
    assert!(agent.page("/?view=unassigned").await.contains("Guest"));
    assert!(!agent.page("/?view=mine").await.contains("Guest"));

    agent
        .post_form(&format!("/conversations/{conversation}/take"), &[])
        .await;
    assert!(agent.page("/?view=mine").await.contains("Guest"));
    assert!(!agent.page("/?view=unassigned").await.contains("Guest"));

    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/reply"),
            &[("text", "   ")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = agent
        .post_form(
            &format!("/conversations/{conversation}/reply"),
            &[("text", "Yes, 10 to 16.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    assert!(page.contains("Yes, 10 to 16.") && page.contains("Waiting for delivery"));

    // New inbound messages show through the JSON the page polls.
    app.inbound(
        &token,
        json!({"channel": "web", "external_id": "visitor-1", "text": "Great, thanks!"}),
    )
    .await;
    let polled: serde_json::Value = agent
        .get("/workspace/conversations.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(polled["conversations"][0]["preview"], "Great, thanks!");

    agent
        .post_form(&format!("/conversations/{conversation}/close"), &[])
        .await;
    assert!(!agent.page("/").await.contains("Great, thanks!"));
    let closed = app.with_db(|conn| {
        clientele::db::conversations::get_conversation(
            conn,
            clientele::db::types::ConversationId(conversation),
        )
        .unwrap()
    });
    assert!(closed.ended_at.is_some());
    // The next message opens a new conversation.
    let again = app
        .inbound(
            &token,
            json!({"channel": "web", "external_id": "visitor-1", "text": "One more thing"}),
        )
        .await;
    assert_ne!(again["conversation_id"].as_i64(), Some(conversation));
}

#[tokio::test]
async fn the_conversation_page_polls_its_thread_as_json() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let answer = app
        .inbound(
            &token,
            json!({"channel": "web", "external_id": "v-9", "text": "First"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().unwrap();
    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{conversation}")).await;
    assert!(page.contains(&format!(
        "data-poll=\"/conversations/{conversation}/messages.json\""
    )));
    app.inbound(
        &token,
        json!({"channel": "web", "external_id": "v-9", "text": "<b>Second</b>"}),
    )
    .await;
    let thread: serde_json::Value = agent
        .get(&format!("/conversations/{conversation}/messages.json"))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec!["First", "<b>Second</b>"],
        "raw text; the script inserts it as text"
    );
    assert_eq!(
        app.browser()
            .get(&format!("/conversations/{conversation}/messages.json"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
