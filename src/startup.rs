//! Builds the running server from settings. `main` and the tests both go through here, so
//! the tests exercise exactly what production runs.

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use sha2::{Digest, Sha512};

use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::domain::password::random_hex;
use crate::services::delivery;
use crate::state::AppState;
use crate::{auth, middleware, routes};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    background: DbPool,
    pacing: delivery::Pacing,
    shutdown_timeout: std::time::Duration,
}

/// Set when the server is stopping: background loops finish what is under way and return.
pub type Stop = tokio::sync::watch::Receiver<bool>;

/// Waits `idle`, or less when the server starts stopping meanwhile.
pub async fn pause(stop: &mut Stop, idle: std::time::Duration) {
    let _ = tokio::time::timeout(idle, stop.wait_for(|stopping| *stopping)).await;
}

/// The name of the staff session cookie.
pub const SESSION_COOKIE: &str = "clientele_session";

/// Connections kept for background work apart from the requests' pool: the job worker
/// (bulk changes, imports, lifecycle runs, re-indexing, duplicate checks, insights, the
/// hourly sweep, one at a time) and each delivery sender, which
/// holds its connection while the receiver answers. A slow receiver or an import's part
/// then never leaves the pages waiting for a connection.
const BACKGROUND_CONNECTIONS: u32 = 1 + crate::db::outbox::IN_FLIGHT_AT_MOST.unsigned_abs() as u32;

/// The largest form body accepted (a profile with many long text values fits easily).
const FORM_LIMIT: usize = 1024 * 1024;

impl Application {
    /// Connects, migrates, and binds. Port 0 picks a free port.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = db::connect(&settings.database_url, settings.pool_size)?;
        {
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
        }
        let background = db::connect(&settings.database_url, BACKGROUND_CONNECTIONS)?;
        let key = session_key(&pool, &settings)?;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let workers = settings.workers;
        let shutdown_timeout = std::time::Duration::from_secs(settings.shutdown_timeout_secs);
        let pool_size = settings.pool_size as usize;
        let pacing = delivery::Pacing {
            poll: std::time::Duration::from_millis(settings.outbox_poll_ms),
            retry_base: std::time::Duration::from_millis(settings.retry_base_ms),
            give_up_after: chrono::TimeDelta::seconds(
                i64::try_from(settings.delivery_horizon_secs).unwrap_or(i64::MAX / 1000),
            ),
            allow_private: settings.allow_private_webhooks,
        };
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings,
            public_url,
            cookie_key: key.clone(),
            figures: Default::default(),
        });
        let mut server = HttpServer::new(move || {
            let cookie_secure = state.settings.cookie_secure;
            let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name(SESSION_COOKIE.to_owned())
                .cookie_secure(cookie_secure)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Signed)
                .session_lifecycle(
                    PersistentSession::default().session_ttl(CookieDuration::days(14)),
                )
                .build();
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(FORM_LIMIT))
                // Import uploads go to a temporary file.
                .app_data(
                    actix_multipart::form::MultipartFormConfig::default()
                        .total_limit(crate::handlers::customers::import::UPLOAD_LIMIT_BYTES)
                        .memory_limit(64 * 1024),
                )
                .app_data(
                    web::FormConfig::default()
                        .limit(FORM_LIMIT)
                        .error_handler(|error, _| {
                            let mut errors = crate::domain::FieldErrors::default();
                            errors.push("form", format!("The form could not be read ({error})."));
                            crate::error::AppError::Invalid(errors).into()
                        }),
                )
                .configure(|cfg| {
                    if state.settings.bench_ceiling {
                        cfg.route(
                            "/bench/ceiling",
                            actix_web::web::get().to(crate::handlers::health::ceiling),
                        );
                    }
                    routes::configure(cfg, &state.settings.static_dir)
                })
                .wrap(from_fn(middleware::clean_bodies))
                .wrap(from_fn(middleware::head_as_get))
                .wrap(from_fn(auth::csrf_guard))
                .wrap(sessions)
                .wrap(Compress::default())
                // Outermost: every answer, refusals before a handler included, is logged
                // once and carries the security headers.
                .wrap(from_fn(middleware::log_requests))
                .wrap(middleware::security_headers(cookie_secure))
        })
        .tcp_nodelay(true)
        // A request's database work runs on a blocking thread that waits for a pooled
        // connection: more threads than connections only wait, each with its own
        // allocator arena.
        .worker_max_blocking_threads(pool_size)
        .shutdown_timeout(shutdown_timeout.as_secs())
        .listen(listener)?;
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
            pool,
            background,
            pacing,
            shutdown_timeout,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pool the server uses (tests inspect the database through it).
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves until stopped, delivering the outbox and working jobs in the background
    /// meanwhile. On SIGTERM (or SIGINT) the server stops accepting connections and
    /// finishes the requests in flight; then the background workers finish the batch or
    /// delivery under way; each within the shutdown timeout.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stopping, stop) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(delivery::run(
            self.background.clone(),
            self.pacing,
            stop.clone(),
        ));
        let background = tokio::spawn(crate::services::jobs::run(
            self.background,
            self.pacing.poll,
            stop,
        ));
        let result = self.server.await;
        tracing::info!("requests finished; finishing background work");
        let _ = stopping.send(true);
        let finished = tokio::time::timeout(self.shutdown_timeout, async {
            let _ = worker.await;
            let _ = background.await;
        })
        .await;
        match finished {
            Ok(()) => tracing::info!("stopped"),
            Err(_) => tracing::warn!(
                "stopped before background work finished (it resumes at the next start)"
            ),
        }
        result
    }
}

/// The cookie-signing key: derived from `CLIENTELE_SECRET_KEY` when given, otherwise
/// generated once and kept in the database so restarts and sibling instances agree.
fn session_key(pool: &DbPool, settings: &Settings) -> anyhow::Result<Key> {
    let material = match &settings.secret_key {
        Some(secret) => secret.expose().to_owned(),
        None => {
            let mut conn = pool.get()?;
            db::settings::insert_setting_if_absent(
                &mut conn,
                crate::db::types::Setting::SessionSigningKey,
                &random_hex(64),
            )?
        }
    };
    let digest = Sha512::digest(material.as_bytes());
    Ok(Key::from(digest.as_slice()))
}
