//! Settings → Customer properties: the registry, its rules, and what it refuses.

use reqwest::StatusCode;

use crate::helpers::{location, spawn_app};

fn property_form<'a>(
    key: &'a str,
    label: &'a str,
    ty: &'a str,
    choices: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("key", key),
        ("label", label),
        ("value_type", ty),
        ("choices", choices),
        ("agent_access", "edit"),
        ("customer_access", "hidden"),
        ("position", ""),
    ]
}

#[tokio::test]
async fn a_supervisor_builds_a_customer_model_with_every_type() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let model = [
        ("lucky_number", "Lucky number", "number", ""),
        ("postal_address", "Postal address", "text", ""),
        ("class_of", "Class of", "word", ""),
        (
            "favourite_color",
            "Favourite colour",
            "single_choice",
            "red\nblue\ngreen",
        ),
        (
            "interests",
            "Interests",
            "multiple_choice",
            "Sports\nMusic\nTravel",
        ),
        ("home", "Home", "location", ""),
        ("birthday", "Birthday", "date", ""),
        ("best_time", "Best time to call", "time", ""),
    ];
    for (key, label, ty, choices) in model {
        let response = supervisor
            .post_form(
                "/settings/properties",
                &property_form(key, label, ty, choices),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{key}");
    }
    let list = supervisor.page("/settings/properties").await;
    for (key, label, ..) in model {
        assert!(
            list.contains(key) && list.contains(label),
            "{key} is listed"
        );
    }
    // Standard and computed properties are listed too.
    assert!(list.contains(">nickname<") && list.contains(">orders_count<"));

    let customer = app.create_customer(&[("name", "Ada Lovelace")]);
    let version = app.version_of(&customer);
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[
                ("version", &version),
                ("p_lucky_number", "3.1415926"),
                (
                    "p_postal_address",
                    "Champ de Mars, 5 Av. Anatole France, 75007 Paris",
                ),
                ("p_class_of", "ClassOf2023"),
                ("p_favourite_color", "blue"),
                ("p_interests", ""),
                ("p_interests", "Music"),
                ("p_interests", "Travel"),
                ("p_home", "Champ de Mars, Paris"),
                ("p_home__lat", "48.8584"),
                ("p_home__lng", "2.2945"),
                ("p_birthday", "1990-12-10"),
                ("p_best_time", "09:30"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.value_of(&customer, "lucky_number").as_deref(),
        Some("3.1415926")
    );
    assert_eq!(
        app.value_of(&customer, "interests").as_deref(),
        Some("Music, Travel")
    );
    assert_eq!(
        app.value_of(&customer, "best_time").as_deref(),
        Some("09:30")
    );
    let profile = supervisor
        .page(&format!("/customers/{customer}/profile"))
        .await;
    assert!(
        profile.contains("openstreetmap.org/?mlat=48.8584"),
        "a location links to a map"
    );
    assert!(profile.contains("Saved 8 changes.") || profile.contains("Saved"));
}

#[tokio::test]
async fn technical_names_are_checked_and_unique() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            "/settings/properties",
            &property_form("loyalty tier", "Loyalty", "text", ""),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("cannot contain spaces"));
    assert!(
        html.contains("value=\"loyalty tier\""),
        "what was typed stays"
    );

    let response = supervisor
        .post_form(
            "/settings/properties",
            &property_form("LoyaltyTier", "Loyalty", "text", ""),
        )
        .await;
    assert!(response.text().await.unwrap().contains("lower-case"));

    supervisor
        .post_form(
            "/settings/properties",
            &property_form("tier", "Tier", "text", ""),
        )
        .await;
    let response = supervisor
        .post_form(
            "/settings/properties",
            &property_form("tier", "Tier again", "text", ""),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This technical name is taken")
    );
    // A standard property's name is taken too.
    let response = supervisor
        .post_form(
            "/settings/properties",
            &property_form("email", "Mail", "text", ""),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = supervisor
        .post_form(
            "/settings/properties",
            &property_form("size", "Size", "single_choice", "  \n"),
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Enter at least one choice")
    );
    let response = supervisor
        .post_form(
            "/settings/properties",
            &property_form("label_long", &"L".repeat(81), "text", ""),
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("at most 80 characters")
    );
}

