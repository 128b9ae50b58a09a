//! Anonymization (GDPR erasure): the customer's personal data and message texts are gone
//! from every table of either database; counts, ratings and timestamps stay.

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, location, spawn_app};

/// The strings that must not survive anywhere.
const ERASED: [&str; 10] = [
    "Lovelace",
    "ada.lovelace@example.com",
    "385912345678",
    "Mostar",
    "LOV9911",
    "Ilica 77",
    "203.0.113.77",
    "ada.example/landing",
    "prefers evenings",
    "Book for her niece",
];

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every (table, column) of the database that can hold text.
fn text_columns(conn: &mut clientele::db::DbConnection) -> Vec<(String, String)> {
    use clientele::db::DbConnection;
    let columns: Vec<Column> = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(
            "SELECT table_name::TEXT AS table_name, column_name::TEXT AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND data_type IN ('text', 'character varying')",
        )
        .load(c),
        // SQLite stores text in any column: every column of every table is read.
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .load(c),
    }
    .expect("the catalogue");
    columns
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect()
}

/// Where any of `needles` still stands, as `table.column: needle`.
fn left_behind(app: &TestApp, needles: &[&str]) -> Vec<String> {
    app.with_db(|conn| {
        let mut found = Vec::new();
        for (table, column) in text_columns(conn) {
            for needle in needles {
                let sql = format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" \
                     WHERE lower(CAST(\"{column}\" AS TEXT)) LIKE '%{}%'",
                    needle.to_lowercase()
                );
                let count: Count = match conn {
                    clientele::db::DbConnection::Postgresql(c) => {
                        diesel::sql_query(&sql).get_result(c)
                    }
                    clientele::db::DbConnection::Sqlite(c) => diesel::sql_query(&sql).get_result(c),
                }
                .expect("the scan runs");
                if count.n > 0 {
                    found.push(format!("{table}.{column}: {needle}"));
                }
            }
        }
        found
    })
}

/// A customer with personal data in every place it can be.
async fn ada(app: &TestApp, token: &str) -> String {
    app.create_property("loyalty_code", "word", &[], "edit");
    let customer = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada.lovelace@example.com"),
        ("phone", "+385912345678"),
        ("city", "Mostar"),
        ("loyalty_code", "LOV9911"),
    ]);
    let answer = app
        .inbound(
            token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "display_name": "Ada Lovelace", "text": "My flat is at Ilica 77", "web": {"ip": "203.0.113.77", "source": "https://ada.example/landing"}}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/rating"),
            token,
            Some(json!({"rating": 4})),
        )
        .await;
    assert!(response.status().is_success());
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/customers/{customer}/orders/A-1"),
            token,
            Some(json!({"placed_at": "2026-11-20T10:00:00Z", "status": "paid", "total": "59.90", "currency": "EUR", "items_summary": "Book for her niece"})),
        )
        .await;
    assert!(response.status().is_success());
    customer
}

#[tokio::test]
async fn anonymizing_erases_every_string_from_every_table_and_keeps_the_counts() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let customer = ada(&app, &token).await;
    let supervisor = app.supervisor().await;
    supervisor
        .post_form(
            &format!("/customers/{customer}/notes"),
            &[("body", "Lovelace prefers evenings")],
        )
        .await;
    let conversation = app.with_db(|conn| {
        clientele::db::conversations::list_customer_conversations_before(
            conn,
            app.customer(&customer).id,
            &[],
            None,
            1,
        )
        .expect("conversations")[0]
            .id
    });
    supervisor
        .post_form(
            &format!("/conversations/{}/reply", conversation.0),
            &[("text", "Thanks, Ada Lovelace from Mostar!")],
        )
        .await;
    assert!(
        !left_behind(&app, &ERASED).is_empty(),
        "the scan finds the data before"
    );
    let before = app.customer(&customer);

    let page = supervisor
        .page(&format!("/customers/{customer}/anonymize"))
        .await;
    assert!(page.contains("cannot be undone") && page.contains("Type the customer ID"));
    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/anonymize"),
            &[("confirm", "C123")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.customer(&customer).email,
        before.email,
        "nothing erased"
    );

    let response = supervisor
        .post_form(
            &format!("/customers/{customer}/anonymize"),
            &[("confirm", &customer)],
        )
        .await;
    assert_eq!(
        location(&response),
        format!("/customers/{customer}/profile")
    );

    let left = left_behind(&app, &ERASED);
    assert!(left.is_empty(), "still stored: {left:?}");
    let after = app.customer(&customer);
    assert_eq!(
        after.name.as_deref(),
        Some(format!("Anonymized customer {customer}").as_str())
    );
    assert_eq!(
        (
            after.conversations_count,
            after.messages_count,
            after.csat_count
        ),
        (
            before.conversations_count,
            before.messages_count,
            before.csat_count
        ),
        "counts and ratings stay"
    );
    assert_eq!(after.created_at, before.created_at);

    // Nothing finds the old data, and the History entries stay, marked erased.
    let found = supervisor.page("/customers?period=any&name=Lovelace").await;
    assert!(!found.contains(&customer));
    let history = supervisor
        .page(&format!("/customers/{customer}/history"))
        .await;
    assert!(history.contains("erased") && history.contains("anonymized"));
    let recorded = app.with_db(|conn| {
        clientele::db::audit::list_audit(conn, &Default::default(), 10)
            .expect("the audit log")
            .into_iter()
            .any(|e| {
                e.action == "customer.anonymized" && e.subject == customer && e.detail.is_empty()
            })
    });
    assert!(recorded, "recorded without the erased data");

    // The former phone number is a stranger now.
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello again"}),
        )
        .await;
    assert_eq!(answer["known"], false);
}

#[tokio::test]
async fn an_agent_cannot_anonymize_and_integrations_must_say_so() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[("name", "Ada Lovelace")]);
    let agent = app.agent().await;
    let response = agent
        .post_form(
            &format!("/customers/{customer}/anonymize"),
            &[("confirm", &customer)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let path = format!("/api/v1/customers/{customer}");
    let response = app.api(Method::DELETE, &path, &token, None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.customer(&customer).name.as_deref(),
        Some("Ada Lovelace")
    );
    let anonymize = format!("{path}?mode=anonymize");
    let response = app.api(Method::DELETE, &anonymize, &token, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(left_behind(&app, &["Lovelace"]).is_empty());
    let response = app.api(Method::DELETE, &anonymize, &token, None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}
