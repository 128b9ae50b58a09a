//! A webhook receiver on the loopback, for the tests of deliveries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// A local webhook receiver that refuses the first `failures` deliveries.
pub struct Receiver {
    pub url: String,
    pub seen: Arc<Mutex<Vec<(String, String)>>>,
}

pub async fn start_receiver(failures: usize) -> Receiver {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (seen_in, calls_in) = (seen.clone(), calls.clone());
    let server = HttpServer::new(move || {
        let (seen, calls) = (seen_in.clone(), calls_in.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (seen, calls) = (seen.clone(), calls.clone());
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) < failures {
                    return HttpResponse::ServiceUnavailable().finish();
                }
                let signature = req
                    .headers()
                    .get("x-clientele-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock()
                    .expect("lock")
                    .push((signature, String::from_utf8_lossy(&body).into_owned()));
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("the receiver binds");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        seen,
    }
}

/// Waits up to 15 s for `done`.
pub async fn wait_until(done: impl FnMut() -> bool) {
    wait_until_for(Duration::from_secs(15), done).await;
}

/// Waits up to `limit` for `done`.
pub async fn wait_until_for(limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A receiver that takes the connection and never answers: a delivery to it stays under
/// way (no attempt recorded) for as long as the test runs. Keep the listener alive.
pub fn silent_receiver() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!(
        "http://{}/never-answers",
        listener.local_addr().expect("its address")
    );
    (listener, url)
}

/// A receiver that takes `delay` to answer each delivery, counting how many it held at
/// once at most, and how many it took.
pub struct SlowReceiver {
    pub url: String,
    pub most_at_once: Arc<AtomicUsize>,
    pub taken: Arc<AtomicUsize>,
}

pub async fn start_slow_receiver(delay: Duration) -> SlowReceiver {
    let now_held = Arc::new(AtomicUsize::new(0));
    let most_at_once = Arc::new(AtomicUsize::new(0));
    let taken = Arc::new(AtomicUsize::new(0));
    let (held_in, most_in, taken_in) = (now_held.clone(), most_at_once.clone(), taken.clone());
    let server = HttpServer::new(move || {
        let (held, most, taken) = (held_in.clone(), most_in.clone(), taken_in.clone());
        App::new().default_service(web::to(move || {
            let (held, most, taken) = (held.clone(), most.clone(), taken.clone());
            async move {
                let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                held.fetch_sub(1, Ordering::SeqCst);
                taken.fetch_add(1, Ordering::SeqCst);
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("the receiver binds");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    SlowReceiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        most_at_once,
        taken,
    }
}
