//! Database access: the connection enum over both backends, the pool, migrations, and one
//! query module per table group. Backend-specific SQL lives here and nowhere else.
//!
//! Diesel keeps prepared statements per connection. After five runs of one statement
//! PostgreSQL may switch it to a generic plan, costed without the values: the capped
//! count of "created this week" became a sequential scan (2.5 ms → 24 ms a page), a
//! lookup by an import batch's 2,000-value list tested the list on every row (20 ms →
//! 2.5 s). Queries whose best plan depends on their values (the customer filters, lookups
//! by long lists) therefore carry [`planned_per_run`]. Planning every statement that way
//! (`plan_cache_mode = force_custom_plan` on the connection) was measured too: it made
//! writes such as the generator's 1.8× slower. Plans are only as good as the statistics,
//! so an import refreshes them as its tables grow ([`refresh_statistics`]).

/// Runs one Diesel statement on whichever backend the connection is: for statements the
/// two-backend connection cannot build itself (multi-row inserts, `ON CONFLICT`), and for
/// the reads nearly every page makes (the session check, the registry, a customer by ID,
/// a page's rows with their tags and values). The two-backend connection writes a
/// statement's SQL out again on every run to hand it on, where the backend's own keeps a
/// prepared statement by its type and writes nothing: a tenth of a cheap page's CPU on
/// SQLite (2026-12-01).
macro_rules! either_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgresql($c) => $body,
        }
    };
}

/// [`either_backend!`] for a statement with `column` among `values` (see [`among`]):
/// `$among` is that condition, written for the backend of `$c`.
macro_rules! among_backend {
    ($conn:expr, $column:expr, $values:expr, |$c:ident, $among:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => {
                let $among = $crate::db::among::Among::new($column, $values);
                $body
            }
            $crate::db::DbConnection::Postgresql($c) => {
                let $among = diesel::ExpressionMethods::eq_any($column, $values.to_vec());
                $body
            }
        }
    };
}

pub mod activity;
pub mod among;
pub mod audit;
pub mod card;
pub mod comments;
pub mod conversations;
pub mod counted;
#[macro_use]
pub mod customers;
pub mod duplicate_checks;
pub mod duplicates;
pub mod engagement;
pub mod erasure;
pub mod events;
pub mod generate;
pub mod identities;
pub mod imports;
pub mod insights;
pub mod jobs;
pub mod kept;
pub mod leases;
pub mod lifecycle;
pub mod limits;
pub mod links;
pub mod listing;
pub mod locks;
pub mod merges;
pub mod notes;
pub mod orders;
pub mod outbox;
mod pool;
pub mod properties;
pub mod queue;
mod relations;
pub mod retention;
pub mod schema;
pub mod search;
pub mod segments;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod stamp;
pub mod tags;
pub mod teams;
pub mod tokens;
pub mod types;
pub mod users;
pub mod written;

use std::fmt;
use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use pool::{Checked, DbManager, DbPool, connect};

/// One connection type for both backends; queries written once run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// The production backend.
    Postgresql(diesel::PgConnection),
    /// The embedded default.
    Sqlite(diesel::SqliteConnection),
}

diesel::define_sql_function! {
    /// SQL `lower()`, on both backends.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

diesel::define_sql_function! {
    /// SQL `coalesce()` of a nullable number and a fallback, on both backends.
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Integer>, otherwise: diesel::sql_types::Integer) -> diesel::sql_types::Integer;
}

diesel::define_sql_function! {
    /// SQL `coalesce()` of a condition and a fallback, on both backends.
    #[sql_name = "coalesce"]
    fn coalesce_bool(x: diesel::sql_types::Nullable<diesel::sql_types::Bool>, otherwise: diesel::sql_types::Bool) -> diesel::sql_types::Bool;
}

diesel::define_sql_function! {
    /// SQL `coalesce()` of two nullable times, on both backends.
    #[sql_name = "coalesce"]
    fn coalesce_time(x: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, otherwise: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>) -> diesel::sql_types::Nullable<diesel::sql_types::Timestamp>;
}

