//! `clientele backup` copies the embedded database while the server writes, and
//! `clientele restore` puts the copy back: every write acknowledged before the backup
//! began is in it.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{spawn_app, testing_postgres};

fn clientele(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("CLIENTELE_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_every_acknowledged_write() {
    let app = spawn_app().await;
    let url = app.database_url();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("backup.db");
    let file_arg = file.to_string_lossy().into_owned();
    if testing_postgres() {
        let output = clientele(&url, &["backup", "--to", &file_arg]);
        assert!(!output.status.success());
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains("pg_dump --format=custom"), "{said}");
        return;
    }

    // Inbound messages keep coming while the backup is taken; each acknowledged one is
    // noted with whether the backup had begun.
    let token = app.api_token("load");
    let acknowledged: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let backup_began = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (address, acknowledged, began) = (
            app.address.clone(),
            acknowledged.clone(),
            backup_began.clone(),
        );
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..400 {
                let id = format!("load-{i}");
                let answer = client
                    .post(format!("{address}/api/v1/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"channel": "sms", "external_id": format!("+3859123{:05}", i % 50), "text": format!("message {i}"), "message_id": id}))
                    .send()
                    .await;
                let before = !began.load(std::sync::atomic::Ordering::SeqCst);
                if answer.is_ok_and(|a| a.status().is_success()) {
                    acknowledged.lock().expect("lock").push((id, before));
                }
            }
        })
    };
    while acknowledged.lock().expect("lock").len() < 50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backing_up = {
        let (url, file_arg) = (url.clone(), file_arg.clone());
        let began = backup_began.clone();
        tokio::task::spawn_blocking(move || {
            began.store(true, std::sync::atomic::Ordering::SeqCst);
            clientele(&url, &["backup", "--to", &file_arg])
        })
    };
    let output = backing_up.await.expect("the backup ran");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    load.await.expect("the load ran");
    let acknowledged = acknowledged.lock().expect("lock").clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, before)| *before)
        .map(|(id, _)| id)
        .collect();
    assert!(
        !before.is_empty(),
        "some writes came before the backup: {} acknowledged",
        acknowledged.len()
    );

    assert!(
        acknowledged.len() > before.len(),
        "writes went on while the backup was taken"
    );

    // A second backup to the same file is refused; the first is left alone.
    let again = clientele(&url, &["backup", "--to", &file_arg]);
    assert!(!again.status.success());

    // Restored into a new place, it has every write acknowledged before it began.
    let restored_path = dir.path().join("restored").join("clientele.db");
    let restored_url = format!("sqlite://{}", restored_path.display());
    let output = clientele(&restored_url, &["restore", "--from", &file_arg]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let restored: Vec<String> = {
        let mut conn = diesel::SqliteConnection::establish(&restored_path.to_string_lossy())
            .expect("the restored database opens");
        use clientele::db::schema::messages;
        messages::table
            .select(messages::client_message_id)
            .load::<Option<String>>(&mut conn)
            .expect("messages")
            .into_iter()
            .flatten()
            .collect()
    };
    for id in before {
        assert!(
            restored.contains(id),
            "{id} was acknowledged before the backup"
        );
    }
    let unique: std::collections::HashSet<&String> = restored.iter().collect();
    assert_eq!(unique.len(), restored.len(), "each message once");

    // Restoring over an existing database asks for --replace, and keeps the old one.
    let output = clientele(&restored_url, &["restore", "--from", &file_arg]);
    assert!(!output.status.success());
    let output = clientele(
        &restored_url,
        &["restore", "--from", &file_arg, "--replace"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("is kept as"), "{said}");

    // Something that is not a Clientele database is refused.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").expect("written");
    let output = clientele(
        &restored_url,
        &["restore", "--from", &junk.to_string_lossy(), "--replace"],
    );
    assert!(!output.status.success());
}
