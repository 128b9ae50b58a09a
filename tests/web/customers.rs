//! Customer profiles: creating, editing, validation on every field, access by role, the
//! feature toggle, concurrent edits, tags, notes and lifecycle.

use clientele::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{location, spawn_app};

#[tokio::test]
async fn a_supervisor_creates_a_customer_whose_id_is_shown_and_never_editable() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            "/customers",
            &[
                ("p_name", "Ada Lovelace"),
                ("p_email", "Ada@Example.com"),
                ("p_phone", "+1 (555) 123-4567"),
                ("p_country", "GB"),
                ("p_language", "en"),
                ("lifecycle", "vip"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(&response);
    let public_id = target
        .trim_start_matches("/customers/")
        .trim_end_matches("/profile")
        .to_owned();
    assert!(public_id.starts_with('C'));
    let profile = supervisor.page(&target).await;
    assert!(profile.contains(&format!("id=\"customer-id\">{public_id}<")));
    assert!(
        !profile.contains("name=\"p_public_id\""),
        "the ID is not a form field"
    );
    assert_eq!(
        app.value_of(&public_id, "email").as_deref(),
        Some("Ada@example.com")
    );
    assert_eq!(
        app.value_of(&public_id, "phone").as_deref(),
        Some("+15551234567")
    );
    assert!(profile.contains("VIP"));
    let list = supervisor.page("/customers").await;
    assert!(list.contains("Ada Lovelace") && list.contains(&public_id));

    // A crafted attempt to change the ID is refused.
    let version = app.version_of(&public_id);
    let response = supervisor
        .post_form(
            &format!("/customers/{public_id}/profile"),
            &[("version", &version), ("p_public_id", "C9999999")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn customer_ids_are_never_reused() {
    let app = spawn_app().await;
    let first = app.create_customer(&[("name", "One")]);
    app.with_db(|conn| {
        use diesel::prelude::*;
        diesel::delete(
            clientele::db::schema::customers::table
                .filter(clientele::db::schema::customers::public_id.eq(&first)),
        )
        .execute(conn)
        .unwrap();
    });
    let second = app.create_customer(&[("name", "Two")]);
    assert_ne!(first, second);
}

#[tokio::test]
async fn every_refused_value_is_named_at_its_field_and_what_was_typed_stays() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    app.create_property("amount", "number", &[], "edit");
    app.create_property("nick", "word", &[], "edit");
    app.create_property("call_at", "time", &[], "edit");
    app.create_property("call_at_2", "time", &[], "edit");
    app.create_property("born", "date", &[], "edit");
    app.create_property("tier", "single_choice", &["Bronze", "Gold"], "edit");
    app.create_property("home", "location", &[], "edit");
    app.create_property("bio", "text", &[], "edit");
    let customer = app.create_customer(&[("name", "Before"), ("amount", "1")]);
    let version = app.version_of(&customer);
    let long_text = "x".repeat(2001);
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[
                ("version", &version),
                ("p_name", "After"),
                ("p_amount", "12,5abc"),
                ("p_nick", "two words"),
                ("p_call_at", "25:61"),
                ("p_call_at_2", "10:30:15"),
                ("p_born", "2026-02-30"),
                ("p_tier", "Platinum"),
                ("p_home", "North Pole"),
                ("p_home__lat", "91"),
                ("p_home__lng", "0"),
                ("p_phone", "call me maybe"),
                ("p_email", "a@b"),
                ("p_bio", &long_text),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    for (field, message) in [
        ("p_amount", "Enter a number"),
        ("p_nick", "no spaces"),
        ("p_call_at", "between 00:00 and 23:59"),
        ("p_call_at_2", "without seconds"),
        ("p_born", "Enter a real date"),
        ("p_tier", "is not one of the choices"),
        ("p_home", "between -90 and 90"),
        ("p_phone", "international form"),
        ("p_email", "Enter an e-mail address"),
        ("p_bio", "at most 2000 characters"),
    ] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field} has its own message"
        );
        assert!(html.contains(message), "{field}: {message}");
    }
    for typed in [
        "value=\"12,5abc\"",
        "value=\"two words\"",
        "value=\"2026-02-30\"",
        "value=\"a@b\"",
        "value=\"91\"",
    ] {
        assert!(html.contains(typed), "{typed} is kept in the form");
    }
    // Nothing was saved, not even the valid name.
    assert_eq!(app.value_of(&customer, "name").as_deref(), Some("Before"));
    assert_eq!(app.value_of(&customer, "amount").as_deref(), Some("1"));
}

#[tokio::test]
async fn the_customers_page_is_closed_to_agents_until_a_supervisor_opens_it() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let agent = app.agent().await;
    assert!(!agent.page("/").await.contains("href=\"/customers\""));
    for path in [
        "/customers".to_owned(),
        "/customers/new".to_owned(),
        format!("/customers/{customer}"),
        format!("/customers/{customer}/profile"),
        format!("/customers/{customer}/history"),
    ] {
        assert_eq!(
            agent.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let version = app.version_of(&customer);
    let response = agent
        .post_form(
            &format!("/customers/{customer}/profile"),
            &[("version", &version), ("p_name", "Hacked")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.value_of(&customer, "name").as_deref(), Some("Ada"));

    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form("/settings/features", &[("customers_page_for_agents", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(agent.page("/").await.contains("href=\"/customers\""));
    assert!(agent.page("/customers?whose=all").await.contains("Ada"));

    supervisor.post_form("/settings/features", &[]).await;
    assert_eq!(
        agent.get("/customers").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn agents_see_and_change_exactly_what_their_access_allows() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    app.create_property("secret_score", "number", &[], "hidden");
    app.create_property("account_tier", "word", &[], "view");
    app.create_property("favourite_drink", "text", &[], "edit");
    let customer = app.create_customer(&[
        ("name", "Ada"),
        ("secret_score", "9876"),
        ("account_tier", "Gold"),
        ("favourite_drink", "Tea"),
    ]);
    let agent = app.agent().await;
    let profile = agent.page(&format!("/customers/{customer}/profile")).await;
    assert!(
        !profile.contains("secret_score") && !profile.contains("9876"),
        "hidden never reaches agents"
    );
    assert!(profile.contains("account_tier label") && profile.contains("Gold"));
    assert!(
        !profile.contains("name=\"p_account_tier\""),
        "view-only has no input"
    );
    assert!(profile.contains("name=\"p_favourite_drink\""));

    let path = format!("/customers/{customer}/profile");
    let version = app.version_of(&customer);
    let response = agent
        .post_form(
            &path,
            &[("version", &version), ("p_favourite_drink", "Coffee")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.value_of(&customer, "favourite_drink").as_deref(),
        Some("Coffee")
    );

    for (field, value) in [
        ("p_account_tier", "Platinum"),
        ("p_secret_score", "1"),
        ("p_orders_count", "5"),
        ("p_no_such", "x"),
    ] {
        let version = app.version_of(&customer);
        let response = agent
            .post_form(&path, &[("version", &version), (field, value)])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{field}");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("secret_score"),
            "the refusal does not name hidden properties"
        );
    }
    assert_eq!(
        app.value_of(&customer, "account_tier").as_deref(),
        Some("Gold")
    );
    assert_eq!(
        app.value_of(&customer, "secret_score").as_deref(),
        Some("9876")
    );

    // History shows agents no trace of hidden properties; supervisors see everything.
    let history = agent.page(&format!("/customers/{customer}/history")).await;
    assert!(history.contains("favourite_drink label"));
    assert!(!history.contains("secret_score") && !history.contains("9876"));
    let supervisor = app.supervisor().await;
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("secret_score label") && history.contains("9876"));
}

#[tokio::test]
async fn a_concurrent_edit_is_not_applied_and_keeps_what_the_user_typed() {
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Ada"), ("city", "London")]);
    let first = app.supervisor().await;
    app.create_user("second.sup", Role::Supervisor);
    let second = app.browser();
    second.sign_in("second.sup", crate::helpers::PASSWORD).await;
    let path = format!("/customers/{customer}/profile");
    let opened_at = app.version_of(&customer);

    let response = first
        .post_form(
            &path,
            &[
                ("version", &opened_at),
                ("p_name", "Ada King"),
                ("p_city", "London"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let response = second
        .post_form(
            &path,
            &[
                ("version", &opened_at),
                ("p_name", "Ada"),
                ("p_city", "Paris"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(html.contains("Someone else saved this customer"));
    assert!(
        html.contains("Changed Name") && html.contains("Ada King"),
        "it shows what changed"
    );
    assert!(
        html.contains("value=\"Paris\""),
        "what this user typed stays"
    );
    assert_eq!(app.value_of(&customer, "name").as_deref(), Some("Ada King"));
    assert_eq!(app.value_of(&customer, "city").as_deref(), Some("London"));

    // Re-applying from the refreshed form (new version) works.
    let current = app.version_of(&customer);
    assert!(html.contains(&format!("name=\"version\" value=\"{current}\"")));
    let response = second
        .post_form(
            &path,
            &[
                ("version", &current),
                ("p_name", "Ada King"),
                ("p_city", "Paris"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.value_of(&customer, "city").as_deref(), Some("Paris"));
    assert_eq!(app.value_of(&customer, "name").as_deref(), Some("Ada King"));
}

#[tokio::test]
async fn tags_are_managed_by_supervisors_and_put_on_customers_by_staff() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form("/settings/tags", &[("name", "VIP"), ("color", "#c0352b")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = supervisor
        .post_form("/settings/tags", &[("name", "vip"), ("color", "#2456d6")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("A tag with this name exists already.")
    );

    let tag = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap())[0].id;
    let customer = app.create_customer(&[("name", "Ada")]);
    app.set_customers_page_for_agents(true);
    let agent = app.agent().await;
    let response = agent
        .post_form(
            &format!("/customers/{customer}/tags"),
            &[("tag_id", &tag.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = agent.page(&format!("/customers/{customer}/tags")).await;
    assert!(page.contains("tag-red\">VIP<"));
    assert_eq!(
        app.with_db(|conn| clientele::db::tags::get_tag(conn, tag).unwrap())
            .customers_count,
        1
    );
    assert!(
        agent
            .page(&format!("/customers/{customer}/history"))
            .await
            .contains("Added tag VIP")
    );

    let response = agent
        .post_form(&format!("/customers/{customer}/tags/{tag}/remove"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.with_db(|conn| clientele::db::tags::get_tag(conn, tag).unwrap())
            .customers_count,
        0
    );
    assert!(
        agent
            .page(&format!("/customers/{customer}/history"))
            .await
            .contains("Removed tag VIP")
    );
}

#[tokio::test]
async fn notes_appear_on_the_summary_with_their_author() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/notes"),
            &[("body", "Prefers <b>e-mail</b> after 6 pm")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let summary = supervisor.page(&format!("/customers/{customer}")).await;
    assert!(
        summary.contains("Prefers &#60;b&#62;e-mail&#60;/b&#62; after 6 pm")
            || summary.contains("Prefers &lt;b&gt;"),
        "escaped"
    );
    assert!(summary.contains("sam.supervisor display"));
    let response = supervisor
        .post_form(&format!("/customers/{customer}/notes"), &[("body", "   ")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Write something"));
}

#[tokio::test]
async fn an_unknown_customer_is_a_404_page() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor.get("/customers/C9999999/profile").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_profile_tab_has_a_plain_title_and_one_main_landmark() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let customer = app.create_customer(&[("name", "Ada")]);
    for tab in [
        "",
        "/profile",
        "/conversations",
        "/messages",
        "/interactions",
        "/identities",
        "/orders",
        "/tags",
        "/history",
    ] {
        let html = supervisor
            .page(&format!("/customers/{customer}{tab}"))
            .await;
        let title = &html[html.find("<title>").unwrap() + 7..html.find("</title>").unwrap()];
        assert!(
            !title.contains('<') && title.contains("Ada"),
            "{tab}: {title}"
        );
        assert_eq!(html.matches("<main").count(), 1, "{tab}");
    }
}

#[tokio::test]
async fn a_supervisor_renames_and_recolours_a_tag() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form("/settings/tags", &[("name", "Gold"), ("color", "#9a6200")])
        .await;
    let tag = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap())[0].id;
    assert!(
        supervisor
            .page("/settings/tags")
            .await
            .contains(&format!("id=\"color-{tag}\""))
    );
    let response = supervisor
        .post_form(
            &format!("/settings/tags/{tag}"),
            &[("name", "Gold members"), ("color", "#7a3db8")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let saved = app.with_db(|conn| clientele::db::tags::get_tag(conn, tag).unwrap());
    assert_eq!(
        (saved.name.as_str(), saved.color.as_str()),
        ("Gold members", "#7a3db8")
    );
    let response = supervisor
        .post_form(
            &format!("/settings/tags/{tag}"),
            &[("name", "Gold members"), ("color", "#000000")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
