//! Delivers queued outbound messages to the configured webhook: JSON POST, HMAC-SHA256
//! signature, retries with exponential backoff. Nothing is lost while the receiver is
//! down, also across restarts: the queue is the `outbox` table.

use std::time::Duration;

use chrono::TimeDelta;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::db::conversations::Message;
use crate::db::identities::Identity;
use crate::db::outbox::{self, Delivery};
use crate::db::{self, DbConnection, DbPool, now, settings};
use crate::domain::webhook;
use crate::error::AppError;

/// The signature header: `sha256=<hex of HMAC(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "X-Clientele-Signature";
/// The timestamp header the signature covers.
pub const TIMESTAMP_HEADER: &str = "X-Clientele-Timestamp";
/// The delivery id, stable across retries, for receivers to drop duplicates.
pub const DELIVERY_HEADER: &str = "X-Clientele-Delivery";

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// How often the queue is looked at.
    pub poll: Duration,
    /// The first retry delay; it doubles with every failed attempt, up to an hour.
    pub retry_base: Duration,
    /// How long after it was queued a delivery is retried; then it is failed for good
    /// (shown on Settings → Integrations, where "Retry" queues it again).
    pub give_up_after: TimeDelta,
    /// Whether the receiver may be in a private network (`--allow-private-webhooks`).
    pub allow_private: bool,
}

/// The body POSTed for one message.
#[derive(Debug, serde::Serialize)]
pub struct Payload {
    pub delivery_id: i64,
    pub message_id: i64,
    pub conversation_id: Option<i64>,
    pub channel: String,
    pub external_id: String,
    pub text: String,
    pub author: Option<String>,
    pub sent_at: String,
}

/// The signature of a body.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The delay before retry number `attempts` (1-based): base × 2^(attempts−1), at most 1 h.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0).min(20));
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

fn payload(conn: &mut DbConnection, delivery: &Delivery) -> Result<Payload, AppError> {
    let message: Message = db::conversations::get_message(conn, delivery.message_id)?;
    let identity: Identity = db::identities::get_identity(conn, message.identity_id)?;
    Ok(Payload {
        delivery_id: delivery.id,
        message_id: message.id.0,
        conversation_id: message.conversation_id.map(|c| c.0),
        channel: identity.channel,
        external_id: identity.external_id,
        text: delivery.text.clone().unwrap_or(message.body),
        author: message.author_name,
        sent_at: message.sent_at.and_utc().to_rfc3339(),
    })
}

/// Failed deliveries are queued again; returns how many.
pub fn retry_failed(conn: &mut DbConnection) -> Result<usize, AppError> {
    Ok(db::transaction(conn, db::outbox::retry_failed)?)
}

/// One pass over the due deliveries, two at a time (over every instance, see
/// [`outbox::claim`]): a slow answer holds one sender while the other goes on. Returns how
/// many were attempted.
pub fn deliver_due(pool: &DbPool, pacing: Pacing) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    let Some(url) = settings::find_setting(&mut conn, crate::db::types::Setting::WebhookUrl)?
        .filter(|u| !u.is_empty())
    else {
        return Ok(0);
    };
    let secret = settings::find_setting(&mut conn, crate::db::types::Setting::WebhookSecret)?
        .unwrap_or_default();
    let due = std::sync::Mutex::new(std::collections::VecDeque::from(outbox::list_due(
        &mut conn, 20,
    )?));
    drop(conn);
    let agent = http_agent();
    let senders = usize::try_from(outbox::IN_FLIGHT_AT_MOST).unwrap_or(1);
    let attempted: Vec<Result<usize, AppError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..senders)
            .map(|_| scope.spawn(|| send_in_turn(pool, pacing, &due, &agent, &url, &secret)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a delivery sender panicked").into()))
            })
            .collect()
    });
    attempted.into_iter().sum()
}

/// One sender: takes due deliveries off the shared list until it is empty (or the
/// receiver has as many in flight as it may), each claimed, posted and recorded.
fn send_in_turn(
    pool: &DbPool,
    pacing: Pacing,
    due: &std::sync::Mutex<std::collections::VecDeque<outbox::Delivery>>,
    agent: &ureq::Agent,
    url: &str,
    secret: &str,
) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    let mut attempted = 0;
    loop {
        let next = due
            .lock()
            .map_err(|_| anyhow::anyhow!("delivery list poisoned"))?
            .pop_front();
        let Some(delivery) = next else {
            return Ok(attempted);
        };
        if !outbox::claim(&mut conn, &delivery, now() + TimeDelta::seconds(60))? {
            continue;
        }
        attempted += 1;
        let body =
            serde_json::to_vec(&payload(&mut conn, &delivery)?).map_err(anyhow::Error::from)?;
        let started = std::time::Instant::now();
        // Where the name leads is checked at each attempt: it may have changed since saved.
        let outcome = receiver_refused(url, pacing.allow_private)
            .or_else(|| post_signed(agent, url, secret, &body, &delivery.id.to_string()));
        let took = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        match outcome {
            None => {
                outbox::mark_delivered(&mut conn, delivery.id, took)?;
            }
            Some(error) => {
                let delay = backoff(pacing.retry_base, delivery.attempts + 1);
                let retry_at = now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::seconds(60));
                // A receiver that was never reached gave no answer to time.
                let answered = error.starts_with("the receiver answered").then_some(took);
                if retry_at > delivery.created_at + pacing.give_up_after {
                    tracing::warn!(delivery = delivery.id, attempts = delivery.attempts + 1, %error, "webhook delivery failed; given up");
                    outbox::mark_failed(&mut conn, delivery.id, &error, answered, None)?;
                } else {
                    tracing::warn!(delivery = delivery.id, attempts = delivery.attempts + 1, %error, "webhook delivery failed; will retry");
                    outbox::mark_failed(&mut conn, delivery.id, &error, answered, Some(retry_at))?;
                }
            }
        }
    }
}

