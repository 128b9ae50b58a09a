//! Settings → Audit log: what is recorded, the filters, who may see it, and retention.

use chrono::TimeDelta;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use clientele::db::schema::{audit_log, channel_identities, conversations, messages};

use crate::helpers::spawn_app;

/// The actions listed in the page's table, top to bottom.
fn actions_on(page: &str) -> Vec<String> {
    let table = &page[page.find("id=\"audit-entries\"").expect("the table")..];
    table
        .split("<td><code>")
        .skip(1)
        .filter_map(|cell| cell.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn sign_ins_accounts_tokens_and_imports_are_listed_and_filtered_for_supervisors_only() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    app.browser()
        .sign_in("sam.supervisor", "a wrong password")
        .await;
    let response = supervisor
        .post_form(
            "/settings/users",
            &[
                ("username", "new.agent"),
                ("display_name", "New Agent"),
                ("role", "agent"),
                ("time_zone", ""),
                ("password", "a temporary password"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id: i64 = app.with_db(|conn| {
        clientele::db::users::find_user_by_username(conn, "new.agent")
            .expect("found")
            .expect("created")
            .id
            .0
    });
    supervisor
        .post_form(&format!("/settings/users/{id}/deactivate"), &[])
        .await;
    let token = app.api_token("shop");
    for _ in 0..2 {
        app.api(reqwest::Method::GET, "/api/v1/customers", &token, None)
            .await;
    }
    let import = crate::import::upload(&supervisor, "few.csv", b"name\nAna\n").await;
    crate::import::run_job(&app, &supervisor, import, "dry-run", &[]).await;

    let page = supervisor.page("/settings/audit").await;
    let actions = actions_on(&page);
    for action in [
        "signed_in",
        "sign_in_failed",
        "user.created",
        "user.deactivated",
        "token.used",
        "import.started",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "token.used").count(),
        1,
        "a token's use is noted once an hour"
    );
    assert!(
        page.contains("wrong password or unknown username"),
        "{page}"
    );

    // By whom, what, when.
    let page = supervisor.page("/settings/audit?who=none").await;
    let actions = actions_on(&page);
    assert!(
        actions.contains(&"sign_in_failed".to_owned()),
        "{actions:?}"
    );
    assert!(
        !actions.contains(&"user.deactivated".to_owned()),
        "{actions:?}"
    );
    let page = supervisor.page("/settings/audit?what=user.created").await;
    assert_eq!(actions_on(&page), ["user.created", "user.created"]);
    assert!(page.contains("new.agent") && page.contains("sam.supervisor"));
    let page = supervisor
        .page("/settings/audit?from=2099-01-01&to=2099-01-31")
        .await;
    assert!(actions_on(&page).is_empty());
    assert!(page.contains("nothing matches"));
    // A day given as both ends is the whole of that day. The entries are moved to its
    // first and last minute, so the test reads the same across midnight.
    let day = clientele::db::now().date();
    app.with_db(|conn| {
        let created: Vec<i64> = audit_log::table
            .filter(audit_log::action.eq("user.created"))
            .order(audit_log::id.asc())
            .select(audit_log::id)
            .load(conn)
            .expect("entries");
        assert_eq!(created.len(), 2);
        for (id, (hour, minute)) in created.into_iter().zip([(0, 0), (23, 59)]) {
            let time = day.and_hms_opt(hour, minute, 30).expect("a time of day");
            diesel::update(audit_log::table.find(id))
                .set(audit_log::created_at.eq(time))
                .execute(conn)
                .expect("moved");
        }
    });
    let today = day.format("%Y-%m-%d").to_string();
    let page = supervisor
        .page(&format!(
            "/settings/audit?what=user.created&from={today}&to={today}"
        ))
        .await;
    assert_eq!(actions_on(&page).len(), 2, "{page}");

    // Pages of 50, older ones behind a link.
    app.with_db(|conn| {
        for i in 0..60 {
            clientele::db::audit::insert_audit(
                conn,
                None,
                "Clientele",
                clientele::db::types::AuditAction::TagCreated,
                &format!("tag {i}"),
                "",
            )
            .expect("recorded");
        }
    });
    let page = supervisor.page("/settings/audit?what=tag_created").await;
    assert_eq!(actions_on(&page).len(), 50);
    let older = page
        .split("href=\"/settings/audit?")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to older entries")
        .replace("&#38;", "&");
    let page = supervisor.page(&format!("/settings/audit?{older}")).await;
    assert_eq!(actions_on(&page).len(), 10);

    let agent = app.agent().await;
    assert_eq!(
        agent.get("/settings/audit").await.status(),
        StatusCode::FORBIDDEN
    );
    let crafted = agent
        .post_form("/settings/audit/retention", &[("audit_days", "1")])
        .await;
    assert_eq!(crafted.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn retention_removes_old_records_and_keeps_what_must_stay() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;

    // A refused value keeps what was typed, at its field.
    let days = |audit: &'static str, contacts: &'static str| {
        [
            ("audit_days", audit),
            ("unknown_contacts_days", contacts),
            ("ended_links_days", "30"),
            ("finished_jobs_days", "30"),
        ]
    };
    let response = supervisor
        .post_form("/settings/audit/retention", &days("-3", "40"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.expect("page");
    assert!(page.contains("id=\"audit_days-error\""), "{page}");
    assert!(page.contains("value=\"-3\""), "{page}");
    let response = supervisor
        .post_form("/settings/audit/retention", &days("100", "40"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // Unknown contacts: an old one, an old blacklisted one, an old one with an open
    // conversation, a recent one.
    let token = app.api_token("gateway");
    for phone in [
        "+385911000001",
        "+385911000002",
        "+385911000003",
        "+385911000004",
    ] {
        app.inbound(
            &token,
            json!({"channel": "sms", "external_id": phone, "text": "hello"}),
        )
        .await;
    }
    let long_ago = clientele::db::now() - TimeDelta::days(60);
    app.with_db(|conn| {
        let old = ["+385911000001", "+385911000002", "+385911000003"];
        diesel::update(
            channel_identities::table.filter(channel_identities::external_id.eq_any(old)),
        )
        .set(channel_identities::last_seen_at.eq(long_ago))
        .execute(conn)
        .expect("backdated");
        diesel::update(
            channel_identities::table.filter(channel_identities::external_id.eq("+385911000002")),
        )
        .set(channel_identities::blacklist_reason.eq("spam"))
        .execute(conn)
        .expect("blacklisted");
        let closed = channel_identities::table
            .filter(channel_identities::external_id.ne("+385911000003"))
            .select(channel_identities::id);
        diesel::update(conversations::table.filter(conversations::identity_id.eq_any(closed)))
            .set(conversations::status.eq("closed"))
            .execute(conn)
            .expect("closed");
        // More old entries than one batch removes.
        for n in 0..1_200 {
            clientele::services::audit::record(
                conn,
                &clientele::domain::customer::Actor::System,
                clientele::db::types::AuditAction::TagCreated,
                &format!("old {n}"),
                "",
            )
            .expect("recorded");
        }
        diesel::update(audit_log::table)
            .set(audit_log::created_at.eq(clientele::db::now() - TimeDelta::days(200)))
            .execute(conn)
            .expect("backdated");
    });
    app.with_db(|conn| {
        clientele::services::audit::record(
            conn,
            &clientele::domain::customer::Actor::System,
            clientele::db::types::AuditAction::TagCreated,
            "recent",
            "",
        )
    })
    .expect("recorded");

    let swept = app.with_db(|conn| clientele::services::retention::sweep(conn).expect("swept"));
    assert_eq!(swept.unknown_contacts, 1);
    assert!(swept.audit_entries >= 1_202, "in batches of 500: {swept:?}");
    let (contacts, messages_left, entries): (Vec<String>, i64, Vec<String>) = app.with_db(|conn| {
        (
            channel_identities::table
                .order(channel_identities::external_id)
                .select(channel_identities::external_id)
                .load(conn)
                .expect("contacts"),
            messages::table.count().get_result(conn).expect("count"),
            audit_log::table
                .select(audit_log::subject)
                .load(conn)
                .expect("entries"),
        )
    });
    assert_eq!(
        contacts,
        ["+385911000002", "+385911000003", "+385911000004"],
        "the blacklisted, the one still talking and the recent one stay"
    );
    assert_eq!(
        messages_left, 3,
        "the removed contact's message went with it"
    );
    assert_eq!(entries, ["recent"]);
}
