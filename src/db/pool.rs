//! The pool every request draws from: connections opened for either backend, and a check
//! on checkout only where a connection may have gone stale.
//!
//! r2d2 asks the manager on every checkout whether a connection still works. On PostgreSQL
//! that question is a `SELECT 1`, one round trip more for each of a request's two checkouts
//! (the caller's check, then the work). A connection that served a request a moment ago
//! answers it the same way, so [`Checked`] carries how long it is trusted: a second after
//! work that ended well. A database restart takes longer than that, so every connection it
//! dropped is still checked before use; one that failed is checked on its next checkout.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};

use super::{DatabaseUrl, DbConnection};

/// The connection pool every handler draws from.
pub type DbPool = Pool<DbManager>;

/// How long a connection that just served a request is handed out without a check.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and until when it needs no check on checkout. It is used as the
/// [`DbConnection`] it holds.
pub struct Checked {
    conn: DbConnection,
    trusted_until: Option<Instant>,
}

impl Checked {
    /// The connection just did its work: the next checkouts within [`TRUSTED_FOR`] skip
    /// the check.
    pub fn proven(&mut self) {
        self.trusted_until = Some(Instant::now() + TRUSTED_FOR);
    }

    /// The work on it failed, perhaps because the database dropped it: checked on its
    /// next checkout whenever that is.
    pub fn doubted(&mut self) {
        self.trusted_until = None;
    }

    fn trusted(&self) -> bool {
        self.trusted_until
            .is_some_and(|until| Instant::now() < until)
    }
}

impl Deref for Checked {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Checked {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// An r2d2 manager that opens the backend named by the URL scheme, and sets what every
/// connection needs (SQLite's pragmas, PostgreSQL's plans without parallel workers).
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl DbManager {
    /// A manager for `url`; [`connect`] is the usual way to get a pool.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens a connection and sets what it needs.
    fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    diesel::PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // Each request is one statement at a time on one core: workers started
                // for a parallel plan wait for cores the other requests hold (a page
                // walking an index for 3,000 rows took 42 ms with two workers, 9 ms
                // without).
                conn.batch_execute("SET max_parallel_workers_per_gather = 0")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = Checked;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Checked, r2d2::Error> {
        let conn = self.open()?;
        Ok(Checked {
            conn,
            trusted_until: None,
        })
    }

    /// Run on every checkout. A PostgreSQL connection the server dropped is found here
    /// rather than by the request that gets it, unless it served one within the last
    /// second (see the module's notes); an embedded database cannot drop one.
    fn is_valid(&self, checked: &mut Checked) -> Result<(), r2d2::Error> {
        if checked.trusted() {
            return Ok(());
        }
        match &mut checked.conn {
            DbConnection::Sqlite(_) => Ok(()),
            conn @ DbConnection::Postgresql(_) => {
                conn.batch_execute("SELECT 1")
                    .map_err(r2d2::Error::QueryError)?;
                checked.proven();
                Ok(())
            }
        }
    }

    /// A connection given back inside a transaction (work that panicked, a rollback that
    /// failed) or one the server dropped (Diesel marks both) is closed rather than lent to
    /// the next request.
    fn has_broken(&self, checked: &mut Checked) -> bool {
        checked.conn.is_broken()
    }
}

/// Builds the pool and checks one connection out, so a wrong URL or a database that is
/// down fails at start with the backend's own message.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<DbPool> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let manager = DbManager { url: url.clone() };
    // Fail fast with the real error instead of r2d2's generic time-out.
    manager
        .open()
        .map_err(|e| anyhow::anyhow!("cannot open the database {url}: {e}"))?;
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(5))
        .build(manager)?;
    Ok(pool)
}
