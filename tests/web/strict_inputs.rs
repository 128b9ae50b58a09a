//! Text enters the same on both databases: control characters other than tab and newline
//! are left out of every form and API body, so a NUL never answers 500 (PostgreSQL cannot
//! store it) nor is stored (SQLite can).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_nul_or_a_bell_in_an_api_message_is_left_out_and_nothing_fails() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let answer = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "4242", "display_name": "Ada\u{0}",
                   "text": "hello\u{0} there\u{7}", "message_id": "m-1\u{0}"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("stored");
    let (body, name): (String, Option<String>) = app.with_db(|conn| {
        let messages = clientele::db::conversations::list_messages_of(
            conn,
            &[clientele::db::types::ConversationId(conversation)],
        )
        .expect("messages");
        let identity = clientele::db::identities::find_identity(conn, "telegram", "4242")
            .expect("a read")
            .expect("the identity");
        (messages[0].body.clone(), identity.display_name)
    });
    assert_eq!(body, "hello there");
    assert_eq!(name.as_deref(), Some("Ada"));
    // The same message again (its id cleaned the same way) is not stored twice.
    let again = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "4242", "text": "hello there", "message_id": "m-1"}),
        )
        .await;
    assert_eq!(again["conversation_id"].as_i64(), Some(conversation));
}

#[tokio::test]
async fn control_characters_typed_in_forms_are_left_out_on_both_databases() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/notes"),
            &[("body", "call back\u{0} tomorrow\r\nafter 10")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let notes = app.with_db(|conn| {
        clientele::db::notes::list_latest_notes(conn, app.customer(&customer).id, 1).expect("notes")
    });
    assert_eq!(notes[0].body, "call back tomorrow\nafter 10");
    let version = app.version_of(&customer);
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_name", "Ada\u{0}\u{1b} Lovelace")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.customer(&customer).name.as_deref(),
        Some("Ada Lovelace")
    );
    // The sign-in form too: a NUL in the username is a wrong username, not a 500.
    let response = app
        .browser()
        .post_form(
            "/login",
            &[("username", "sam\u{0}.supervisor"), ("password", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_profile_or_card_save_without_its_version_is_refused_and_undoes_nothing() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada"), ("city", "London")]);
    let supervisor = app.supervisor().await;
    for version in [None, Some(""), Some("seven")] {
        let mut fields = vec![("p_city", "Paris")];
        if let Some(v) = version {
            fields.push(("version", v));
        }
        let response = supervisor
            .post_form(&format!("/customers/{customer}/profile"), &fields)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{version:?}"
        );
        let page = response.text().await.expect("the page");
        assert!(page.contains("id=\"form-error\""), "{version:?}");
        assert!(page.contains("value=\"Paris\""), "what was typed stays");
        assert!(
            page.contains(&format!(
                "name=\"version\" value=\"{}\"",
                app.version_of(&customer)
            )),
            "the form carries the current version for the next save"
        );
    }
    assert_eq!(app.value_of(&customer, "city").as_deref(), Some("London"));

    // The card beside a conversation: the same.
    let token = app.api_token("gateway");
    let id = app.customer(&customer).id;
    app.with_db(|conn| {
        clientele::services::conversations::add_identity(
            conn,
            id,
            "telegram",
            "777",
            &clientele::domain::customer::Actor::System,
            &clientele::domain::scope::Scope::Everything,
        )
    })
    .expect("identity");
    let answer = app
        .inbound(
            &token,
            json!({"channel": "telegram", "external_id": "777", "text": "hi"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    let response = supervisor
        .post_form(
            &format!("/conversations/{conversation}/card"),
            &[("p_city", "Rome")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .expect("page")
            .contains("id=\"form-error\"")
    );
    assert_eq!(app.value_of(&customer, "city").as_deref(), Some("London"));
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by scripts/test with --ignored postgres_only"]
async fn postgres_only_a_conflict_carries_the_version_of_the_save_that_won_meanwhile() {
    use clientele::domain::customer::Actor;
    use clientele::services::profiles::{EditOutcome, Editor, ProfileEdit};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    crate::helpers::require_backend(true);
    let app = spawn_app().await;
    let public_id = app.create_customer(&[("name", "Raced")]);
    let customer = app.customer(&public_id);
    let seen = customer.version;

    // A colleague's save holds the row, not yet committed, when this save reads it.
    let mut colleague = diesel::PgConnection::establish(&app.database_url()).expect("connects");
    colleague
        .batch_execute(&format!(
            "BEGIN; UPDATE customers SET version = version + 1 WHERE id = {}",
            customer.id.0
        ))
        .expect("the colleague's save begins");
    let pool = app.pool.clone();
    let saving = std::thread::spawn(move || {
        let mut conn = pool.get().expect("a connection");
        let registry = clientele::db::properties::list_properties(&mut conn).expect("registry");
        let edit = ProfileEdit {
            values: vec![(
                "name".to_owned(),
                clientele::domain::property::RawValue::One("Mine".to_owned()),
            )],
            lifecycle: None,
        };
        clientele::services::profiles::edit_customer(
            &mut conn,
            customer.id,
            &registry,
            Some(seen),
            &Actor::System,
            Editor::Staff(clientele::domain::Role::Supervisor),
            &edit,
        )
        .expect("answered")
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    colleague
        .batch_execute("COMMIT")
        .expect("the colleague's save commits");
    match saving.join().expect("the save ran") {
        EditOutcome::Conflict {
            current_version, ..
        } => assert_eq!(
            current_version,
            seen + 1,
            "the form comes back with the version that won, so saving again works"
        ),
        EditOutcome::Saved(_) => panic!("a save based on an old version went through"),
    }
}
