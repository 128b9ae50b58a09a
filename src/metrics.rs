//! Prometheus metrics of this process: requests by route pattern and status with their
//! latency, database pool use, sign-in failures; and, read from the database when scraped,
//! the job queue and the outbox. Served at `/metrics` only with `--metrics-token`.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::db::{DbConnection, DbPool};

/// A request's labels: its method, the route pattern it matched (never the path itself,
/// which holds ids and tokens) and its status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// The latency histogram's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    sign_in_failures: Counter,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_waiting: Gauge,
    jobs_waiting: Gauge,
    oldest_job_seconds: Gauge,
    outbox_pending: Gauge,
    outbox_failed: Gauge,
}

/// Requests waiting for a pooled connection right now.
static WAITING: AtomicI64 = AtomicI64::new(0);

/// This process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("clientele");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by method and route pattern",
            latency.clone(),
        );
        let sign_in_failures = Counter::default();
        registry.register(
            "sign_in_failures",
            "Sign-ins refused (wrong password, unknown or deactivated account, throttled)",
            sign_in_failures.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        Metrics {
            pool_connections: gauge(
                &mut registry,
                "db_pool_connections",
                "Connections the pool holds",
            ),
            pool_idle: gauge(
                &mut registry,
                "db_pool_idle",
                "Connections idle in the pool",
            ),
            pool_waiting: gauge(
                &mut registry,
                "db_pool_waiting",
                "Requests waiting for a connection",
            ),
            jobs_waiting: gauge(
                &mut registry,
                "jobs_unfinished",
                "Jobs queued or running (every instance)",
            ),
            oldest_job_seconds: gauge(
                &mut registry,
                "jobs_oldest_age_seconds",
                "Age of the oldest unfinished job (0 without one)",
            ),
            outbox_pending: gauge(
                &mut registry,
                "outbox_pending",
                "Deliveries waiting to be sent (every instance)",
            ),
            outbox_failed: gauge(
                &mut registry,
                "outbox_failed",
                "Deliveries given up as failed (every instance)",
            ),
            registry,
            requests,
            latency,
            sign_in_failures,
        }
    }

    /// Counts an answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Counts a refused sign-in.
    pub fn sign_in_failed(&self) {
        self.sign_in_failures.inc();
    }

    /// The metrics in the text format, with the pool and the database's figures as they
    /// are now.
    pub fn render(
        &self,
        pool: &DbPool,
        conn: &mut DbConnection,
    ) -> Result<String, crate::error::AppError> {
        let state = pool.state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        self.pool_waiting.set(WAITING.load(Ordering::Relaxed));
        let (unfinished, oldest) = crate::db::jobs::backlog(conn)?;
        self.jobs_waiting.set(unfinished);
        self.oldest_job_seconds.set(oldest);
        let (pending, failed) = crate::db::outbox::backlog(conn)?;
        self.outbox_pending.set(pending);
        self.outbox_failed.set(failed);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| crate::error::AppError::Unexpected(anyhow::anyhow!("metrics: {e}")))?;
        Ok(text)
    }
}

/// Marks a wait for a pooled connection, for as long as the guard lives.
pub struct Waiting;

impl Waiting {
    /// Starts a wait.
    pub fn start() -> Self {
        WAITING.fetch_add(1, Ordering::Relaxed);
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
    }
}