/// `text` with LIKE's wildcards and the backslash escaped, to match itself in a pattern
/// read with `ESCAPE '\\'`.
pub fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where the data lives, parsed from the URL scheme so a typo is an error instead of a new,
/// empty SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.db` or `sqlite:///absolute/path.db`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to libpq as written.
    Postgres(String),
}

/// Why a database URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    /// No scheme we know.
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH for the embedded database or postgres://USER@HOST/DB for PostgreSQL"
    )]
    UnknownScheme(String),
    /// `sqlite://` with nothing after it, or an in-memory database behind a pool.
    #[error("the SQLite URL needs a file path, e.g. sqlite://clientele.db")]
    MissingPath,
    /// `postgres://` with nothing after it.
    #[error("the PostgreSQL URL needs a host, e.g. postgres://clientele@127.0.0.1/clientele")]
    MissingHost,
}

impl std::str::FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
                return Err(DatabaseUrlError::MissingPath);
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        for scheme in ["postgres://", "postgresql://"] {
            if let Some(rest) = raw.strip_prefix(scheme) {
                if rest.is_empty() {
                    return Err(DatabaseUrlError::MissingHost);
                }
                return Ok(DatabaseUrl::Postgres(raw.to_owned()));
            }
        }
        // Only the scheme is echoed: the rest may hold a password.
        let scheme = raw.split("://").next().unwrap_or_default();
        Err(DatabaseUrlError::UnknownScheme(format!("{scheme}://…")))
    }
}

impl fmt::Debug for DatabaseUrl {
    /// Never prints a PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => write!(f, "{}", redact_password(url)),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Applies pending migrations for whichever backend the connection is. On PostgreSQL an
/// advisory lock keeps instances that start together from migrating twice.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        }
        DbConnection::Postgresql(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7714200001);")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            c.batch_execute("SELECT pg_advisory_unlock(7714200001);")?;
            result?;
        }
    }
    Ok(())
}

/// Reverts migrations, newest first, through the one of `version` (its folder's date and
/// number without dashes, `20261129000039`): a test then runs a migration's fill on rows
/// written before it.
pub fn revert_migrations_through(conn: &mut DbConnection, version: &str) -> anyhow::Result<()> {
    loop {
        let reverted = match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
            DbConnection::Postgresql(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?
        .to_string();
        if reverted == version {
            return Ok(());
        }
    }
}

/// The turn to write on SQLite, handed over in arrival order. Without it, writers that find
/// the database locked sleep and retry (SQLite's busy handler backs off up to 100 ms a
/// try), and a writer that commits and begins again at once — the import, an inbound
/// burst — keeps winning: waiting writers saw p99 latencies over a second.
static SQLITE_WRITERS: parking_lot::FairMutex<()> = parking_lot::FairMutex::new(());

/// Whether a SQLite connection is inside a transaction already (a savepoint follows).
fn in_transaction(conn: &mut diesel::SqliteConnection) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .is_some()
}

/// Runs `work` in a write transaction. On SQLite the write lock is taken first (as with
/// BEGIN IMMEDIATE): a transaction that reads before it writes would otherwise fail at
/// once with "database is locked" when another writer is active, instead of waiting.
/// A lone write belongs here too: outside it, the statement waits in SQLite's busy handler,
/// which backs off and keeps losing to writers that take turns (a sign-in during an
/// import took 2.3 s that way).
pub fn transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let _turn = match conn {
        DbConnection::Sqlite(c) => (!in_transaction(c)).then(|| SQLITE_WRITERS.lock()),
        DbConnection::Postgresql(_) => None,
    };
    conn.transaction(|conn| {
        if let DbConnection::Sqlite(sqlite) = conn {
            sqlite.batch_execute("UPDATE app_settings SET value = value WHERE 0")?;
        }
        work(conn)
    })
}

