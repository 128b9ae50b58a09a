//! CSV export: the current filter, selected rows, access rules, formulas, the record.

use diesel::prelude::*;
use reqwest::StatusCode;

use clientele::db::listing::CustomerFilter;
use clientele::db::schema::{audit_log, customers};
use clientele::domain::Role;
use clientele::domain::customer::Actor;
use clientele::services::export::{ExportPlan, FIRST_BATCH, neutralise, write_all};

use crate::helpers::{TestApp, spawn_app};

fn parse(body: &str) -> Vec<Vec<String>> {
    let body = body.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes());
    reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

/// A server with `count` generated customers, and a supervisor's export of everyone.
async fn app_with_everyone(count: u64, seed: u64) -> (TestApp, ExportPlan) {
    let app = spawn_app().await;
    app.with_db(|conn| clientele::db::generate::generate(conn, count, seed))
        .expect("customers generated");
    let registry =
        app.with_db(|conn| clientele::db::properties::list_properties(conn).expect("the registry"));
    let plan = ExportPlan::new(&registry, Role::Supervisor, CustomerFilter::default());
    (app, plan)
}

/// The audit line of the export described as `described`.
fn recorded(app: &TestApp, described: &str) -> String {
    app.with_db(|conn| {
        audit_log::table
            .filter(audit_log::detail.like(format!("{described} (%")))
            .select(audit_log::detail)
            .first(conn)
            .expect("the export recorded")
    })
}

#[tokio::test]
async fn the_export_follows_the_filter_the_reader_and_neutralises_formulas() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    app.create_property("plan", "text", &[], "edit");
    app.create_property("secret_note", "text", &[], "hidden");
    let ada = app.create_customer(&[
        ("name", "=HYPERLINK(\"http://evil\")"),
        ("phone", "+385911111111"),
        ("plan", "Gold"),
        ("secret_note", "do not tell"),
    ]);
    let bob = app.create_customer(&[("name", "Bob Builder"), ("plan", "Silver")]);
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let vip = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap()[0].id);
    let ada_id = app.customer(&ada).id;
    app.with_db(|conn| clientele::db::tags::add_customer_tag(conn, ada_id, vip).unwrap());

    let supervisor = app.supervisor().await;
    let response = supervisor.get("/customers/export.csv?period=all").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let rows = parse(&response.text().await.unwrap());
    let header = &rows[0];
    let column = |key: &str| header.iter().position(|h| h == key).unwrap();
    assert!(
        header.contains(&"secret_note".to_owned()),
        "supervisors see it"
    );
    assert_eq!(rows.len(), 3, "header and two customers");
    let ada_row = rows.iter().find(|r| r[0] == ada).unwrap();
    assert_eq!(ada_row[column("name")], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(
        ada_row[column("phone")],
        "+385911111111",
        "a valid phone cannot be a formula: written as it is, for spreadsheets and diallers"
    );
    assert_eq!(ada_row[column("plan")], "Gold");
    assert_eq!(ada_row[column("tags")], "VIP");
    assert_eq!(ada_row[column("lifecycle")], "prospect");

    // The filter applies; agents never get hidden properties.
    let agent = app.agent().await;
    let rows = parse(
        &agent
            .get("/customers/export.csv?whose=all&period=all&name=bob")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], bob);
    assert!(!rows[0].contains(&"secret_note".to_owned()));
    assert!(!rows.concat().contains(&"do not tell".to_owned()));

    // Selected rows, by POST from the list's form.
    let response = supervisor
        .post_form("/customers/export.csv", &[("customer", &bob)])
        .await;
    let rows = parse(&response.text().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], bob);

    // Who exported what is recorded, with the row count.
    let mut details: Vec<String> = Vec::new();
    for _ in 0..50 {
        details = app.with_db(|conn| {
            audit_log::table
                .filter(audit_log::action.eq("customers.exported"))
                .select(audit_log::detail)
                .load(conn)
                .unwrap()
        });
        if details.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        details
            .iter()
            .any(|d| d.contains("name=bob") && d.contains("(1 rows)")),
        "{details:?}"
    );
    assert!(details.iter().any(|d| d.contains("(2 rows)")));
}

/// The first chunk holds half a page of rows, so a large export starts at once; later
/// chunks grow to the full batch, every customer is written once, in id order; a reader
/// that leaves early is recorded with the rows it was sent.
#[tokio::test]
async fn an_export_starts_with_a_page_of_rows_and_grows_its_batches() {
    let (app, plan) = app_with_everyone(400, 3).await;
    let mut chunks: Vec<Vec<Vec<String>>> = Vec::new();
    write_all(
        &app.pool,
        &plan,
        &Actor::System,
        "filter: everyone",
        &mut |chunk| {
            chunks.push(parse(&String::from_utf8(chunk).expect("UTF-8")));
            true
        },
    )
    .expect("exported");
    let header = chunks[0].remove(0);
    assert_eq!(header[0], "customer_id");
    let sizes: Vec<usize> = chunks.iter().map(Vec::len).filter(|n| *n > 0).collect();
    assert_eq!(
        sizes,
        [25, 25, 25, 25, 50, 100, 150],
        "half a page at a time at first, then doubling"
    );
    let exported: Vec<&str> = chunks.iter().flatten().map(|row| row[0].as_str()).collect();
    let everyone: Vec<String> = app.with_db(|conn| {
        customers::table
            .order(customers::id)
            .select(customers::public_id)
            .load(conn)
            .unwrap()
    });
    assert_eq!(everyone.len(), 400);
    assert_eq!(exported, everyone, "each once, in id order");

    let mut sent = 0;
    write_all(
        &app.pool,
        &plan,
        &Actor::System,
        "filter: left early",
        &mut |_| {
            sent += 1;
            false
        },
    )
    .expect("a reader leaving is no error");
    assert_eq!(sent, 1, "nothing written after the reader left");
    assert_eq!(
        recorded(&app, "filter: left early"),
        format!("filter: left early ({FIRST_BATCH} rows)")
    );
}

