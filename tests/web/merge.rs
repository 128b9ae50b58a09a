//! Merge: the side-by-side review with a choice per field, one transaction moving
//! everything of the duplicate, the duplicate's ID resolving to the survivor, optimistic
//! concurrency, the undo from History, and the API.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Browser, TestApp, location, spawn_app};

/// Ada (the survivor) and her duplicate "Ada L." who wrote twice on WhatsApp, holds a note,
/// a tag and an order.
async fn pair(app: &TestApp, token: &str) -> (String, String) {
    let ada = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("city", "London"),
    ]);
    let twin = app.create_customer(&[
        ("name", "Ada L."),
        ("email", "ada.l@example.com"),
        ("phone", "+385912345678"),
        ("company", "Analytical Engines"),
    ]);
    for text in ["Hello", "Where is my order?"] {
        app.inbound(
            token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": text}),
        )
        .await;
    }
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "gold"))
        .expect("tag");
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/customers/{twin}/tags"),
            token,
            Some(json!({"tag": "VIP"})),
        )
        .await;
    assert!(response.status().is_success(), "tagged");
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/customers/{twin}/orders/A-1"),
            token,
            Some(json!({"placed_at": "2026-11-01T10:00:00Z", "status": "paid", "total": "12.50", "currency": "EUR"})),
        )
        .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap_or_default()
    );
    (ada, twin)
}

pub(crate) async fn merge_form(
    browser: &Browser,
    ada: &str,
    twin: &str,
    app: &TestApp,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let (sv, dv) = (app.version_of(ada), app.version_of(twin));
    let mut fields: Vec<(&str, &str)> = vec![("survivor_version", &sv), ("duplicate_version", &dv)];
    fields.extend_from_slice(extra);
    browser
        .post_form(&format!("/customers/{ada}/merge/{twin}"), &fields)
        .await
}