/// Runs one lone write statement: on SQLite in a [`transaction`], to take the writer's
/// turn; on PostgreSQL as it is, committed by itself, without the two round trips of a
/// BEGIN and a COMMIT around it.
pub fn lone_write<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if has_one_writer(conn) {
        transaction(conn, work)
    } else {
        work(conn)
    }
}

/// Whether every writer waits for the one before it (SQLite), so that write batches are
/// best kept short; PostgreSQL writers do not wait on each other.
pub fn has_one_writer(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Sqlite(_))
}

/// Whether the database answers (the health check).
pub fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// An always-true condition that keeps its query out of Diesel's statement cache (Diesel
/// never caches a query with literal SQL in it), so that PostgreSQL plans each run for
/// its own values instead of settling on a generic plan (see the module doc).
pub fn planned_per_run() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("TRUE")
}

/// Refreshes PostgreSQL's statistics of these tables (SQLite plans without them).
pub fn refresh_statistics(conn: &mut DbConnection, tables: &[&str]) -> QueryResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        for table in tables {
            // The names are the caller's constants, never input.
            c.batch_execute(&format!("ANALYZE {table}"))?;
        }
    }
    Ok(())
}

/// How many rows one multi-row INSERT of `columns` columns may carry: SQLite binds at most
/// 32,766 values per statement, PostgreSQL 65,535.
pub fn rows_per_insert(columns: usize) -> usize {
    (30_000 / columns.max(1)).max(1)
}

/// The current time as stored: UTC without offset, to the microsecond (PostgreSQL's
/// precision, so a value reads back equal on both backends).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration_names(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        e.path().join("up.sql").is_file() && e.path().join("down.sql").is_file()
                    })
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_migrations_each_with_up_and_down() {
        let sqlite = migration_names("sqlite");
        let postgres = migration_names("postgres");
        assert!(!sqlite.is_empty(), "no migrations found");
        assert_eq!(sqlite, postgres);
    }

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(
            "sqlite://data/c.db".parse::<DatabaseUrl>(),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("data/c.db")))
        );
        assert_eq!(
            "sqlite:///var/lib/c.db".parse::<DatabaseUrl>(),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/c.db")))
        );
        assert!(matches!(
            "postgresql://u@h/db".parse::<DatabaseUrl>(),
            Ok(DatabaseUrl::Postgres(_))
        ));
    }

    #[test]
    fn typos_and_unknown_schemes_are_refused() {
        for bad in [
            "postgress://u@h/db",
            "host=localhost port=5432",
            "clientele.db",
            "mysql://x",
            "sqlite:/x.db",
        ] {
            assert!(
                matches!(
                    bad.parse::<DatabaseUrl>(),
                    Err(DatabaseUrlError::UnknownScheme(_))
                ),
                "{bad} should be refused"
            );
        }
        assert_eq!(
            "sqlite://".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::MissingPath)
        );
        assert_eq!(
            "sqlite://:memory:".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::MissingPath)
        );
    }

    #[test]
    fn a_postgres_password_is_never_displayed() {
        let url: DatabaseUrl = "postgres://app:s3cret@db:5432/c"
            .parse()
            .unwrap_or_else(|_| DatabaseUrl::Sqlite(PathBuf::from("unreachable")));
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/c");
        let err = "postgress://app:s3cret@db/c".parse::<DatabaseUrl>();
        assert!(!format!("{err:?}").contains("s3cret"));
    }

    #[test]
    fn the_bundled_sqlite_is_built_for_many_connections() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in memory");
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .expect("compile options")
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        // See `.cargo/config.toml`: one lock per page read across all connections, one
        // per allocation, and one per step of every statement, all gone; a statement
        // kept prepared whatever its bound patterns.
        assert!(options.contains(&"THREADSAFE=2".to_owned()), "{options:?}");
        assert!(!options.contains(&"ENABLE_MEMORY_MANAGEMENT".to_owned()));
        assert!(
            options.contains(&"DEFAULT_MEMSTATUS=0".to_owned()),
            "{options:?}"
        );
        assert!(options.contains(&"ENABLE_QPSG".to_owned()), "{options:?}");
    }
}
