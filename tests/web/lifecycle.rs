//! Lifecycle rules: each rule on events and on the run over everyone, the order they
//! apply in, the pin, the preview that writes nothing, the daily run, History "by rule …",
//! and the form that keeps what was typed.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

use clientele::db::jobs;
use clientele::db::schema::jobs as job_rows;
use clientele::db::types::JobKind;

use crate::helpers::{Browser, TestApp, spawn_app};

/// The rules form: every rule on, in the default order, with these settings.
fn rules_form(
    engaged: (&str, &str),
    declining_days: &str,
    silent_days: &str,
    amount: &str,
    tag: &str,
) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = Vec::new();
    for (position, kind) in [
        "high_value",
        "silent",
        "declining",
        "engaged",
        "first_order",
    ]
    .iter()
    .enumerate()
    {
        form.push((format!("{kind}_on"), "on".into()));
        form.push((format!("{kind}_position"), (position + 1).to_string()));
    }
    for (name, value) in [
        ("engaged_days", engaged.0),
        ("engaged_at_least", engaged.1),
        ("declining_days", declining_days),
        ("silent_days", silent_days),
        ("high_value_amount", amount),
        ("high_value_currency", "EUR"),
        ("high_value_tag", tag),
    ] {
        form.push((name.into(), value.into()));
    }
    form
}

async fn post_rules(
    browser: &Browser,
    form: &[(String, String)],
    action: &str,
) -> reqwest::Response {
    let mut fields: Vec<(&str, &str)> =
        form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.push(("action", action));
    browser.post_form("/settings/lifecycle", &fields).await
}