#[tokio::test]
async fn a_merge_moves_everything_keeps_the_chosen_values_and_the_old_id_leads_to_the_survivor() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, twin) = pair(&app, &token).await;
    assert_eq!(app.customer(&twin).conversations_count, 1);
    let supervisor = app.supervisor().await;

    let review = supervisor
        .page(&format!("/customers/{ada}/merge/{twin}"))
        .await;
    assert!(review.contains("ada@example.com") && review.contains("ada.l@example.com"));
    assert!(
        review.contains("name=\"keep.email\""),
        "both differ: a choice"
    );
    assert!(
        review.contains("taken from the duplicate"),
        "phone only on the duplicate"
    );
    assert!(
        review.contains("1 identity, 1 conversation, 2 messages"),
        "{review}"
    );

    let response = merge_form(
        &supervisor,
        &ada,
        &twin,
        &app,
        &[("keep.email", "duplicate")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/customers/{ada}"));
    assert!(
        supervisor
            .page(&location(&response))
            .await
            .contains(&format!("Merged {twin} into this customer"))
    );

    let survivor = app.customer(&ada);
    assert_eq!(
        app.value_of(&ada, "email").as_deref(),
        Some("ada.l@example.com")
    );
    assert_eq!(
        app.value_of(&ada, "name").as_deref(),
        Some("Ada Lovelace"),
        "the survivor's by default"
    );
    assert_eq!(
        app.value_of(&ada, "phone").as_deref(),
        Some("+385912345678")
    );
    assert_eq!(
        app.value_of(&ada, "company").as_deref(),
        Some("Analytical Engines")
    );
    assert_eq!(survivor.conversations_count, 1);
    assert_eq!(survivor.messages_count, 2);
    assert_eq!(survivor.orders_count, 1);
    let identities = supervisor
        .page(&format!("/customers/{ada}/identities"))
        .await;
    assert!(identities.contains("+385912345678"));
    assert!(
        supervisor
            .page(&format!("/customers/{ada}/messages"))
            .await
            .contains("Where is my order?")
    );
    assert!(
        supervisor
            .page(&format!("/customers/{ada}/orders"))
            .await
            .contains("A-1")
    );

    // One History entry listing every field decision.
    let history = supervisor.page(&format!("/customers/{ada}/history")).await;
    assert_eq!(history.matches("into this customer").count(), 1);
    assert!(
        history.contains("E-mail: took the duplicate&#39;s (ada.l@example.com)"),
        "{history}"
    );
    assert!(history.contains("Name: kept this customer&#39;s (Ada Lovelace)"));
    assert!(history.contains("Undo merge"));

    // The old ID: pages redirect, the API answers with the survivor.
    let response = supervisor
        .get(&format!("/customers/{twin}/messages?x=1"))
        .await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        location(&response),
        format!("/customers/{ada}/messages?x=1")
    );
    let response = app
        .api(
            Method::GET,
            &format!("/api/v1/customers/{twin}"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["id"], json!(ada));
    assert_eq!(body["merged_into"], json!(ada));
    // A form posted to the old ID is not replayed on the survivor.
    let response = supervisor
        .post_form(&format!("/customers/{twin}/notes"), &[("body", "hi")])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The merged customer is in no list.
    let list = supervisor.page("/customers?period=all").await;
    assert!(list.contains(&ada) && !list.contains(&twin));
    assert!(
        supervisor
            .page("/customers?period=all&name=Ada+L.")
            .await
            .contains(&ada),
        "the survivor is found by its own name"
    );
}

#[tokio::test]
async fn a_merge_based_on_an_old_version_merges_nothing_and_shows_what_changed() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, twin) = pair(&app, &token).await;
    let supervisor = app.supervisor().await;
    let (sv, dv) = (app.version_of(&ada), app.version_of(&twin));
    // Someone edits the duplicate meanwhile.
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{twin}"),
            &token,
            Some(json!({"properties": {"city": "Zagreb"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = supervisor
        .post_form(
            &format!("/customers/{ada}/merge/{twin}"),
            &[
                ("survivor_version", &sv),
                ("duplicate_version", &dv),
                ("keep.email", "duplicate"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.expect("page");
    assert!(page.contains("Nothing was merged"));
    assert!(page.contains("Zagreb"), "what changed is shown");
    assert!(
        page.contains("value=\"duplicate\" checked"),
        "the reader's choice is kept"
    );
    assert_eq!(
        app.value_of(&ada, "email").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        app.customer(&twin).conversations_count,
        1,
        "the duplicate is intact"
    );
}

#[tokio::test]
async fn undo_restores_the_duplicate_and_keeps_later_edits_of_the_survivor() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, twin) = pair(&app, &token).await;
    let supervisor = app.supervisor().await;
    let response = merge_form(
        &supervisor,
        &ada,
        &twin,
        &app,
        &[("keep.email", "duplicate"), ("keep.name", "duplicate")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // After the merge, someone changes the name again; a new message arrives on the
    // identity that came from the duplicate.
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{ada}"),
            &token,
            Some(json!({"properties": {"name": "Augusta Ada King"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let merge_id = app.undoable_merge(&ada);
    let response = supervisor
        .post_form(&format!("/customers/{ada}/merges/{merge_id}/undo"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        supervisor
            .page(&location(&response))
            .await
            .contains(&format!("{twin} is back as it was"))
    );

    let restored = app.customer(&twin);
    assert_eq!(restored.conversations_count, 1);
    assert_eq!(restored.messages_count, 2);
    assert_eq!(restored.orders_count, 1);
    assert_eq!(
        app.value_of(&twin, "email").as_deref(),
        Some("ada.l@example.com")
    );
    assert_eq!(
        app.value_of(&twin, "phone").as_deref(),
        Some("+385912345678")
    );
    assert!(
        supervisor
            .page(&format!("/customers/{twin}/identities"))
            .await
            .contains("+385912345678")
    );
    let tags_of = |public_id: &str| {
        let id = app.customer(public_id).id;
        app.with_db(|conn| clientele::db::tags::list_customer_tags(conn, id).expect("tags"))
            .into_iter()
            .map(|t| (t.name, t.customers_count))
            .collect::<Vec<_>>()
    };
    assert_eq!(tags_of(&twin), [("VIP".to_owned(), 1)]);
    assert!(
        tags_of(&ada).is_empty(),
        "the tag the merge gave leaves again"
    );
    let survivor = app.customer(&ada);
    assert_eq!(survivor.conversations_count, 0);
    assert_eq!(survivor.orders_count, 0);
    assert_eq!(
        app.value_of(&ada, "email").as_deref(),
        Some("ada@example.com"),
        "the merge's value goes back"
    );
    assert_eq!(
        app.value_of(&ada, "name").as_deref(),
        Some("Augusta Ada King"),
        "a later edit stays"
    );
    assert_eq!(app.value_of(&ada, "phone"), None);
    // The old ID is the duplicate's own again.
    assert_eq!(
        supervisor.get(&format!("/customers/{twin}")).await.status(),
        StatusCode::OK
    );
    // Once.
    let response = supervisor
        .post_form(&format!("/customers/{ada}/merges/{merge_id}/undo"), &[])
        .await;
    assert!(
        supervisor
            .page(&location(&response))
            .await
            .contains("undone already")
    );
    assert!(
        !supervisor
            .page(&format!("/customers/{ada}/history"))
            .await
            .contains("Undo merge")
    );
}

#[tokio::test]
async fn a_merge_cannot_be_undone_after_thirty_days_or_once_the_survivor_is_anonymized() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, twin) = pair(&app, &token).await;
    let supervisor = app.supervisor().await;
    merge_form(&supervisor, &ada, &twin, &app, &[]).await;
    let survivor = app.customer(&ada).id;
    app.with_db(|conn| {
        use clientele::db::schema::customer_merges;
        use diesel::prelude::*;
        diesel::update(customer_merges::table)
            .set(
                customer_merges::merged_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::Duration::days(31)),
            )
            .execute(conn)
            .expect("aged");
        assert_eq!(
            clientele::services::merge::drop_expired_snapshots(conn).expect("swept"),
            1
        );
    });
    let merge_id = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::customer_merges::table
            .select(clientele::db::schema::customer_merges::id)
            .first::<i64>(conn)
            .expect("the merge")
    });
    let response = supervisor
        .post_form(&format!("/customers/{ada}/merges/{merge_id}/undo"), &[])
        .await;
    assert!(
        supervisor
            .page(&location(&response))
            .await
            .contains("can no longer be undone")
    );
    // The old ID still resolves after the snapshot is gone.
    assert_eq!(
        supervisor.get(&format!("/customers/{twin}")).await.status(),
        StatusCode::PERMANENT_REDIRECT
    );

    // Anonymizing a survivor drops the snapshot of a fresh merge too.
    let third = app.create_customer(&[("name", "Third"), ("email", "third@example.com")]);
    let response = merge_form(&supervisor, &ada, &third, &app, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "merged");
    assert_eq!(
        app.with_db(
            |conn| clientele::services::merge::undoable_into(conn, survivor)
                .expect("merges")
                .len()
        ),
        1
    );
    app.with_db(|conn| {
        clientele::services::erasure::anonymize(
            conn,
            survivor,
            &clientele::domain::customer::Actor::System,
        )
        .expect("anonymized")
    });
    assert!(app.with_db(|conn| {
        clientele::services::merge::undoable_into(conn, survivor)
            .expect("merges")
            .is_empty()
    }));
}

#[tokio::test]
async fn agents_merge_only_when_allowed_and_only_what_they_may_see() {
    let app = spawn_app().await;
    let ada = app.create_customer(&[("name", "Ada"), ("email", "ada@example.com")]);
    let twin = app.create_customer(&[("name", "Ada L."), ("email", "ADA@example.com")]);
    app.create_property("secret_score", "text", &[], "hidden");
    app.set_customers_page_for_agents(true);
    let agent = app.agent().await;
    assert_eq!(
        agent
            .get(&format!("/customers/{ada}/merge/{twin}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        !agent
            .page(&format!("/customers/{ada}/identities"))
            .await
            .contains("Review merge")
    );
    let response = merge_form(&agent, &ada, &twin, &app, &[]).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a crafted POST is refused too"
    );
    assert_eq!(
        agent.get("/customers/duplicates").await.status(),
        StatusCode::FORBIDDEN
    );

    app.with_db(|conn| {
        clientele::db::settings::upsert_setting(
            conn,
            clientele::db::types::Setting::AgentsMerge,
            "on",
        )
    })
    .expect("setting");
    assert!(
        agent
            .page(&format!("/customers/{ada}/identities"))
            .await
            .contains("Review merge")
    );
    let review = agent.page(&format!("/customers/{ada}/merge/{twin}")).await;
    assert!(!review.contains("secret_score"));
    let response = merge_form(
        &agent,
        &ada,
        &twin,
        &app,
        &[("keep.secret_score", "duplicate")],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a hidden property cannot be chosen"
    );
    let response = merge_form(&agent, &ada, &twin, &app, &[("keep.name", "duplicate")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.value_of(&ada, "name").as_deref(), Some("Ada L."));
    // Only supervisors undo.
    let history = agent.page(&format!("/customers/{ada}/history")).await;
    assert!(!history.contains("Undo merge"));
}

#[tokio::test]
async fn the_api_merges_with_choices_and_refuses_what_cannot_be_merged() {
    let app = spawn_app().await;
    let token = app.api_token("crm");
    let ada = app.create_customer(&[("name", "Ada"), ("email", "ada@example.com")]);
    let twin = app.create_customer(&[("name", "Ada L."), ("email", "ada.l@example.com")]);
    let path = format!("/api/v1/customers/{ada}/merge");
    let merge = |_survivor: String, body: serde_json::Value| {
        app.api(Method::POST, &path, &token, Some(body))
    };
    let response = merge(
        ada.clone(),
        json!({"duplicate": twin, "keep": {"email": "sometimes"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["fields"][0]["field"], json!("keep.email"), "{body}");
    let response = merge(ada.clone(), json!({"duplicate": ada})).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = merge(ada.clone(), json!({"duplicate": "C9999999"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = merge(
        ada.clone(),
        json!({"duplicate": twin, "survivor_version": 0}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "an old version");

    let response = merge(
        ada.clone(),
        json!({"duplicate": twin, "keep": {"email": "duplicate"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(
        body["properties"]["email"],
        json!("ada.l@example.com"),
        "{body}"
    );
    assert!(body["merge_id"].is_i64());
    let response = merge(ada.clone(), json!({"duplicate": twin})).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "merged away already"
    );

    let document: serde_json::Value = app
        .api(Method::GET, "/api/v1/openapi.json", &token, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert!(document["paths"]["/api/v1/customers/{id}/merge"]["post"].is_object());
}

#[tokio::test]
async fn a_blacklisted_duplicate_keeps_the_survivor_on_the_blacklist_until_the_undo() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, twin) = pair(&app, &token).await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(
            &format!("/customers/{twin}/blacklist"),
            &[("reason", "abusive messages")],
        )
        .await;
    let review = supervisor
        .page(&format!("/customers/{ada}/merge/{twin}"))
        .await;
    assert!(review.contains("id=\"merge-blacklist\""));
    let response = merge_form(&supervisor, &ada, &twin, &app, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let survivor = app.customer(&ada);
    assert!(survivor.blacklisted);
    assert_eq!(
        survivor.blacklist_reason.as_deref(),
        Some("abusive messages")
    );
    // A message from the duplicate's number opens no conversation.
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "again"}),
        )
        .await;
    assert_eq!(answer["blocked"], json!(true), "{answer}");

    let merge_id = app.undoable_merge(&survivor.public_id);
    // A second merge of the same duplicate finds nothing to merge.
    let third = app.create_customer(&[("name", "Third")]);
    let response = supervisor
        .get(&format!("/customers/{third}/merge/{twin}"))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "merged away: nothing to merge"
    );
    supervisor
        .post_form(&format!("/customers/{ada}/merges/{merge_id}/undo"), &[])
        .await;
    assert!(
        !app.customer(&ada).blacklisted,
        "the survivor's own state comes back"
    );
    assert!(app.customer(&twin).blacklisted);
}

#[tokio::test]
async fn two_merges_of_one_duplicate_at_once_make_one_merge() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ada, twin) = pair(&app, &token).await;
    let other = app.create_customer(&[("name", "Other")]);
    let ids = [app.customer(&ada).id, app.customer(&other).id];
    let duplicate = app.customer(&twin).id;
    let outcomes: Vec<bool> = std::thread::scope(|scope| {
        let runs: Vec<_> = ids
            .iter()
            .map(|survivor| {
                let app = &app;
                scope.spawn(move || {
                    app.with_db(|conn| {
                        clientele::services::merge::merge(
                            conn,
                            *survivor,
                            duplicate,
                            &clientele::services::merge::Choices::default(),
                            &clientele::domain::customer::Actor::System,
                            clientele::domain::Role::Supervisor,
                        )
                        .is_ok()
                    })
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("thread"))
            .collect()
    });
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    let winner = if outcomes[0] { &ada } else { &other };
    let loser = if outcomes[0] { &other } else { &ada };
    assert_eq!(app.customer(winner).messages_count, 2);
    assert_eq!(app.customer(loser).messages_count, 0);
    let merges: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::customer_merges::table
            .count()
            .get_result(conn)
            .expect("count")
    });
    assert_eq!(merges, 1);
}

#[tokio::test]
async fn multiple_choice_may_keep_both_sides_and_other_types_may_not() {
    let app = spawn_app().await;
    app.create_property(
        "interests",
        "multiple_choice",
        &["Music", "Travel", "Food"],
        "edit",
    );
    let token = app.api_token("crm");
    let ada = app.create_customer(&[("name", "Ada")]);
    let twin = app.create_customer(&[("name", "Ada L.")]);
    for (id, interests) in [
        (&ada, json!(["Music"])),
        (&twin, json!(["Travel", "Music"])),
    ] {
        let response = app
            .api(
                Method::PATCH,
                &format!("/api/v1/customers/{id}"),
                &token,
                Some(json!({"properties": {"interests": interests}})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let supervisor = app.supervisor().await;
    let review = supervisor
        .page(&format!("/customers/{ada}/merge/{twin}"))
        .await;
    assert!(review.contains("name=\"keep.interests\" value=\"both\""));
    assert!(!review.contains("name=\"keep.name\" value=\"both\""));
    let response = merge_form(&supervisor, &ada, &twin, &app, &[("keep.name", "both")]).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "only multiple choice"
    );
    let response = merge_form(
        &supervisor,
        &ada,
        &twin,
        &app,
        &[("keep.interests", "both")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.value_of(&ada, "interests").as_deref(),
        Some("Music, Travel")
    );
}
