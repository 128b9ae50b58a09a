//! "Text me my link": a customer types their phone number on a public page and, when it
//! belongs to a customer and self-service is on, a new link goes to that number through the
//! outbox. Known and unknown numbers get the same answer. Limits live in the database, so
//! they hold across instances, and the keyword shares the per-identity one.

use chrono::TimeDelta;

use crate::db::identities::{self, Identity};
use crate::db::types::{CustomerId, DeliveryStatus, MessageId, Setting};
use crate::db::{self, DbConnection, customers, erasure, limits, links, now, outbox, settings};
use crate::domain::FieldErrors;
use crate::domain::channel::Channel;
use crate::domain::customer::{Actor, MatchKey};
use crate::domain::password::random_hex;
use crate::domain::property::{Value, parse_phone};
use crate::error::AppError;
use crate::services::conversations::{self as traffic, Author};
use crate::services::selfservice;
use crate::services::tokens::hash_token;

/// One request per number per this many seconds.
pub const NUMBER_GAP_SECONDS: i64 = 60;
/// Requests from one address per hour.
pub const ADDRESS_PER_HOUR: i64 = 20;
/// Links sent on one identity: at most one a minute…
pub const IDENTITY_GAP_SECONDS: i64 = 60;
/// …and this many a day.
pub const IDENTITY_PER_DAY: i64 = 5;

const BY_NUMBER: &str = "link_request.number";
const BY_ADDRESS: &str = "link_request.address";
const BY_IDENTITY: &str = "link_sent.identity";

/// Said for every number, known or not.
pub const SENT: &str = "We've sent you a link, please check your phone!";
/// Said when the same number was submitted less than a minute ago.
pub const TOO_SOON: &str = "Please allow a full minute between phone number submissions.";
/// Said when the link could not be delivered.
pub const FAILED: &str = "There was an issue with SMS sending. Please try again. If the issue persists, please contact support.";

/// What a request did.
#[derive(Debug)]
pub enum Requested {
    /// Accepted (a link went out or not, the page says the same); the token of the
    /// page to show.
    Accepted(String),
    /// The same number less than a minute ago: nothing sent.
    TooSoon,
}

/// Whether another link may go out on this identity now (one a minute, five a day).
pub fn identity_may_get_link(
    conn: &mut DbConnection,
    identity: &Identity,
) -> Result<bool, AppError> {
    let subject = identity.id.0.to_string();
    let minute = limits::count_since(
        conn,
        BY_IDENTITY,
        &subject,
        now() - TimeDelta::seconds(IDENTITY_GAP_SECONDS),
    )?;
    let day = limits::count_since(conn, BY_IDENTITY, &subject, now() - TimeDelta::days(1))?;
    Ok(minute == 0 && day < IDENTITY_PER_DAY)
}

/// Counts a link sent on an identity against its limit.
pub fn count_link_sent(conn: &mut DbConnection, identity: &Identity) -> Result<(), AppError> {
    limits::record(conn, BY_IDENTITY, &identity.id.0.to_string())?;
    Ok(())
}

/// The identity a link for this phone goes to: an SMS identity of a customer, else a
/// WhatsApp one, else a new SMS identity of the customer holding the number as phone.
fn target(conn: &mut DbConnection, phone: &str) -> Result<Option<Identity>, AppError> {
    let mut found = identities::list_linked_with_id(
        conn,
        &[Channel::Sms.as_str(), Channel::Whatsapp.as_str()],
        phone,
    )?;
    found.sort_by_key(|i| i.channel != Channel::Sms.as_str());
    if let Some(identity) = found.into_iter().next() {
        return Ok(Some(identity));
    }
    let Some(customer) = customers::find_by_key(conn, MatchKey::Phone, phone)? else {
        return Ok(None);
    };
    if identities::find_identity(conn, Channel::Sms.as_str(), phone)?.is_some() {
        // An SMS identity of nobody (or of someone else) with this number: not guessed.
        return Ok(None);
    }
    traffic::add_identity(
        conn,
        customer,
        Channel::Sms.as_str(),
        phone,
        &Actor::System,
        &crate::domain::scope::Scope::Everything,
    )?;
    Ok(identities::find_identity(
        conn,
        Channel::Sms.as_str(),
        phone,
    )?)
}

