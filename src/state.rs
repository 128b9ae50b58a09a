//! What every request shares — the pool, the settings, the self-service limiter — and
//! [`run`], the one way blocking database work leaves the async workers.

use std::num::NonZeroU32;

use actix_web::cookie::Key;
use diesel::r2d2::PooledConnection;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::db::{DbConnection, DbManager, DbPool};
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
    /// Requests per address and per self-service link.
    pub self_service_limiter: Limiter,
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

/// Self-service requests per minute allowed per client address, and per link.
pub const SELF_SERVICE_PER_MINUTE: u32 = 30;

/// A rate limiter keyed by address or link.
pub type Limiter = DefaultKeyedRateLimiter<String>;

/// The self-service limiter; each instance keeps its own in memory.
pub fn self_service_limiter() -> Limiter {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(SELF_SERVICE_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
    ))
}

/// Runs blocking Diesel work on the thread pool; the connection is checked out inside the
/// closure so an async worker never waits on the pool.
pub async fn run<F, T>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn: PooledConnection<DbManager> = pool.get()?;
        work(&mut conn)
    })
    .await?
}
