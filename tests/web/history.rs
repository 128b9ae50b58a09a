//! History: every change recorded with who, when, old and new; supervisors revert.

use reqwest::StatusCode;

use crate::helpers::spawn_app;

fn latest_event_id(app: &crate::helpers::TestApp, public_id: &str) -> i64 {
    app.with_db(|conn| {
        let customer = clientele::db::customers::find_customer_by_public_id(conn, public_id)
            .expect("query")
            .expect("customer");
        clientele::db::events::list_events(conn, customer.id, 1).expect("events")[0]
            .id
            .0
    })
}

#[tokio::test]
async fn a_property_change_is_recorded_and_a_supervisor_reverts_it() {
    let app = spawn_app().await;
    app.create_property(
        "tier",
        "single_choice",
        &["Bronze", "Silver", "Gold"],
        "edit",
    );
    let customer = app.create_customer(&[("name", "Ada"), ("tier", "Bronze")]);
    let supervisor = app.supervisor().await;
    let version = app.version_of(&customer);
    supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_tier", "Gold")],
        )
        .await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("Changed tier label"));
    assert!(history.contains("sam.supervisor display"));
    assert!(history.contains(">Bronze<") && history.contains(">Gold<"));

    let event = latest_event_id(&app, &customer);
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/history/{event}/revert"),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.value_of(&customer, "tier").as_deref(), Some("Bronze"));
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("The change was reverted."));
    assert!(
        history.contains(">revert<"),
        "the revert is itself recorded"
    );

    // The same change cannot be reverted twice.
    supervisor
        .post_form(
            &format!("/customers/{customer}/history/{event}/revert"),
            &[],
        )
        .await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("already been reverted"));
    assert_eq!(app.value_of(&customer, "tier").as_deref(), Some("Bronze"));
}

#[tokio::test]
async fn a_revert_to_a_choice_that_no_longer_exists_is_refused() {
    let app = spawn_app().await;
    let property = app.create_property("tier", "single_choice", &["Bronze", "Gold"], "edit");
    let customer = app.create_customer(&[("tier", "Bronze")]);
    let supervisor = app.supervisor().await;
    let version = app.version_of(&customer);
    supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_tier", "Gold")],
        )
        .await;
    let event = latest_event_id(&app, &customer);
    supervisor
        .post_form(
            &format!("/settings/properties/{property}"),
            &[
                ("label", "Tier"),
                ("value_type", "single_choice"),
                ("choices", "Gold"),
                ("agent_access", "edit"),
                ("customer_access", "hidden"),
            ],
        )
        .await;
    supervisor
        .post_form(
            &format!("/customers/{customer}/history/{event}/revert"),
            &[],
        )
        .await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("no longer valid"));
    assert_eq!(app.value_of(&customer, "tier").as_deref(), Some("Gold"));
}

#[tokio::test]
async fn lifecycle_changes_are_recorded_and_revertible() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let supervisor = app.supervisor().await;
    let version = app.version_of(&customer);
    supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("lifecycle", "at_risk")],
        )
        .await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("Changed lifecycle stage") && history.contains("At Risk"));
    let event = latest_event_id(&app, &customer);
    supervisor
        .post_form(
            &format!("/customers/{customer}/history/{event}/revert"),
            &[],
        )
        .await;
    let stage = app.with_db(|conn| {
        clientele::db::customers::find_customer_by_public_id(conn, &customer)
            .unwrap()
            .unwrap()
            .lifecycle
    });
    assert_eq!(stage, "prospect");
}

#[tokio::test]
async fn agents_cannot_revert() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    let customer = app.create_customer(&[("name", "Ada")]);
    let agent = app.agent().await;
    let version = app.version_of(&customer);
    agent
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_name", "Ada K")],
        )
        .await;
    let event = latest_event_id(&app, &customer);
    assert!(
        !agent
            .page(&format!("/customers/{customer}/history"))
            .await
            .contains("/revert")
    );
    let response = agent
        .post_form(
            &format!("/customers/{customer}/history/{event}/revert"),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.value_of(&customer, "name").as_deref(), Some("Ada K"));
}

#[tokio::test]
async fn history_says_which_identity_and_value_with_each_revert_inside_its_entry() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada"), ("email", "ada@example.com")]);
    let id = app.customer(&customer).id;
    app.with_db(|conn| {
        clientele::services::conversations::add_identity(
            conn,
            id,
            "whatsapp",
            "+385911234567",
            &clientele::domain::customer::Actor::System,
            &clientele::domain::scope::Scope::Everything,
        )
    })
    .expect("identity added");
    let supervisor = app.supervisor().await;
    let version = app.version_of(&customer);
    supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_email", "ada@example.org")],
        )
        .await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(
        history.contains("Linked the identity WhatsApp +385911234567"),
        "{history}"
    );
    // The change's entry holds its values and its Revert.
    let event = latest_event_id(&app, &customer);
    let start = history
        .find(&format!("id=\"event-{event}\""))
        .expect("the entry");
    let entry = &history[start..start + history[start..].find("</li>").expect("its end")];
    assert!(entry.contains("<del>ada@example.com</del>"), "{entry}");
    assert!(entry.contains("<ins>ada@example.org</ins>"), "{entry}");
    assert!(
        entry.contains(&format!("/history/{event}/revert")),
        "{entry}"
    );

    // The profile's actions come before its long form.
    let profile = supervisor
        .page(&format!("/customers/{customer}/profile"))
        .await;
    let bar = profile
        .find("class=\"action-bar\"")
        .expect("the action bar");
    let form = profile
        .find(&format!("action=\"/customers/{customer}/profile\""))
        .expect("the form");
    assert!(bar < form);
    for action in [
        "/contact\"",
        "/send-link\"",
        "/blacklist\"",
        "/lock\"",
        "/export.json\"",
    ] {
        let at = profile.find(action).expect(action);
        assert!(bar < at && at < form, "{action} is in the bar");
    }
}