/// Whether this customer may get a link at all.
fn may_get_link(conn: &mut DbConnection, customer: CustomerId) -> Result<bool, AppError> {
    let found = customers::get_customer(conn, customer)?;
    Ok(!found.blacklisted && erasure::find_erasure(conn, customer)?.is_none())
}

/// Handles a submitted phone number from `address`. A number that is not a phone number
/// is a field error; one submitted again within a minute sends nothing.
pub fn request(
    conn: &mut DbConnection,
    raw_phone: &str,
    address: &str,
    base_url: &str,
) -> Result<Requested, AppError> {
    let phone = match parse_phone(raw_phone) {
        Ok(Value::Text { text }) => text,
        Ok(_) | Err(_) => {
            let mut errors = FieldErrors::default();
            errors.push(
                "phone",
                "Enter your phone number with its country code, e.g. +385 91 234 5678.",
            );
            return Err(AppError::Invalid(errors));
        }
    };
    let hour = limits::count_since(conn, BY_ADDRESS, address, now() - TimeDelta::hours(1))?;
    if hour >= ADDRESS_PER_HOUR {
        return Err(AppError::TooManyRequests(
            "Too many requests from here. Please try again in an hour.".to_owned(),
        ));
    }
    db::transaction(conn, |conn| {
        let recent = limits::count_since(
            conn,
            BY_NUMBER,
            &phone,
            now() - TimeDelta::seconds(NUMBER_GAP_SECONDS),
        )?;
        limits::record(conn, BY_ADDRESS, address)?;
        if recent > 0 {
            return Ok(Requested::TooSoon);
        }
        limits::record(conn, BY_NUMBER, &phone)?;
        let message = send_link(conn, &phone, base_url)?;
        let token = random_hex(24);
        links::insert_request(conn, &hash_token(&token), message)?;
        Ok(Requested::Accepted(token))
    })
}

/// Sends a link to the customer holding `phone`, when there is one who may get it.
fn send_link(
    conn: &mut DbConnection,
    phone: &str,
    base_url: &str,
) -> Result<Option<MessageId>, AppError> {
    let config = selfservice::config(conn)?;
    if !config.enabled {
        return Ok(None);
    }
    let Some(identity) = target(conn, phone)? else {
        return Ok(None);
    };
    let Some(customer) = identity.customer_id else {
        return Ok(None);
    };
    if !may_get_link(conn, customer)? || !identity_may_get_link(conn, &identity)? {
        return Ok(None);
    }
    count_link_sent(conn, &identity)?;
    let author = Author {
        kind: crate::db::types::AuthorKind::System,
        user_id: None,
        name: "Clientele",
    };
    Ok(Some(selfservice::send(
        conn,
        customer,
        identity.id,
        &author,
        base_url,
    )?))
}

/// What the page says for a request token: `None` for a token it does not know.
pub fn state(conn: &mut DbConnection, token: &str) -> Result<Option<&'static str>, AppError> {
    let Some(message) = links::find_request(conn, &hash_token(token))? else {
        return Ok(None);
    };
    let webhook = settings::find_setting(conn, Setting::WebhookUrl)?.filter(|u| !u.is_empty());
    if webhook.is_none() {
        // Nothing can be delivered: said for every number alike.
        return Ok(Some(FAILED));
    }
    let Some(message) = message else {
        return Ok(Some(SENT));
    };
    let failed = outbox::list_for_messages(conn, &[message])?
        .into_iter()
        .any(|d| d.status != DeliveryStatus::Delivered && d.attempts > 0);
    Ok(Some(if failed { FAILED } else { SENT }))
}

/// Removes limit events and requests older than a day (no limit looks back further).
pub fn sweep(conn: &mut DbConnection) -> Result<usize, AppError> {
    let before = now() - TimeDelta::days(1);
    Ok(limits::delete_before(conn, before)? + links::delete_requests_before(conn, before)?)
}
