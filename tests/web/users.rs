//! Settings → Users: what supervisors can do, and that agents can do none of it.

use clientele::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{location, spawn_app};

#[tokio::test]
async fn a_supervisor_creates_an_agent_who_appears_in_the_list() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            "/settings/users",
            &[
                ("username", "Lea.Novak"),
                ("display_name", "Lea Novak"),
                ("role", "agent"),
                ("time_zone", ""),
                ("password", "temporary-pass-1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/settings/users");
    let list = supervisor.page("/settings/users").await;
    assert!(
        list.contains("Created lea.novak (Agent)."),
        "a flash confirms it"
    );
    assert!(list.contains("Lea Novak"));
    assert!(list.contains("Password pending"));
}

#[tokio::test]
async fn a_refused_new_user_form_keeps_what_was_typed_and_names_each_field() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    app.create_user("taken.name", Role::Agent);
    let response = supervisor
        .post_form(
            "/settings/users",
            &[
                ("username", "two words"),
                ("display_name", "Kept <Name>"),
                ("role", "admin"),
                ("time_zone", "Mars/Base"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("value=\"two words\""));
    assert!(
        html.contains("value=\"Kept &#60;Name&#62;\"")
            || html.contains("value=\"Kept &lt;Name&gt;\"")
    );
    assert!(html.contains("A username uses only letters"));
    assert!(html.contains("Choose agent or supervisor."));
    assert!(html.contains("Use a time zone name"));
    assert!(html.contains("A password has at least 10 characters."));

    let response = supervisor
        .post_form(
            "/settings/users",
            &[
                ("username", "TAKEN.name"),
                ("display_name", ""),
                ("role", "agent"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("This username is taken."));
    assert!(
        html.contains("name=\"password\" type=\"text\" value=\"long enough pass\""),
        "the temporary password typed is kept"
    );
    assert!(html.contains("data-generate-password=\"password\""));
}

#[tokio::test]
async fn a_supervisor_changes_a_role_and_cannot_demote_themselves() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let agent_id = app.create_user("ana.agent", Role::Agent);
    let response = supervisor
        .post_form(
            &format!("/settings/users/{agent_id}"),
            &[
                ("display_name", "Ana K."),
                ("role", "supervisor"),
                ("time_zone", "Europe/Zagreb"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let user = app.with_db(|conn| {
        clientele::db::users::find_user_by_username(conn, "ana.agent")
            .unwrap()
            .unwrap()
    });
    assert_eq!(user.role(), Role::Supervisor);
    assert_eq!(user.display_name, "Ana K.");
    assert_eq!(user.time_zone, "Europe/Zagreb");

    let own_id = app.with_db(|conn| {
        clientele::db::users::find_user_by_username(conn, "sam.supervisor")
            .unwrap()
            .unwrap()
            .id
    });
    let response = supervisor
        .post_form(
            &format!("/settings/users/{own_id}"),
            &[
                ("display_name", "Sam"),
                ("role", "agent"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("You cannot change your own role")
    );
}

#[tokio::test]
async fn the_last_active_supervisor_cannot_be_deactivated_or_demoted() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let other = app.create_user("second.sup", Role::Supervisor);
    // Deactivate the other one: allowed, one supervisor remains.
    supervisor
        .post_form(&format!("/settings/users/{other}/deactivate"), &[])
        .await;
    let own_id = app.with_db(|conn| {
        clientele::db::users::find_user_by_username(conn, "sam.supervisor")
            .unwrap()
            .unwrap()
            .id
    });
    supervisor
        .post_form(&format!("/settings/users/{own_id}/deactivate"), &[])
        .await;
    let me = app.with_db(|conn| clientele::db::users::get_user(conn, own_id).unwrap());
    assert!(me.active, "one cannot deactivate oneself");
    let page = supervisor.page(&format!("/settings/users/{own_id}")).await;
    assert!(page.contains("You cannot deactivate your own account."));
}

#[tokio::test]
async fn an_agent_gets_403_on_every_supervisor_route_and_nothing_changes() {
    let app = spawn_app().await;
    let agent = app.agent().await;
    let target = app.create_user("bo.agent", Role::Agent);
    for path in [
        "/settings/users",
        "/settings/users/new",
        &format!("/settings/users/{target}"),
    ] {
        assert_eq!(
            agent.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let attempts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/settings/users".to_owned(),
            vec![
                ("username", "sneaky"),
                ("role", "supervisor"),
                ("password", "long enough pass"),
            ],
        ),
        (
            format!("/settings/users/{target}"),
            vec![
                ("display_name", "Hacked"),
                ("role", "supervisor"),
                ("time_zone", "UTC"),
            ],
        ),
        (
            format!("/settings/users/{target}/password"),
            vec![("password", "long enough pass")],
        ),
        (format!("/settings/users/{target}/deactivate"), vec![]),
        (format!("/settings/users/{target}/activate"), vec![]),
    ];
    for (path, fields) in &attempts {
        let response = agent.post_form(path, fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    let users = app.with_db(|conn| clientele::db::users::list_users(conn).unwrap());
    assert!(users.iter().all(|u| u.username != "sneaky"));
    let bo = users.iter().find(|u| u.username == "bo.agent").unwrap();
    assert_eq!(bo.role(), Role::Agent);
    assert!(bo.active);
    assert_eq!(bo.display_name, "bo.agent display");
}

#[tokio::test]
async fn an_agent_sees_no_supervisor_navigation() {
    let app = spawn_app().await;
    let agent = app.agent().await;
    let html = agent.page("/").await;
    assert!(html.contains("Conversations"));
    assert!(!html.contains("href=\"/settings/users\""));
    let supervisor = app.supervisor().await;
    assert!(
        supervisor
            .page("/")
            .await
            .contains("href=\"/settings/users\"")
    );
}

#[tokio::test]
async fn a_refused_temporary_password_stays_in_the_reset_form() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let target = app.create_user("cy.agent", Role::Agent);
    let response = supervisor
        .post_form(
            &format!("/settings/users/{target}/password"),
            &[("password", "too short")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("the page");
    assert!(html.contains("A password has at least 10 characters."));
    assert!(html.contains("value=\"too short\""), "kept to fix");
}
