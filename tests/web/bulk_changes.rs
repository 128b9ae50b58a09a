//! Bulk changes on the Customers page: to the selected rows or everything matching, with
//! each customer's history, and resumed after an interruption from the last batch.

use diesel::prelude::*;
use reqwest::StatusCode;

use clientele::db::schema::{customer_events, jobs};
use clientele::domain::Role;

use crate::helpers::{TestApp, location, spawn_app};

/// Waits until the job behind a progress page is finished; returns its id.
async fn wait_for_job(app: &TestApp, job_url: &str) -> i64 {
    let id: i64 = job_url
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    for _ in 0..200 {
        let status: String = app.with_db(|conn| {
            jobs::table
                .find(id)
                .select(jobs::status)
                .first(conn)
                .expect("job")
        });
        if status == "done" {
            return id;
        }
        assert_ne!(status, "failed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

fn tag_events(app: &TestApp, public_id: &str) -> i64 {
    let id = app.customer(public_id).id;
    app.with_db(|conn| {
        customer_events::table
            .filter(customer_events::customer_id.eq(id))
            .filter(customer_events::action.eq("tag_added"))
            .count()
            .get_result(conn)
            .expect("count")
    })
}

#[tokio::test]
async fn bulk_changes_apply_to_selected_rows_or_everything_matching_with_history() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let vip = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap()[0].id);
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(app.create_customer(&[("name", &format!("Bulk {i}"))]));
    }
    let other = app.create_customer(&[("name", "Someone Else")]);

    // Selected rows: no confirmation, straight to the job.
    let tag = vip.to_string();
    let response = supervisor
        .post_form(
            "/customers/bulk",
            &[
                ("query", "period=all"),
                ("action", "add_tag"),
                ("tag", &tag),
                ("scope", "selected"),
                ("customer", &ids[0]),
                ("customer", &ids[1]),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let job = location(&response);
    wait_for_job(&app, &job).await;
    assert_eq!(tag_events(&app, &ids[0]), 1);
    assert_eq!(tag_events(&app, &ids[2]), 0);
    let page = supervisor.page(&job).await;
    assert!(page.contains("Finished."), "{page}");

    // Everything matching: the confirmation states the count first.
    let bulk_all = [
        ("query", "period=all&name=bulk"),
        ("action", "add_tag"),
        ("tag", tag.as_str()),
        ("scope", "all"),
    ];
    let response = supervisor.post_form("/customers/bulk", &bulk_all).await;
    assert_eq!(response.status(), StatusCode::OK);
    let confirm = response.text().await.unwrap();
    assert!(confirm.contains("for 7 customers"), "{confirm}");
    assert_eq!(
        tag_events(&app, &ids[3]),
        0,
        "nothing changes before the confirmation"
    );
    let mut confirmed = bulk_all.to_vec();
    confirmed.push(("confirm", "yes"));
    let response = supervisor.post_form("/customers/bulk", &confirmed).await;
    let job = location(&response);
    let job_id = wait_for_job(&app, &job).await;
    for id in &ids {
        assert_eq!(tag_events(&app, id), 1, "{id}: tagged once, with History");
    }
    assert_eq!(tag_events(&app, &other), 0);
    let (processed, changed): (i64, i64) = app.with_db(|conn| {
        jobs::table
            .find(job_id)
            .select((jobs::processed, jobs::changed))
            .first(conn)
            .unwrap()
    });
    assert_eq!((processed, changed), (7, 5), "two already had the tag");

    // Lifecycle stage in bulk, recorded per customer.
    let response = supervisor
        .post_form(
            "/customers/bulk",
            &[
                ("query", "period=all&name=bulk"),
                ("action", "set_lifecycle"),
                ("lifecycle", "vip"),
                ("scope", "all"),
                ("confirm", "yes"),
            ],
        )
        .await;
    wait_for_job(&app, &location(&response)).await;
    assert_eq!(app.customer(&ids[6]).lifecycle, "vip");
    assert_eq!(app.customer(&other).lifecycle, "prospect");

    // Bad input is refused with a message, nothing queued.
    let response = supervisor
        .post_form(
            "/customers/bulk",
            &[
                ("query", "period=all"),
                ("action", "add_tag"),
                ("tag", "999"),
                ("scope", "all"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        supervisor
            .page(&location(&response))
            .await
            .contains("Pick a tag.")
    );
}

#[tokio::test]
async fn an_interrupted_bulk_change_resumes_after_its_last_batch() {
    let app = spawn_app().await;
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "Late", "#2456d6").unwrap());
    let tag = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap()[0].id);
    let ids: Vec<String> = (0..5)
        .map(|i| app.create_customer(&[("name", &format!("Resume {i}"))]))
        .collect();
    let user = app.create_user("owner", Role::Supervisor);
    // As a crash would leave it: running, with the first two customers committed.
    let cursor = app.customer(&ids[1]).id.0;
    let params = clientele::services::jobs::BulkParams {
        action: clientele::services::jobs::BulkAction::AddTag(tag),
        filter: clientele::db::listing::CustomerFilter::default(),
        user_id: user,
        user_name: "Owner".into(),
        role: Role::Supervisor,
    };
    let now = clientele::db::now();
    app.with_db(|conn| {
        diesel::insert_into(jobs::table)
            .values((
                jobs::kind.eq("bulk"),
                jobs::status.eq("running"),
                jobs::label.eq("resume"),
                jobs::params.eq(serde_json::to_string(&params).unwrap()),
                jobs::total.eq(5_i64),
                jobs::processed.eq(2_i64),
                jobs::cursor.eq(cursor),
                jobs::created_by_name.eq("Owner"),
                jobs::created_at.eq(now),
                jobs::started_at.eq(now),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)
            .unwrap()
    });
    let id: i64 = app.with_db(|conn| jobs::table.select(jobs::id).first(conn).unwrap());
    wait_for_job(&app, &format!("/jobs/{id}")).await;
    assert_eq!(
        tag_events(&app, &ids[0]),
        0,
        "committed batches are not redone"
    );
    assert_eq!(tag_events(&app, &ids[1]), 0);
    for id in &ids[2..] {
        assert_eq!(tag_events(&app, id), 1);
    }
}