/// Why deliveries to `url` are refused, if they are: it leads to an address in a private
/// network (after resolving its name), unless `allow_private`. A name that does not
/// resolve is not refused here: its deliveries fail and are retried.
pub fn receiver_refused(url: &str, allow_private: bool) -> Option<String> {
    use std::net::{IpAddr, ToSocketAddrs};
    if allow_private {
        return None;
    }
    let parsed = webhook::parse_url(url).ok()?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addresses: Vec<IpAddr> = match parsed.host()? {
        url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
        url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        url::Host::Domain(name) => (name, port)
            .to_socket_addrs()
            .map(|found| found.map(|a| a.ip()).collect())
            .unwrap_or_default(),
    };
    let private = addresses.into_iter().find(|ip| webhook::is_private(*ip))?;
    Some(format!(
        "{} leads to {private}, an address in a private network: the server sends there only when started with --allow-private-webhooks",
        parsed.host_str().unwrap_or_default()
    ))
}

/// Checks a webhook URL typed in the settings: empty (no webhook), or http(s) with a host
/// that does not lead into a private network (unless `allow_private`).
pub fn check_receiver(url: &str, allow_private: bool) -> Result<(), String> {
    if url.is_empty() {
        return Ok(());
    }
    webhook::parse_url(url)?;
    receiver_refused(url, allow_private).map_or(Ok(()), Err)
}

/// The HTTP client of deliveries: ten seconds at most per request, every status an answer.
fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// One signed POST of `body`; `None` when the receiver took it, else why not.
fn post_signed(
    agent: &ureq::Agent,
    url: &str,
    secret: &str,
    body: &[u8],
    delivery: &str,
) -> Option<String> {
    let timestamp = chrono::Utc::now().timestamp();
    let result = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header(TIMESTAMP_HEADER, &timestamp.to_string())
        .header(SIGNATURE_HEADER, &sign(secret, timestamp, body))
        .header(DELIVERY_HEADER, delivery)
        .send(body);
    match result {
        Ok(response) if response.status().is_success() => None,
        Ok(response) => Some(format!("the receiver answered {}", response.status())),
        Err(error) => Some(format!("the receiver could not be reached: {error}")),
    }
}

/// Sends a signed test event (`{"type": "test", …}`, delivery id `test`) to the webhook
/// now, outside the queue: how long the receiver took, or why it did not take it.
pub fn send_test(
    conn: &mut DbConnection,
    allow_private: bool,
) -> Result<Result<Duration, String>, AppError> {
    let Some(url) = settings::find_setting(conn, crate::db::types::Setting::WebhookUrl)?
        .filter(|u| !u.is_empty())
    else {
        return Ok(Err("no webhook URL is set".to_owned()));
    };
    let secret =
        settings::find_setting(conn, crate::db::types::Setting::WebhookSecret)?.unwrap_or_default();
    let body = serde_json::to_vec(&serde_json::json!({
        "type": "test",
        "text": "A test event from Clientele.",
        "sent_at": chrono::Utc::now().to_rfc3339(),
    }))
    .map_err(anyhow::Error::from)?;
    if let Some(why) = receiver_refused(&url, allow_private) {
        return Ok(Err(why));
    }
    let started = std::time::Instant::now();
    Ok(
        match post_signed(&http_agent(), &url, &secret, &body, "test") {
            None => Ok(started.elapsed()),
            Some(error) => Err(error),
        },
    )
}

/// Runs [`deliver_due`] forever, on the blocking pool, every `pacing.poll`.
pub async fn run(pool: DbPool, pacing: Pacing, mut stop: crate::startup::Stop) {
    while !*stop.borrow() {
        let worker_pool = pool.clone();
        match actix_web::web::block(move || deliver_due(&worker_pool, pacing)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "outbox pass failed"),
            Err(error) => tracing::warn!(%error, "outbox worker task failed"),
        }
        crate::startup::pause(&mut stop, pacing.poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(2);
        assert_eq!(backoff(base, 1), Duration::from_secs(2));
        assert_eq!(backoff(base, 2), Duration::from_secs(4));
        assert_eq!(backoff(base, 5), Duration::from_secs(32));
        assert_eq!(backoff(base, 40), Duration::from_secs(3600));
    }

    #[test]
    fn signatures_cover_time_and_body() {
        let a = sign("secret", 1, b"{}");
        assert!(a.starts_with("sha256="));
        assert_ne!(a, sign("secret", 2, b"{}"));
        assert_ne!(a, sign("other", 1, b"{}"));
        assert_eq!(a, sign("secret", 1, b"{}"));
    }
}
