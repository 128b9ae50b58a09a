//! Stopping the server (SIGTERM, as systemd and container runtimes do): a request in
//! flight is answered, then the process ends cleanly.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{Browser, PASSWORD, fresh_database};
use crate::receiver::start_slow_receiver;

/// A free port on the loopback (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn sigterm_answers_the_request_in_flight_then_stops() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = fresh_database(&dir);
    let url = database.url.to_string();
    let binary = env!("CARGO_BIN_EXE_clientele");
    let mut create = Command::new(binary)
        .args([
            "users",
            "create",
            "--username",
            "stopper",
            "--role",
            "supervisor",
        ])
        .env("DATABASE_URL", &url)
        .env("CLIENTELE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    create
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password");
    assert!(create.wait().expect("created").success());

    let port = free_port();
    let log = dir.path().join("serve.log");
    let mut server = Command::new(binary)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--allow-private-webhooks",
        ])
        .env("DATABASE_URL", &url)
        .env("CLIENTELE_LOG", "info")
        .env("CLIENTELE_DATA_DIR", dir.path().join("data"))
        .stdout(std::fs::File::create(&log).expect("log file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while !reqwest::get(format!("{address}/healthz"))
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server answers"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let receiver = start_slow_receiver(Duration::from_millis(1500)).await;
    let supervisor = Browser::at(&address);
    assert_eq!(
        supervisor.sign_in("stopper", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    supervisor
        .post_form("/settings/integrations/webhook", &[("url", &receiver.url)])
        .await;

    // The test event waits 1.5 s for the receiver; the stop comes while it waits.
    let pid = server.id().to_string();
    let (answer, _) = tokio::join!(
        supervisor.post_form("/settings/integrations/test", &[]),
        async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill runs")
        }
    );
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the request in flight is answered"
    );

    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().expect("the server's state") {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "the server stops"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a clean exit: {status}");
    let log = std::fs::read_to_string(&log).expect("the log");
    assert!(log.contains("stopped"), "{log}");
    assert!(
        reqwest::get(format!("{address}/healthz")).await.is_err(),
        "no longer listening"
    );
}
