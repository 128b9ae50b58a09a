//! The `clientele` binary: database URL checks and the `users` commands scripts rely on.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::helpers::fresh_database;

fn clientele(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("CLIENTELE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("the binary exits")
}

#[test]
fn a_mistyped_database_url_is_refused_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "postgress://app:hunter22@db/clientele",
        "host=localhost port=5432",
        "clientele.db",
        "sqlite://",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_clientele"))
            .arg("migrate")
            .env("DATABASE_URL", bad)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{bad} must fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("database URL") || stderr.contains("SQLite URL"),
            "{bad}: {stderr}"
        );
        assert!(!stderr.contains("hunter22"), "the password is never echoed");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file was created"
    );
}

#[test]
fn an_unreachable_postgres_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            "postgres://nobody:pw@127.0.0.1:9/none?connect_timeout=2",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(!stderr.contains(":pw@"), "{stderr}");
}

#[test]
fn users_are_created_listed_and_given_passwords_from_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir);
    let url = database.url.to_string();

    let output = clientele(&url, &["migrate"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = clientele(
        &url,
        &[
            "users",
            "create",
            "--username",
            "Script.Sup",
            "--role",
            "supervisor",
            "--display-name",
            "Script Sup",
        ],
        "a long script password\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = clientele(
        &url,
        &["users", "create", "--username", "x y", "--role", "boss"],
        "short\n",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("username") && stderr.contains("role") && stderr.contains("password"),
        "{stderr}"
    );

    let output = clientele(&url, &["users", "list"], "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("script.sup") && stdout.contains("supervisor"),
        "{stdout}"
    );

    let output = clientele(
        &url,
        &["users", "set-password", "script.sup"],
        "another long password\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let pool = crate::helpers::connect(&url.parse().unwrap());
    let user = clientele::db::users::find_user_by_username(&mut pool.get().unwrap(), "script.sup")
        .unwrap()
        .unwrap();
    assert!(clientele::domain::password::verify_password(
        "another long password",
        &user.password_hash
    ));
}

#[test]
fn demo_data_has_customers_traffic_unknown_contacts_and_one_blacklisted_customer() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir);
    let pool = crate::helpers::connect(&database.url);
    let mut pooled = pool.get().unwrap();
    let conn: &mut clientele::db::DbConnection = &mut pooled;
    clientele::db::run_migrations(conn).unwrap();
    assert_eq!(clientele::cli::demo::seed(conn, 20).unwrap(), 20);
    assert_eq!(
        clientele::cli::demo::seed(conn, 20).unwrap(),
        0,
        "seeding twice adds nothing"
    );
    use clientele::db::schema::{channel_identities, conversations, customers};
    use diesel::prelude::*;
    let blacklisted: i64 = customers::table
        .filter(customers::blacklisted.eq(true))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(blacklisted, 1);
    let unknown: i64 = channel_identities::table
        .filter(channel_identities::customer_id.is_null())
        .count()
        .get_result(conn)
        .unwrap();
    assert!(unknown >= 3);
    let rated: i64 = conversations::table
        .filter(conversations::rating.is_not_null())
        .count()
        .get_result(conn)
        .unwrap();
    assert!(rated > 0);
    let with_traffic: i64 = customers::table
        .filter(customers::messages_count.gt(0))
        .count()
        .get_result(conn)
        .unwrap();
    assert!(with_traffic >= 18);
}

#[test]
fn tokens_are_created_and_revoked_from_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir);
    let url = database.url.to_string();
    let output = clientele(&url, &["tokens", "create", "--name", "gateway"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secret = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(secret.starts_with("clt_") && secret.len() == 68);
    let output = clientele(&url, &["tokens", "create", "--name", "gateway"], "");
    assert!(!output.status.success(), "names are unique");
    let pool = crate::helpers::connect(&url.parse().unwrap());
    let hash = clientele::services::tokens::hash_token(&secret);
    assert!(
        clientele::db::tokens::find_active(&mut pool.get().unwrap(), &hash)
            .unwrap()
            .is_some()
    );
    let output = clientele(&url, &["tokens", "revoke", "gateway"], "");
    assert!(output.status.success());
    assert!(
        clientele::db::tokens::find_active(&mut pool.get().unwrap(), &hash)
            .unwrap()
            .is_none()
    );
    assert!(
        !clientele(&url, &["tokens", "revoke", "gateway"], "")
            .status
            .success()
    );
}

#[test]
fn the_webhook_signing_secret_is_printed_and_rotated_from_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir);
    let url = database.url.to_string();
    let print = |args: &[&str]| {
        let output = clientele(&url, args, "");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let first = print(&["webhook-secret"]);
    assert_eq!(first.len(), 64, "made when there was none: {first}");
    assert_eq!(print(&["webhook-secret"]), first, "the same one again");
    let rotated = print(&["webhook-secret", "--rotate"]);
    assert_ne!(rotated, first);
    assert_eq!(print(&["webhook-secret"]), rotated);
}