/// Waits for the newest job of `kind` to finish; returns (processed, changed).
async fn finished(app: &TestApp, kind: JobKind) -> (i64, i64) {
    for _ in 0..400 {
        let job = app
            .with_db(|conn| jobs::newest_of(conn, kind))
            .expect("jobs read")
            .expect("a job");
        if job.finished() {
            assert!(job.error.is_none(), "{:?}", job.error);
            return (job.processed, job.changed);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the {kind} job did not finish");
}

async fn put_order(
    app: &TestApp,
    token: &str,
    customer: &str,
    reference: &str,
    total: &str,
    days_ago: i64,
) {
    let placed = chrono::Utc::now() - chrono::TimeDelta::days(days_ago);
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/customers/{customer}/orders/{reference}"),
            token,
            Some(json!({"placed_at": placed.to_rfc3339(), "status": "paid", "total": total, "currency": "EUR", "items_summary": "Tea"})),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
}

fn stage(app: &TestApp, customer: &str) -> String {
    app.customer(customer).lifecycle
}

#[tokio::test]
async fn orders_and_new_conversations_move_customers_by_the_first_rule_that_holds() {
    let app = spawn_app().await;
    let token = app.api_token("shop");
    let supervisor = app.supervisor().await;
    let response = post_rules(
        &supervisor,
        &rules_form(("30", "2"), "30", "90", "100", ""),
        "save",
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    finished(&app, JobKind::Lifecycle).await;

    put_order(&app, &token, &ada, "A-1", "10.00", 1).await;
    assert_eq!(stage(&app, &ada), "customer", "a first order");
    app.inbound(
        &token,
        json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}),
    )
    .await;
    assert_eq!(
        stage(&app, &ada),
        "active",
        "an order and a conversation in 30 days"
    );
    // A message in the open conversation is no new conversation: nothing to look at.
    app.inbound(
        &token,
        json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Still there?"}),
    )
    .await;
    put_order(&app, &token, &ada, "A-2", "90.00", 1).await;
    assert_eq!(stage(&app, &ada), "vip", "orders total 100.00 EUR");

    let history = supervisor.page(&format!("/customers/{ada}/history")).await;
    for rule in ["First order", "Regular engagement", "High value"] {
        assert!(history.contains(&format!("by rule “{rule}”")), "{rule}");
    }
    assert!(history.contains("Changed lifecycle stage"));
}

#[tokio::test]
async fn the_run_over_everyone_finds_declining_silent_and_tagged_customers_and_leaves_pinned_ones()
{
    let app = spawn_app().await;
    let token = app.api_token("shop");
    let supervisor = app.supervisor().await;
    // Rules are off: the orders move nobody yet.
    let fading = app.create_customer(&[("name", "Fading")]);
    for (n, days_ago) in [40, 45, 50, 55, 5].iter().enumerate() {
        put_order(&app, &token, &fading, &format!("F-{n}"), "5", *days_ago).await;
    }
    let gone = app.create_customer(&[("name", "Gone")]);
    put_order(&app, &token, &gone, "G-1", "5", 100).await;
    let pinned = app.create_customer(&[("name", "Pinned")]);
    put_order(&app, &token, &pinned, "P-1", "5", 100).await;
    let tagged = app.create_customer(&[("name", "Tagged")]);
    let new = app.create_customer(&[("name", "New")]);
    for customer in [&fading, &gone, &pinned, &tagged, &new] {
        assert_eq!(stage(&app, customer), "prospect");
    }
    let response = supervisor
        .post_form("/settings/tags", &[("name", "Gold"), ("color", "#c0352b")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let gold = app.with_db(|conn| {
        clientele::db::tags::list_tags(conn)
            .expect("tags")
            .into_iter()
            .find(|t| t.name == "Gold")
            .expect("the tag")
            .id
    });
    let response = supervisor
        .post_form(
            &format!("/customers/{tagged}/tags"),
            &[("tag_id", &gold.0.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = supervisor
        .post_form(
            &format!("/customers/{pinned}/lifecycle/pin"),
            &[("pinned", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let profile = supervisor
        .page(&format!("/customers/{pinned}/profile"))
        .await;
    assert!(profile.contains("Pinned: lifecycle rules leave this customer's stage alone."));

    // The preview counts, writes nothing, and the form keeps what was typed.
    let form = rules_form(("30", "3"), "30", "90", "100000", &gold.0.to_string());
    let response = post_rules(&supervisor, &form, "preview").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.expect("page");
    assert!(page.contains("Preview of the rules above (not saved)"));
    assert!(page.contains("id=\"silent_days\" name=\"silent_days\" value=\"90\""));
    let (processed, would_move) = finished(&app, JobKind::LifecyclePreview).await;
    assert_eq!((processed, would_move), (5, 3), "fading, gone and tagged");
    for customer in [&fading, &gone, &tagged] {
        assert_eq!(
            stage(&app, customer),
            "prospect",
            "a preview writes nothing"
        );
    }
    assert!(
        app.with_db(|conn| jobs::newest_of(conn, JobKind::Lifecycle))
            .expect("jobs")
            .is_none()
    );

    let response = post_rules(&supervisor, &form, "save").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (processed, moved) = finished(&app, JobKind::Lifecycle).await;
    assert_eq!((processed, moved), (5, 3));
    assert_eq!(stage(&app, &fading), "at_risk");
    assert_eq!(stage(&app, &gone), "churned");
    assert_eq!(stage(&app, &tagged), "vip");
    assert_eq!(stage(&app, &pinned), "prospect", "pinned");
    assert_eq!(stage(&app, &new), "prospect", "no rule holds");
    let history = supervisor.page(&format!("/customers/{gone}/history")).await;
    assert!(history.contains("by rule “No recent contact”"));
    let history = supervisor
        .page(&format!("/customers/{pinned}/history"))
        .await;
    assert!(history.contains("Pinned the lifecycle stage Prospect"));
    let page = supervisor.page("/settings/lifecycle").await;
    assert!(page.contains("3 of 5 customers moved"), "the last run");

    // Unpinned, the next daily run moves it; the daily run comes once a day.
    let response = supervisor
        .post_form(&format!("/customers/{pinned}/lifecycle/pin"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        app.with_db(clientele::services::lifecycle::queue_daily)
            .expect("queued")
            .is_none(),
        "a run finished less than a day ago"
    );
    app.with_db(|conn| {
        diesel::update(job_rows::table)
            .set(
                job_rows::created_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(2)),
            )
            .execute(conn)
            .expect("older runs");
    });
    assert!(
        app.with_db(clientele::services::lifecycle::queue_daily)
            .expect("queued")
            .is_some()
    );
    assert!(
        app.with_db(clientele::services::lifecycle::queue_daily)
            .expect("queued")
            .is_none(),
        "one run at a time"
    );
    let (_, moved) = finished(&app, JobKind::Lifecycle).await;
    assert_eq!(moved, 1);
    assert_eq!(stage(&app, &pinned), "churned");
    let history = supervisor
        .page(&format!("/customers/{pinned}/history"))
        .await;
    assert!(history.contains("Unpinned the lifecycle stage Prospect"));
}

#[tokio::test]
async fn the_rules_form_keeps_what_was_typed_and_only_supervisors_reach_it() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let page = supervisor.page("/settings/lifecycle").await;
    assert!(page.contains("<legend>High value → VIP</legend>"));
    assert!(!page.contains(" checked"), "every rule is off at first");

    let form = rules_form(("0", "many"), "30", "90", "", "");
    let response = post_rules(&supervisor, &form, "save").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.expect("page");
    assert!(page.contains("value=\"many\""), "what was typed stays");
    assert!(page.contains("Give a whole number from 1 to 3650."));
    assert!(page.contains("Give a whole number from 1 to 10000."));
    assert!(page.contains("Give an amount, a tag or both, or turn this rule off."));
    let stored = app
        .with_db(clientele::services::lifecycle::rules)
        .expect("rules");
    assert!(!stored.any_enabled(), "nothing saved");

    let agent = app.agent().await;
    assert_eq!(
        agent.get("/settings/lifecycle").await.status(),
        StatusCode::FORBIDDEN
    );
    let form = rules_form(("30", "3"), "30", "90", "100", "");
    let response = post_rules(&agent, &form, "save").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let stored = app
        .with_db(clientele::services::lifecycle::rules)
        .expect("rules");
    assert!(!stored.any_enabled(), "an agent's POST changes nothing");

    let response = post_rules(&supervisor, &form, "save").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let audit = supervisor.page("/settings/audit").await;
    assert!(audit.contains("lifecycle.rules_saved"));
}
