//! Command line and environment: every setting in one place. Secrets are never printed.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::db::DatabaseUrl;

/// Clientele: customer profiles for contact centers.
#[derive(Debug, Parser)]
#[command(name = "clientele", version, about)]
pub struct Cli {
    /// Where the data lives: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://clientele.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff accounts from scripts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage API tokens from scripts.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Print the outbound webhook's signing secret, for the receiver's configuration.
    WebhookSecret {
        /// Make a new secret first (the receiver must then be given the new one).
        #[arg(long)]
        rotate: bool,
    },
    /// Copy the embedded database to a new file, consistently, while the server runs.
    Backup {
        /// The file to write (must not exist yet).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place of the embedded database (stop the server first).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database (it is kept beside, renamed `*.before-restore-*.db`).
        #[arg(long)]
        replace: bool,
    },
    /// Fill the database with generated customers (for benchmarks and trials).
    Generate {
        /// How many customers to add.
        #[arg(long, default_value_t = 10_000)]
        customers: u64,
        /// Seed of the random choices (the same seed gives the same data).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// API token commands.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it (the only time it is shown).
    Create {
        /// A name saying which integration uses it.
        #[arg(long)]
        name: String,
    },
    /// Revoke the token with this name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Staff account commands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account; the password is read from the first line of standard input.
    Create {
        /// Sign-in name (3–40 of a–z, 0–9, dot, dash, underscore; case-insensitive).
        #[arg(long)]
        username: String,
        /// agent or supervisor.
        #[arg(long)]
        role: String,
        /// The name colleagues see (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List every account.
    List,
    /// Set an account's password, read from the first line of standard input.
    SetPassword {
        /// The account's username.
        username: String,
    },
}

/// Flags of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CLIENTELE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Also create demo data (an agent account, and more in later releases).
    #[arg(long, env = "CLIENTELE_DEMO")]
    pub demo: bool,

    /// Key that signs session cookies (at least 32 characters). Without it a key is
    /// generated once and kept in the database, shared by every instance.
    #[arg(long, env = "CLIENTELE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    /// Mark cookies Secure (serve behind HTTPS). Off for plain http://127.0.0.1.
    #[arg(long, env = "CLIENTELE_COOKIE_SECURE")]
    pub cookie_secure: bool,

    /// Minutes of inactivity after which a staff session ends.
    #[arg(long, env = "CLIENTELE_IDLE_TIMEOUT_MINUTES", default_value_t = 480)]
    pub idle_timeout_minutes: i64,

    /// Hours after signing in at which a staff session ends, however active it was.
    #[arg(long, env = "CLIENTELE_SESSION_LIFETIME_HOURS", default_value_t = 12)]
    pub session_lifetime_hours: i64,

    /// Folder of static assets (CSS, JS, images).
    #[arg(long, env = "CLIENTELE_STATIC_DIR", default_value = default_static_dir())]
    pub static_dir: PathBuf,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CLIENTELE_WORKERS")]
    pub workers: Option<usize>,

    /// Database connections for requests (default: two per core, at least 4). Background
    /// work has three more of its own.
    #[arg(long, env = "CLIENTELE_POOL_SIZE")]
    pub pool_size: Option<u32>,

    /// Take the client address from X-Forwarded-For (only behind a proxy you control).
    #[arg(long, env = "CLIENTELE_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// How often the outbox is checked for messages to deliver, in milliseconds.
    #[arg(long, env = "CLIENTELE_OUTBOX_POLL_MS", default_value_t = 1000)]
    pub outbox_poll_ms: u64,

    /// First retry delay of a failed webhook delivery, in milliseconds (doubles each time, at most 1 h).
    #[arg(long, env = "CLIENTELE_RETRY_BASE_MS", default_value_t = 2000)]
    pub retry_base_ms: u64,

    /// Let the webhook receiver be in a private network (loopback, 10/8, 192.168/16, …): for
    /// a receiver on the same host or network. Off, such URLs are refused.
    #[arg(long, env = "CLIENTELE_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,

    /// How long a webhook delivery is retried before it is given up as failed, in hours.
    #[arg(long, env = "CLIENTELE_DELIVERY_HORIZON_HOURS", default_value_t = 24)]
    pub delivery_horizon_hours: u64,

    /// The base URL customers open self-service links on (defaults to http://BIND).
    #[arg(long, env = "CLIENTELE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder for uploaded import files (kept until the import is done, so it can resume
    /// after a restart). Default: `clientele-data` beside the SQLite file, else `./data`.
    #[arg(long, env = "CLIENTELE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// How long a stop (SIGTERM, SIGINT) waits for requests in flight, and then for the
    /// background batch under way, in seconds.
    #[arg(long, env = "CLIENTELE_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,

    /// Serve Prometheus metrics at `/metrics` to requests that carry this token
    /// (`Authorization: Bearer …`), at least 32 characters. Unset, `/metrics` does not exist.
    #[arg(long, env = "CLIENTELE_METRICS_TOKEN")]
    pub metrics_token: Option<Secret>,

    /// Serve `/bench/ceiling` (benchmarks only): the Customers page's main query with a
    /// bare render, no session, as the ceiling the real page is measured against.
    #[arg(long, env = "CLIENTELE_BENCH_CEILING", hide = true)]
    pub bench_ceiling: bool,
}

/// Beside the SQLite file; `./data` for PostgreSQL.
fn default_data_dir(url: &DatabaseUrl) -> PathBuf {
    match url {
        DatabaseUrl::Sqlite(path) => std::path::Path::new(path)
            .parent()
            .map_or_else(|| PathBuf::from("data"), |dir| dir.join("clientele-data")),
        DatabaseUrl::Postgres(_) => PathBuf::from("data"),
    }
}

fn default_static_dir() -> &'static str {
    if std::path::Path::new("static").is_dir() {
        "static"
    } else {
        concat!(env!("CARGO_MANIFEST_DIR"), "/static")
    }
}

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.len() < 32 {
            return Err("the secret key needs at least 32 characters".to_owned());
        }
        Ok(Secret(raw.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What the running server needs, resolved from the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// Which database.
    pub database_url: DatabaseUrl,
    /// Cookie-signing secret, if given.
    pub secret_key: Option<Secret>,
    /// Secure cookies and HSTS.
    pub cookie_secure: bool,
    /// Idle timeout of staff sessions, in minutes.
    pub idle_timeout_minutes: i64,
    /// Absolute lifetime of staff sessions, in seconds.
    pub session_lifetime_secs: i64,
    /// Static assets folder.
    pub static_dir: PathBuf,
    /// HTTP worker threads.
    pub workers: Option<usize>,
    /// Connections for requests.
    pub pool_size: u32,
    /// Trust X-Forwarded-For.
    pub trust_proxy: bool,
    /// Outbox pacing.
    pub outbox_poll_ms: u64,
    /// First retry delay.
    pub retry_base_ms: u64,
    /// How long a delivery is retried, in seconds.
    pub delivery_horizon_secs: u64,
    /// Whether the webhook receiver may be in a private network.
    pub allow_private_webhooks: bool,
    /// Public base URL for links sent to customers.
    pub public_url: Option<String>,
    /// Serve the benchmark's bare ceiling handler.
    pub bench_ceiling: bool,
    /// Where uploaded import files are kept.
    pub data_dir: PathBuf,
    /// How long a stop waits for requests, then for background work.
    pub shutdown_timeout_secs: u64,
    /// The token `/metrics` asks for; `None`: no metrics.
    pub metrics_token: Option<Secret>,
}

/// Requests' connections when none are configured: two per core, at least four. Measured
/// at a million customers on two cores with PostgreSQL on the same machine, ten connections
/// left more backends runnable than cores and stretched the tails (a filter page's p99 90
/// ms against 29–34 ms with four) at no gain in requests/s (`docs/performance.md`).
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores.saturating_mul(2))
        .unwrap_or(u32::MAX)
        .max(4)
}