#[tokio::test]
async fn a_type_change_or_removed_choice_in_use_is_refused_with_a_count() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let id = app.create_property(
        "tier",
        "single_choice",
        &["Bronze", "Silver", "Gold"],
        "edit",
    );
    app.create_customer(&[("tier", "Silver")]);
    app.create_customer(&[("tier", "Silver")]);
    app.create_customer(&[("tier", "Gold")]);
    let edit = |ty: &'static str, choices: &'static str| {
        vec![
            ("label", "Loyalty tier"),
            ("value_type", ty),
            ("choices", choices),
            ("agent_access", "edit"),
            ("customer_access", "hidden"),
            ("position", "200"),
        ]
    };
    let path = format!("/settings/properties/{id}");
    let response = supervisor.post_form(&path, &edit("text", "")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("3 customers hold a value of this property")
    );

    let response = supervisor
        .post_form(&path, &edit("single_choice", "Bronze\nGold"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("2 customers hold the choice"), "{html}");
    assert!(html.contains("Silver"));

    // Renaming the label and adding a choice are always allowed; removing an unused one too.
    let response = supervisor
        .post_form(&path, &edit("single_choice", "Silver\nGold\nPlatinum"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let list = supervisor.page("/settings/properties").await;
    assert!(list.contains("Loyalty tier"));
}

#[tokio::test]
async fn removing_a_used_choice_names_the_choice_and_count() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let id = app.create_property("tier", "multiple_choice", &["Bronze", "Silver"], "edit");
    app.create_customer(&[("tier", "Silver")]);
    let response = supervisor
        .post_form(
            &format!("/settings/properties/{id}"),
            &[
                ("label", "Tier"),
                ("value_type", "multiple_choice"),
                ("choices", "Bronze"),
                ("agent_access", "edit"),
                ("customer_access", "hidden"),
                ("position", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("1 customer holds the choice"), "{html}");
    assert!(html.contains("Silver"));
}

#[tokio::test]
async fn deleting_a_custom_property_asks_first_and_is_recorded() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let id = app.create_property("shoe_size", "number", &[], "edit");
    let customer = app.create_customer(&[("shoe_size", "42")]);
    let confirm = supervisor
        .page(&format!("/settings/properties/{id}/delete"))
        .await;
    assert!(confirm.contains("1 customer"));
    let response = supervisor
        .post_form(&format!("/settings/properties/{id}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/settings/properties");
    assert_eq!(app.value_of(&customer, "shoe_size"), None);
    let audit = app
        .with_db(|conn| clientele::db::audit::list_audit(conn, &Default::default(), 10).unwrap());
    assert!(
        audit
            .iter()
            .any(|a| a.action == "property_deleted" && a.subject == "shoe_size")
    );
}

#[tokio::test]
async fn standard_and_computed_properties_cannot_be_deleted_or_retyped() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let properties = app.with_db(|conn| clientele::db::properties::list_properties(conn).unwrap());
    let email = properties.iter().find(|p| p.key == "email").unwrap().id;
    let orders = properties
        .iter()
        .find(|p| p.key == "orders_count")
        .unwrap()
        .id;
    let response = supervisor
        .post_form(&format!("/settings/properties/{email}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = supervisor
        .post_form(
            &format!("/settings/properties/{email}"),
            &[
                ("label", "Work e-mail"),
                ("value_type", "number"),
                ("agent_access", "view"),
                ("customer_access", "edit"),
                ("position", "20"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let email = app.with_db(|conn| clientele::db::properties::get_property(conn, email).unwrap());
    assert_eq!(email.label, "Work e-mail");
    assert_eq!(
        email.ty.as_str(),
        "email",
        "a standard property keeps its type"
    );
    let response = supervisor
        .post_form(
            &format!("/settings/properties/{orders}"),
            &[
                ("label", "Orders"),
                ("agent_access", "edit"),
                ("customer_access", "hidden"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Computed properties are read-only")
    );
}

#[tokio::test]
async fn agents_cannot_manage_properties_tags_or_features() {
    let app = spawn_app().await;
    let agent = app.agent().await;
    let id = app.create_property("tier", "text", &[], "edit");
    for path in [
        "/settings/properties",
        "/settings/properties/new",
        "/settings/tags",
        "/settings/features",
    ] {
        assert_eq!(
            agent.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    for path in [
        "/settings/properties".to_owned(),
        format!("/settings/properties/{id}"),
        format!("/settings/properties/{id}/delete"),
        "/settings/tags".to_owned(),
        "/settings/features".to_owned(),
    ] {
        let response = agent
            .post_form(
                &path,
                &[
                    ("key", "x"),
                    ("label", "x"),
                    ("name", "x"),
                    ("customers_page_for_agents", "on"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    assert!(app.with_db(|conn| {
        clientele::db::properties::get_property(conn, clientele::db::types::PropertyId(id)).is_ok()
    }));
    assert!(!app.with_db(|conn| {
        clientele::db::settings::is_enabled(
            conn,
            clientele::db::types::Setting::CustomersPageForAgents,
        )
        .unwrap()
    }));
}

#[tokio::test]
async fn a_computed_property_is_offered_read_only_without_choices() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let id = app.with_db(|conn| {
        clientele::db::properties::list_properties(conn)
            .expect("registry")
            .into_iter()
            .find(|p| p.key == "orders_count")
            .expect("a computed property")
            .id
            .0
    });
    let html = supervisor.page(&format!("/settings/properties/{id}")).await;
    assert!(html.contains("id=\"computed-hint\""));
    assert!(!html.contains("value=\"edit\""), "no way to offer editing");
    assert!(!html.contains("id=\"choices\""), "no choices for a number");
    // A custom property's page still offers both.
    let html = supervisor.page("/settings/properties/new").await;
    assert!(html.contains("value=\"edit\"") && html.contains("id=\"choices\""));
}