/// Each row holds the custom values, tags and identities its customer's own readings
/// give, in their order, though a batch reads them for all its customers together.
#[tokio::test]
async fn each_row_holds_what_its_customer_holds() {
    let (app, plan) = app_with_everyone(160, 5).await;
    let mut body = Vec::new();
    write_all(
        &app.pool,
        &plan,
        &Actor::System,
        "filter: compared",
        &mut |chunk| {
            body.extend(chunk);
            true
        },
    )
    .expect("exported");
    let rows = parse(&String::from_utf8(body).expect("UTF-8"));
    let header = &rows[0];
    let column = |key: &str| header.iter().position(|h| h == key).expect(key);
    let (mut tagged, mut several, mut filled) = (0, 0, 0);
    for row in &rows[1..] {
        let (tags, identities, values) = app.with_db(|conn| {
            let id = clientele::db::customers::find_customer_by_public_id(conn, &row[0])
                .expect("read")
                .expect("exported customers exist")
                .id;
            let tags: Vec<String> = clientele::db::tags::list_tags_for_customers(conn, &[id])
                .expect("tags")
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.name)
                .collect();
            let identities: Vec<String> =
                clientele::db::identities::list_identities_for(conn, &[id])
                    .expect("identities")
                    .into_iter()
                    .map(|i| format!("{}:{}", i.channel, i.external_id))
                    .collect();
            let values = clientele::db::customers::list_custom_values(conn, id, &plan.properties)
                .expect("values");
            (tags, identities, values)
        });
        tagged += usize::from(!tags.is_empty());
        several += usize::from(identities.len() > 1);
        assert_eq!(
            row[column("tags")],
            neutralise(&tags.join("; ")),
            "{}",
            row[0]
        );
        assert_eq!(
            row[column("identities")],
            neutralise(&identities.join("; ")),
            "{}",
            row[0]
        );
        let custom = plan
            .properties
            .iter()
            .filter(|p| p.kind == clientele::domain::property::PropertyKind::Custom);
        for property in custom {
            let text = values
                .get(&property.id)
                .map(|v| v.form_text())
                .unwrap_or_default();
            let expected = if property.ty.formula_free() {
                text
            } else {
                neutralise(&text).into_owned()
            };
            assert_eq!(
                row[column(&property.key)],
                expected,
                "{} {}",
                row[0],
                property.key
            );
            filled += usize::from(!expected.is_empty());
        }
    }
    assert!(
        tagged > 10 && several > 10 && filled > 10,
        "the data has tags, several identities and custom values"
    );
}

/// An export whose database fails after its first chunk ends with that error, and the
/// audit log says how many rows were sent before it stopped.
#[tokio::test]
async fn an_export_stopped_by_an_error_is_recorded_as_such() {
    let (app, plan) = app_with_everyone(120, 4).await;
    let mut chunks = 0;
    let written = write_all(&app.pool, &plan, &Actor::System, "filter: cut", &mut |_| {
        chunks += 1;
        // The tags' table goes away under the export: its next batch fails.
        app.with_db(|conn| {
            diesel::sql_query("ALTER TABLE customer_tags RENAME TO customer_tags_gone")
                .execute(conn)
                .expect("renamed")
        });
        true
    });
    assert!(
        written.is_err(),
        "the export ends with the error: {written:?}"
    );
    assert_eq!(chunks, 1, "nothing sent after the error");
    assert_eq!(
        recorded(&app, "filter: cut"),
        format!("filter: cut ({FIRST_BATCH} rows, stopped by an error)")
    );
}

/// A download reads its next chunk only once the one before was taken to be sent: a
/// client that leaves after the first chunk cost one more read, not a chunk read ahead
/// and left waiting for nobody besides.
#[tokio::test]
async fn a_download_reads_no_chunk_ahead_of_the_one_being_sent() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = spawn_app().await;
    let read = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    let (reading, ending) = (read.clone(), ended.clone());
    let response = clientele::handlers::download::stream(
        app.pool.clone(),
        "text/plain",
        "chunks.txt",
        move |_pool, send| {
            for _ in 0..10 {
                reading.fetch_add(1, Ordering::SeqCst);
                if !send(b"chunk\n".to_vec()) {
                    break;
                }
            }
            ending.store(1, Ordering::SeqCst);
            Ok(())
        },
    )
    .await
    .expect("the first chunk");
    // The client leaves without taking any chunk but the first, once the writing had time
    // to read ahead as far as it would.
    for _ in 0..200 {
        if read.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(response);
    for _ in 0..200 {
        if ended.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(ended.load(Ordering::SeqCst), 1, "the writing stopped");
    assert_eq!(
        read.load(Ordering::SeqCst),
        2,
        "the first chunk, and the one read while it was sent"
    );
}
