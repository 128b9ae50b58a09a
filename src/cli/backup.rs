//! `clientele backup` and `clientele restore` for the embedded database. A backup is a
//! consistent copy taken while the server runs (`VACUUM INTO` reads one snapshot, so
//! every write acknowledged before it started is in it, and none half-done). PostgreSQL
//! has its own tools: the commands say which.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::db::DatabaseUrl;

/// What PostgreSQL operators run instead.
const POSTGRES_HINT: &str = "this database is PostgreSQL: back it up with `pg_dump --format=custom --file=clientele.dump DATABASE_URL` and restore it into an empty database with `pg_restore --no-owner --dbname=DATABASE_URL clientele.dump` (see docs/deploy.md)";

fn sqlite_path(url: &DatabaseUrl) -> anyhow::Result<&Path> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => anyhow::bail!(POSTGRES_HINT),
    }
}

fn open(path: &Path) -> anyhow::Result<SqliteConnection> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    Ok(conn)
}

/// Writes a consistent copy of the database to `to` (which must not exist yet), while
/// the server may go on serving.
pub fn backup(url: &DatabaseUrl, to: &Path) -> anyhow::Result<()> {
    let from = sqlite_path(url)?;
    if to.exists() {
        anyhow::bail!("{} exists already: give a new file name", to.display());
    }
    if !from.is_file() {
        anyhow::bail!("there is no database at {}", from.display());
    }
    let mut conn = open(from)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(to.to_string_lossy().into_owned())
        .execute(&mut conn)
        .map_err(|e| anyhow::anyhow!("the backup failed: {e}"))?;
    Ok(())
}

/// Checks that `file` is a sound Clientele database.
fn check(file: &Path) -> anyhow::Result<()> {
    if !file.is_file() {
        anyhow::bail!("there is no file {}", file.display());
    }
    #[derive(diesel::QueryableByName)]
    struct Answer {
        #[diesel(sql_type = diesel::sql_types::Text)]
        quick_check: String,
    }
    let mut conn = open(file)?;
    let answers: Vec<Answer> = diesel::sql_query("PRAGMA quick_check")
        .load(&mut conn)
        .map_err(|e| anyhow::anyhow!("{} is not a database: {e}", file.display()))?;
    if answers.iter().any(|a| a.quick_check != "ok") {
        anyhow::bail!("{} is damaged (PRAGMA quick_check)", file.display());
    }
    conn.batch_execute(
        "SELECT 1 FROM customers LIMIT 1; SELECT 1 FROM __diesel_schema_migrations LIMIT 1;",
    )
    .map_err(|_| anyhow::anyhow!("{} is not a Clientele database", file.display()))?;
    Ok(())
}

/// Puts the backup `from` in place of the database. The server must be stopped; an
/// existing database is only replaced with `replace` (it is kept beside, renamed).
pub fn restore(url: &DatabaseUrl, from: &Path, replace: bool) -> anyhow::Result<Option<PathBuf>> {
    let to = sqlite_path(url)?;
    check(from)?;
    let mut kept = None;
    if to.exists() {
        if !replace {
            anyhow::bail!(
                "{} exists: stop the server, then run restore again with --replace (the current database is kept beside it)",
                to.display()
            );
        }
        let aside = to.with_extension(format!(
            "before-restore-{}.db",
            chrono::Utc::now().format("%Y%m%d%H%M%S")
        ));
        // A consistent copy of what is replaced, write-ahead log included.
        backup(url, &aside)?;
        kept = Some(aside);
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let partial = to.with_extension("restoring");
    std::fs::copy(from, &partial)?;
    std::fs::File::open(&partial)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let mut side = to.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::rename(&partial, to)?;
    Ok(kept)
}
