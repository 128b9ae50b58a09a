//! Every pooled connection carries the settings the queries rely on; one left inside a
//! transaction is never lent again, and one the server dropped fails at most the request
//! that found it.

use chrono::{Duration, Utc};
use clientele::db::DbConnection;
use clientele::db::listing::{self, CustomerFilter};
use clientele::db::schema::{channel_identities, customers, import_keys};
use clientele::db::{identities, imports};
use diesel::RunQueryDsl;
use diesel::prelude::*;

use crate::helpers::{TextRow, receive_web, require_backend, spawn_app, text_rows};

#[tokio::test]
#[ignore = "SQLite only: scripts/test runs it with --ignored sqlite_only"]
async fn sqlite_only_connections_enforce_foreign_keys_and_wait_for_the_writer() {
    require_backend(false);
    let app = spawn_app().await;
    app.with_db(|conn| {
        let keys = "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys()";
        assert_eq!(text_rows(conn, keys), ["1"]);
        let wait = "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout()";
        assert_eq!(text_rows(conn, wait), ["10000"]);
    });
}

/// The statements of this connection that PostgreSQL keeps prepared and that `pattern`
/// (an SQL LIKE pattern) matches.
fn prepared_like(conn: &mut DbConnection, pattern: &str) -> Vec<String> {
    let sql = format!(
        "SELECT statement AS value FROM pg_prepared_statements WHERE statement LIKE '{pattern}'"
    );
    text_rows(conn, &sql)
}

