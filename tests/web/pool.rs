//! Every pooled connection carries the settings the queries rely on.

use chrono::{Duration, Utc};
use clientele::db::DbConnection;
use clientele::db::listing::{self, CustomerFilter};
use clientele::db::{identities, imports};
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use crate::helpers::spawn_app;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    value: String,
}

fn read(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    let rows: Vec<Row> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c),
    }
    .expect("the query runs");
    rows.into_iter().map(|row| row.value).collect()
}

#[tokio::test]
async fn sqlite_connections_enforce_foreign_keys_and_wait_for_the_writer() {
    let app = spawn_app().await;
    app.with_db(|conn| {
        if let DbConnection::Sqlite(_) = conn {
            let keys = "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys()";
            assert_eq!(read(conn, keys), ["1"]);
            let wait = "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout()";
            assert_eq!(read(conn, wait), ["10000"]);
        }
    });
}

#[tokio::test]
async fn queries_planned_for_their_values_are_never_kept_as_prepared_statements() {
    // A statement PostgreSQL has run five times may get a generic plan, costed without
    // its values: "created this week" then scanned every customer, and an import's
    // 2,000-value lookups tested the list on every row.
    let app = spawn_app().await;
    app.with_db(|conn| {
        let filter = CustomerFilter {
            from: Some((Utc::now() - Duration::days(7)).naive_utc()),
            ..CustomerFilter::default()
        };
        let plans = listing::plan(conn, &filter).expect("the filter plans");
        let keys = vec!["email:someone@example.com".to_owned()];
        for _ in 0..8 {
            listing::count_filtered(conn, &filter, &plans, 100).expect("the count runs");
            identities::find_identities(conn, &[("whatsapp", "+385911111111")])
                .expect("the identity lookup runs");
            imports::key_rows(conn, clientele::db::types::JobId(1), &keys)
                .expect("the key lookup runs");
        }
        if let DbConnection::Postgresql(_) = conn {
            let kept = read(
                conn,
                "SELECT statement AS value FROM pg_prepared_statements \
                 WHERE statement LIKE '%\"created_at\" >=%' \
                    OR statement LIKE '%\"external_id\" = ANY%' \
                    OR statement LIKE '%\"key\" = ANY%'",
            );
            assert!(kept.is_empty(), "kept as prepared statements: {kept:?}");
        }
    });
}