impl Settings {
    /// Resolves the flags of `serve`.
    pub fn from_args(database_url: DatabaseUrl, args: &ServeArgs) -> Self {
        let data_dir = args
            .data_dir
            .clone()
            .unwrap_or_else(|| default_data_dir(&database_url));
        Settings {
            bind: args.bind.clone(),
            database_url,
            secret_key: args.secret_key.clone(),
            cookie_secure: args.cookie_secure,
            idle_timeout_minutes: args.idle_timeout_minutes.max(1),
            session_lifetime_secs: args.session_lifetime_hours.max(1) * 3600,
            static_dir: args.static_dir.clone(),
            workers: args.workers,
            pool_size: args.pool_size.map_or_else(default_pool_size, |n| n.max(2)),
            trust_proxy: args.trust_proxy,
            outbox_poll_ms: args.outbox_poll_ms.max(50),
            retry_base_ms: args.retry_base_ms.max(10),
            delivery_horizon_secs: args.delivery_horizon_hours.max(1) * 3600,
            allow_private_webhooks: args.allow_private_webhooks,
            public_url: args.public_url.clone(),
            bench_ceiling: args.bench_ceiling,
            data_dir,
            shutdown_timeout_secs: args.shutdown_timeout_secs,
            metrics_token: args.metrics_token.clone(),
        }
    }

    /// Settings for a server on 127.0.0.1 with a free port, used by the tests.
    pub fn for_tests(database_url: DatabaseUrl) -> Self {
        let data_dir = match &database_url {
            DatabaseUrl::Sqlite(_) => default_data_dir(&database_url),
            DatabaseUrl::Postgres(_) => std::env::temp_dir().join("clientele-test-data"),
        };
        Settings {
            bind: "127.0.0.1:0".to_owned(),
            database_url,
            secret_key: None,
            cookie_secure: false,
            idle_timeout_minutes: 480,
            session_lifetime_secs: 12 * 3600,
            static_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")),
            workers: Some(1),
            pool_size: 4,
            trust_proxy: false,
            outbox_poll_ms: 100,
            retry_base_ms: 100,
            delivery_horizon_secs: 24 * 3600,
            // The tests' receivers listen on the loopback.
            allow_private_webhooks: true,
            public_url: None,
            bench_ceiling: false,
            data_dir,
            shutdown_timeout_secs: 5,
            metrics_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, Settings};

    fn pool_size(args: &[&str]) -> u32 {
        let cli = Cli::try_parse_from(["clientele", "serve"].iter().chain(args)).expect("parsed");
        let Command::Serve(serve) = cli.command else {
            panic!("serve");
        };
        let url = "sqlite://clientele.db".parse().expect("a URL");
        Settings::from_args(url, &serve).pool_size
    }

    #[test]
    fn requests_get_two_connections_per_core_unless_told_otherwise() {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let expected = u32::try_from(cores * 2).expect("a small number").max(4);
        assert_eq!(pool_size(&[]), expected);
        assert_eq!(pool_size(&["--pool-size", "16"]), 16);
        assert_eq!(pool_size(&["--pool-size", "1"]), 2, "at least two");
    }
}