/// What the value-planned queries look like once prepared: a comparison of the creation
/// time, and lookups by a list of identities or import keys.
const PLANNED_SHAPES: [&str; 3] = [
    "%\"created_at\" >=%",
    "%\"external_id\" = ANY%",
    "%\"key\" = ANY%",
];

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_queries_planned_for_their_values_are_never_kept_as_prepared_statements() {
    // A statement PostgreSQL has run five times may get a generic plan, costed without
    // its values: "created this week" then scanned every customer, and an import's
    // 2,000-value lookups tested the list on every row.
    require_backend(true);
    let app = spawn_app().await;
    app.with_db(|conn| {
        // First, plain queries of the same shapes, which Diesel does keep prepared: each
        // pattern must find its own, or the check below would prove nothing.
        let since = (Utc::now() - Duration::days(7)).naive_utc();
        for _ in 0..2 {
            customers::table
                .filter(customers::created_at.ge(since))
                .count()
                .get_result::<i64>(conn)
                .expect("the control count runs");
            channel_identities::table
                .filter(channel_identities::external_id.eq_any(["+385911111111"]))
                .select(channel_identities::id)
                .load::<i64>(conn)
                .expect("the control lookup runs");
            import_keys::table
                .filter(import_keys::key.eq_any(["email:someone@example.com"]))
                .select(import_keys::row_number)
                .load::<i64>(conn)
                .expect("the control key lookup runs");
        }
        let controls: Vec<Vec<String>> = PLANNED_SHAPES
            .iter()
            .map(|pattern| prepared_like(conn, pattern))
            .collect();
        for (pattern, found) in PLANNED_SHAPES.iter().zip(&controls) {
            assert_eq!(
                found.len(),
                1,
                "{pattern} should match its control: {found:?}"
            );
        }

        let filter = CustomerFilter {
            from: Some(since),
            ..CustomerFilter::default()
        };
        let plans = listing::plan(conn, &filter).expect("the filter plans");
        let keys = vec!["email:someone@example.com".to_owned()];
        for _ in 0..8 {
            listing::total(conn, &filter, &plans, None).expect("the count runs");
            identities::find_identities(conn, &[("whatsapp", "+385911111111")])
                .expect("the identity lookup runs");
            imports::key_rows(conn, clientele::db::types::JobId(1), &keys)
                .expect("the key lookup runs");
        }
        for (pattern, control) in PLANNED_SHAPES.iter().zip(&controls) {
            let kept = prepared_like(conn, pattern);
            assert_eq!(&kept, control, "kept as prepared statements: {kept:?}");
        }
    });
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_statements_with_written_values_stay_prepared() {
    // A fuzzy search asks whether any customer waits to be indexed, and "E-mail contains"
    // samples the newest customers, on every request: each was parsed and planned again
    // when its fixed value was literal SQL.
    require_backend(true);
    let app = spawn_app().await;
    app.with_db(|conn| {
        for _ in 0..2 {
            clientele::db::search::any_pending(conn).expect("the check runs");
            clientele::db::customers::ids_containing(
                conn,
                clientele::db::customers::ContactField::Email,
                "maria.",
                10,
            )
            .expect("the sample runs");
        }
        assert_eq!(prepared_like(conn, "%\"search_version\" < %").len(), 1);
        assert_eq!(
            prepared_like(conn, "%LIMIT 500) newest WHERE v LIKE $1%").len(),
            1
        );
    });
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_pooled_connections_plan_without_parallel_workers() {
    // On a few cores shared by every request, a parallel plan's workers wait for cores.
    require_backend(true);
    let app = spawn_app().await;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        max_parallel_workers_per_gather: String,
    }
    let setting = app.with_db(|conn| {
        diesel::sql_query("SHOW max_parallel_workers_per_gather")
            .get_result::<Setting>(conn)
            .expect("shown")
    });
    assert_eq!(setting.max_parallel_workers_per_gather, "0");
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_updates_stay_prepared() {
    // Diesel parses every UPDATE it builds again on each run; counting each inbound
    // message on its conversation and claiming a customer's next version are kept.
    require_backend(true);
    let app = spawn_app().await;
    let customer = app.create_customer(&[("name", "Prepared Update")]);
    let id = app.customer(&customer).id;
    app.with_db(|conn| {
        for text in ["hello", "again"] {
            receive_web(conn, "prepared-update", text);
            clientele::db::customers::bump_version(conn, id, None).expect("bumped");
        }
        assert_eq!(
            prepared_like(conn, "UPDATE \"conversations\" SET \"messages_count\"%").len(),
            1
        );
        assert_eq!(
            prepared_like(conn, "UPDATE \"customers\" SET \"version\"%RETURNING%").len(),
            1
        );
    });
}

/// A pool of one connection to the test app's database, so each checkout gets the same
/// connection unless the pool replaced it.
fn pool_of_one(app: &crate::helpers::TestApp) -> clientele::db::DbPool {
    let url = app.database_url().parse().expect("the test URL parses");
    clientele::db::connect(&url, 1).expect("the database opens")
}

/// The PostgreSQL backend serving this connection, as a request's work would ask it:
/// a connection that is gone is an error, not a panic.
fn backend_pid(conn: &mut DbConnection) -> Result<String, clientele::error::AppError> {
    let DbConnection::Postgresql(c) = conn else {
        panic!("a PostgreSQL connection");
    };
    let row: TextRow =
        diesel::sql_query("SELECT CAST(pg_backend_pid() AS TEXT) AS value").get_result(c)?;
    Ok(row.value)
}

#[tokio::test]
async fn a_connection_given_back_inside_a_transaction_is_not_lent_again() {
    use diesel::connection::{Connection, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    let app = spawn_app().await;
    let pool = pool_of_one(&app);
    {
        // Work that began a transaction and never ended it (a panic mid-way would).
        let mut conn = pool.get().expect("a connection");
        Manager::begin_transaction(&mut conn).expect("the transaction begins");
    }
    let mut conn = pool.get().expect("a connection");
    let depth = Manager::transaction_manager_status_mut(&mut conn)
        .transaction_depth()
        .expect("a usable connection");
    assert_eq!(
        depth, None,
        "the next checkout starts outside any transaction"
    );
}

/// Serves one request on the pool's connection, then has the server drop that
/// connection (waiting until its backend is gone); returns the backend it was.
async fn served_then_dropped(
    app: &crate::helpers::TestApp,
    pool: &clientele::db::DbPool,
) -> String {
    let first = clientele::state::run(pool, backend_pid)
        .await
        .expect("the first request is served");
    app.with_db(|conn| {
        text_rows(
            conn,
            &format!("SELECT CAST(pg_terminate_backend({first}, 5000) AS TEXT) AS value"),
        )
    });
    first
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_a_connection_that_failed_is_checked_before_it_is_lent_again() {
    // A connection that just served a request is lent without a check for a second;
    // one whose work failed is checked on its very next checkout, so a dropped
    // connection costs at most the one request that found it dropped.
    require_backend(true);
    let app = spawn_app().await;
    let pool = pool_of_one(&app);
    let first = served_then_dropped(&app, &pool).await;
    let found_dropped = clientele::state::run(&pool, backend_pid).await;
    assert!(
        found_dropped.is_err(),
        "the dropped connection fails its request"
    );
    let next = clientele::state::run(&pool, backend_pid)
        .await
        .expect("the request after it gets a working connection");
    assert_ne!(next, first, "a new connection replaced the dropped one");
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_a_connection_dropped_while_idle_never_reaches_a_request() {
    // A database restart takes longer than the moment a connection is trusted: every
    // connection it dropped is checked, and replaced, before a request gets it.
    require_backend(true);
    let app = spawn_app().await;
    let pool = pool_of_one(&app);
    let first = served_then_dropped(&app, &pool).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let next = clientele::state::run(&pool, backend_pid)
        .await
        .expect("the request after the drop is served");
    assert_ne!(next, first, "a new connection replaced the dropped one");
}
