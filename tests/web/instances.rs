//! Several instances on one PostgreSQL: each background batch is done by one of them,
//! once, and limits hold over all of them.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use clientele::db::schema::{customer_events, customers, imports, jobs, outbox};
use clientele::db::types::{ConversationId, DeliveryStatus};

use crate::helpers::{Browser, TestApp, location, require_backend, spawn_app};
use crate::receiver::start_receiver;

/// Waits for a job to finish (never failing on the way); returns (processed, changed,
/// created).
async fn finished(app: &TestApp, job_url: &str) -> (i64, i64, i64) {
    let id: i64 = job_url
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    for _ in 0..2400 {
        let (status, processed, changed, created, error): (String, i64, i64, i64, Option<String>) =
            app.with_db(|conn| {
                jobs::table
                    .find(id)
                    .select((
                        jobs::status,
                        jobs::processed,
                        jobs::changed,
                        jobs::created_count,
                        jobs::error,
                    ))
                    .first(conn)
                    .expect("job")
            });
        assert_ne!(status, "failed", "job {id} failed: {error:?}");
        if status == "done" {
            return (processed, changed, created);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

/// Uploads `csv` through `browser` and starts its import as mapped by guess; returns the
/// job's page.
async fn import(app: &TestApp, browser: &Browser, csv: String) -> String {
    let response = browser
        .upload("/customers/import", "many.csv", csv.into_bytes())
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let import: i64 = location(&response)
        .trim_start_matches("/customers/import/")
        .parse()
        .expect("import id");
    // The instance that received the file is gone as far as the file goes: the other
    // must read it from the database.
    let (stored, mapping): (String, String) = app.with_db(|conn| {
        imports::table
            .find(import)
            .select((imports::stored_path, imports::mapping))
            .first(conn)
            .expect("import")
    });
    std::fs::remove_file(&stored).expect("the upload was kept on disk");
    let targets: Vec<String> = serde_json::from_str(&mapping).expect("json");
    let mut form: Vec<(String, String)> = targets
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("col_{i}"), t))
        .collect();
    form.push(("match".to_owned(), "email".to_owned()));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = browser
        .post_form(&format!("/customers/import/{import}/run"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response)
}

#[tokio::test]
#[ignore = "PostgreSQL only: run by scripts/test with --ignored postgres_only"]
async fn postgres_only_two_instances_share_imports_bulk_changes_and_deliveries_without_doing_any_twice()
 {
    require_backend(true);
    let app = spawn_app().await;
    let sibling = app.sibling().await;
    let receiver = start_receiver(0).await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;

    // An import of 10,000 rows, worked by both instances batch by batch.
    let mut csv = String::from("name,email,lifecycle\n");
    for i in 0..10_000 {
        let stage = if i % 2 == 0 { "customer" } else { "prospect" };
        csv.push_str(&format!("Many {i},many{i}@example.com,{stage}\n"));
    }
    let job = import(&app, &supervisor, csv).await;
    let (processed, _, created) = finished(&app, &job).await;
    assert_eq!((processed, created), (10_000, 10_000));
    let count: i64 = app.with_db(|conn| customers::table.count().get_result(conn).expect("count"));
    assert_eq!(count, 10_000);

    // A bulk change on 5,000 of them, queued on the second instance.
    let other = Browser::at(&sibling.address);
    other
        .sign_in("sam.supervisor", crate::helpers::PASSWORD)
        .await;
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "Shared", "#c0352b").expect("tag"));
    let tag = app.with_db(|conn| clientele::db::tags::list_tags(conn).expect("tags")[0].id);
    let response = other
        .post_form(
            "/customers/bulk",
            &[
                ("query", "period=all&lifecycle=customer"),
                ("action", "add_tag"),
                ("tag", &tag.to_string()),
                ("scope", "all"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (processed, changed, _) = finished(&app, &location(&response)).await;
    assert_eq!((processed, changed), (5_000, 5_000));
    let (entries, tagged): (i64, i64) = app.with_db(|conn| {
        let entries = customer_events::table
            .filter(customer_events::action.eq("tag_added"))
            .count()
            .get_result(conn)
            .expect("count");
        let tagged = customer_events::table
            .filter(customer_events::action.eq("tag_added"))
            .select(customer_events::customer_id)
            .distinct()
            .load::<clientele::db::types::CustomerId>(conn)
            .expect("customers")
            .len() as i64;
        (entries, tagged)
    });
    assert_eq!((entries, tagged), (5_000, 5_000), "one History entry each");

    // 500 replies, delivered by the two instances' senders: each exactly once.
    let token = app.api_token("gateway");
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345600", "text": "hello"}),
        )
        .await;
    let conversation = ConversationId(answer["conversation_id"].as_i64().expect("conversation"));
    let agent = app.create_user("sender", clientele::domain::Role::Agent);
    app.with_db(|conn| {
        let thread = clientele::db::conversations::get_conversation(conn, conversation)
            .expect("conversation");
        let author = clientele::services::conversations::Author::agent(agent, "Sender");
        for i in 0..500 {
            clientele::services::conversations::send(conn, &thread, &author, &format!("Reply {i}"))
                .expect("sent");
        }
    });
    crate::receiver::wait_until_for(std::time::Duration::from_secs(120), || {
        receiver.seen.lock().expect("lock").len() >= 500
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let seen = receiver.seen.lock().expect("lock").clone();
    let mut texts: Vec<String> = seen
        .iter()
        .filter_map(|(_, body)| {
            let body: serde_json::Value = serde_json::from_str(body).ok()?;
            body["text"].as_str().map(str::to_owned)
        })
        .collect();
    texts.sort();
    let before = texts.len();
    texts.dedup();
    assert_eq!(
        (before, texts.len()),
        (500, 500),
        "each reply delivered once"
    );
    let delivered: i64 = app.with_db(|conn| {
        outbox::table
            .filter(outbox::status.eq(DeliveryStatus::Delivered))
            .count()
            .get_result(conn)
            .expect("count")
    });
    assert_eq!(delivered, 500);
}

#[tokio::test]
async fn the_self_service_limit_counts_requests_made_to_any_instance() {
    let app = spawn_app().await;
    let sibling = app.sibling().await;
    let here = app.browser();
    let there = Browser::at(&sibling.address);
    let path = format!("/s/{}", "cd".repeat(32));
    let per_minute = clientele::services::selfservice::PER_MINUTE;
    for i in 0..per_minute {
        let browser = if i % 2 == 0 { &here } else { &there };
        assert_eq!(browser.get(&path).await.status(), StatusCode::GONE);
    }
    assert_eq!(
        there.get(&path).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the second instance knows what the first one counted"
    );
}

#[tokio::test]
async fn a_job_claimed_by_an_instance_that_died_resumes_when_its_claim_ends() {
    use clientele::services::jobs::{BulkAction, BulkParams, queue_bulk};
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_customer(&[("name", &format!("Claimed {i}"))]);
    }
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "Late", "#c0352b").expect("tag"));
    let tag = app.with_db(|conn| clientele::db::tags::list_tags(conn).expect("tags")[0].id);
    let params = BulkParams {
        action: BulkAction::AddTag(tag),
        filter: clientele::db::listing::CustomerFilter::default(),
        user_id: app.create_user("gone", clientele::domain::Role::Supervisor),
        user_name: "Gone".to_owned(),
        role: clientele::domain::Role::Supervisor,
    };
    // Queued and claimed at once, as by an instance killed right after.
    let job = app.with_db(|conn| {
        clientele::db::transaction(conn, |conn| {
            let job = queue_bulk(conn, &params, "Tag everyone", 3)?;
            diesel::update(jobs::table.find(job))
                .set(jobs::claimed_until.eq(clientele::db::now() + chrono::TimeDelta::hours(1)))
                .execute(conn)?;
            Ok::<_, clientele::error::AppError>(job)
        })
        .expect("queued")
    });
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let processed: i64 = app.with_db(|conn| {
        jobs::table
            .find(job)
            .select(jobs::processed)
            .first(conn)
            .expect("job")
    });
    assert_eq!(processed, 0, "nobody works a job another instance holds");
    app.with_db(|conn| {
        diesel::update(jobs::table.find(job))
            .set(jobs::claimed_until.eq(clientele::db::now() - chrono::TimeDelta::seconds(1)))
            .execute(conn)
            .expect("the claim ends")
    });
    let (processed, changed, _) = finished(&app, &format!("/jobs/{}", job.0)).await;
    assert_eq!((processed, changed), (3, 3));
}
