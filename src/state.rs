//! What every request shares — the pool, the settings, the cookie key — and
//! [`run`], the one way blocking database work leaves the async workers.

use actix_web::cookie::Key;
use diesel::r2d2::PooledConnection;

use crate::config::Settings;
use crate::db::{DbConnection, DbManager, DbPool};
use crate::domain::insights::FiguresKept;
use crate::error::AppError;

/// Shared by every request handler.
pub struct AppState {
    /// Database connections.
    pub pool: DbPool,
    /// The resolved settings.
    pub settings: Settings,
    /// Where customers open links: `--public-url`, or this server's own address.
    pub public_url: String,
    /// Signs the self-service cookie (the staff session's key).
    pub cookie_key: Key,
    /// Insights figures read lately (kept while their slice is not refreshed).
    pub figures: FiguresKept,
}

impl AppState {
    /// Runs blocking database work on this state's pool (see [`run`]).
    pub async fn run<F, T>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        run(&self.pool, work).await
    }
}

/// Runs blocking Diesel work on the thread pool; the connection is checked out inside the
/// closure so an async worker never waits on the pool.
pub async fn run<F, T>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || on_connection(&pool, work)).await?
}

/// Runs `work`, already on a blocking thread, on a connection checked out of `pool` for it
/// alone. Work that ended well vouches for the connection for a moment (see `db::pool`);
/// work that failed has it checked on its next checkout.
pub fn on_connection<F, T>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
{
    let waiting = crate::metrics::Waiting::start();
    let mut conn: PooledConnection<DbManager> = pool.get()?;
    drop(waiting);
    let done = work(&mut conn);
    match done {
        Ok(_) => conn.proven(),
        Err(_) => conn.doubted(),
    }
    done
}
