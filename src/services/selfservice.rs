//! Customer self-service links: the `profile` keyword, staff-sent links, opening a link,
//! and the short customer-only session it starts.

use chrono::{NaiveDateTime, TimeDelta};

use crate::db::identities;
use crate::db::links::{self, Link};
use crate::db::types::{AuditAction, ConversationId, CustomerId, IdentityId, MessageId, Setting};
use crate::db::{DbConnection, customers, now, settings};
use crate::domain::customer::Actor;
use crate::domain::password::random_hex;
use crate::error::AppError;
use crate::services::conversations::{self as traffic, Author, Opening};
use crate::services::profiles::{EditOutcome, Editor, ProfileEdit};
use crate::services::tokens::hash_token;

/// How long the customer session started by a link lasts.
pub const SESSION_MINUTES: i64 = 30;

/// Self-service requests per minute allowed per client address, and per link.
pub const PER_MINUTE: i64 = 30;

/// Counts a self-service request against `subject` (an address or a link) over the last
/// minute, on every instance; returns false, counting nothing, when the limit is reached.
pub fn within_limit(conn: &mut DbConnection, subject: &str) -> Result<bool, AppError> {
    const SCOPE: &str = "self-service";
    let recent =
        crate::db::limits::count_since(conn, SCOPE, subject, now() - TimeDelta::minutes(1))?;
    if recent >= PER_MINUTE {
        return Ok(false);
    }
    crate::db::limits::record(conn, SCOPE, subject)?;
    Ok(true)
}

/// The self-service settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub enabled: bool,
    pub keyword: String,
    pub ttl_hours: i64,
    pub org_name: String,
    /// Whether customers edit their own profile while it is locked.
    pub locked_edits: bool,
}

/// Reads the settings in one query, as every inbound message does (defaults: on,
/// `profile`, 24 h, "Clientele").
pub fn config(conn: &mut DbConnection) -> Result<Config, AppError> {
    let mut found = settings::find_settings(
        conn,
        &[
            Setting::SelfServiceEnabled,
            Setting::SelfServiceKeyword,
            Setting::SelfServiceTtlHours,
            Setting::OrgName,
            Setting::LockedSelfServiceEdits,
        ],
    )?;
    let mut take = |key: Setting| found.remove(key.as_str());
    Ok(Config {
        enabled: take(Setting::SelfServiceEnabled).as_deref() != Some("off"),
        keyword: take(Setting::SelfServiceKeyword).unwrap_or_else(|| "profile".to_owned()),
        ttl_hours: take(Setting::SelfServiceTtlHours)
            .and_then(|h| h.parse().ok())
            .unwrap_or(24),
        org_name: take(Setting::OrgName).unwrap_or_else(|| "Clientele".to_owned()),
        locked_edits: take(Setting::LockedSelfServiceEdits).as_deref() != Some("off"),
    })
}

/// Saves the self-service settings.
pub fn save_config(
    conn: &mut DbConnection,
    actor: &Actor,
    config: &Config,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let enabled = crate::services::settings::on_off(config.enabled);
        settings::upsert_setting(conn, Setting::SelfServiceEnabled, enabled)?;
        settings::upsert_setting(conn, Setting::SelfServiceKeyword, &config.keyword)?;
        let ttl = config.ttl_hours.to_string();
        settings::upsert_setting(conn, Setting::SelfServiceTtlHours, &ttl)?;
        settings::upsert_setting(conn, Setting::OrgName, &config.org_name)?;
        let locked_edits = crate::services::settings::on_off(config.locked_edits);
        settings::upsert_setting(conn, Setting::LockedSelfServiceEdits, locked_edits)?;
        crate::services::audit::record(
            conn,
            actor,
            AuditAction::SelfServiceChanged,
            &config.keyword,
            &format!(
                "enabled={}, ttl={}h, locked_edits={}",
                config.enabled, config.ttl_hours, config.locked_edits
            ),
        )
    })
}

/// Ends every self-service link and session of a customer; returns how many links.
pub fn revoke_all(conn: &mut DbConnection, customer: CustomerId) -> Result<usize, AppError> {
    Ok(crate::db::transaction(conn, |conn| {
        links::revoke_all(conn, customer)
    })?)
}

/// What a customer reads when their locked profile is not theirs to edit.
pub const LOCKED_NOTICE: &str =
    "Your details are locked and cannot be changed here. Contact us to change them.";

/// Whether the customer's own edits are refused: their profile is locked and the
/// settings keep customers from editing locked profiles.
pub fn locked_for_customer(
    conn: &mut DbConnection,
    config: &Config,
    customer: CustomerId,
) -> Result<bool, AppError> {
    Ok(!config.locked_edits && crate::services::locks::is_locked(conn, customer)?)
}

/// The customer saves their own profile on the self-service page (the session's link
/// names the customer). A locked profile refuses it while the settings say so.
pub fn save_own_profile(
    conn: &mut DbConnection,
    link_id: i64,
    expected_version: Option<i64>,
    edit: impl FnOnce(&[crate::db::properties::Property]) -> ProfileEdit,
) -> Result<EditOutcome, AppError> {
    let Some(link) = session(conn, link_id)? else {
        return Err(AppError::Unauthorized { next: None });
    };
    let settings = config(conn)?;
    if locked_for_customer(conn, &settings, link.customer_id)? {
        return Err(AppError::Conflict(LOCKED_NOTICE.to_owned()));
    }
    let registry = crate::db::properties::list_properties(conn)?;
    let edit = edit(&registry);
    crate::services::profiles::edit_customer(
        conn,
        link.customer_id,
        &registry,
        expected_version,
        &Actor::Customer,
        Editor::Customer,
        &edit,
    )
}

/// Whether an inbound text asks for the link.
pub fn is_request(config: &Config, text: &str) -> bool {
    config.enabled && text.trim().eq_ignore_ascii_case(config.keyword.trim())
}

/// Creates a link for a customer and returns the message that carries it.
pub fn issue(
    conn: &mut DbConnection,
    customer: CustomerId,
    base_url: &str,
    config: &Config,
) -> Result<Issued, AppError> {
    let token = random_hex(32);
    let expires = now() + TimeDelta::hours(config.ttl_hours);
    links::insert_link(conn, customer, &hash_token(&token), expires)?;
    let url = format!("{}/s/{token}", base_url.trim_end_matches('/'));
    let say = |link: &str| {
        format!(
            "Here is your personal link to check and update your details: {link} — it works once and for {} hours. Text \"{}\" again for a new one.",
            config.ttl_hours, config.keyword
        )
    };
    Ok(Issued {
        sent: say(&url),
        shown: say(LINK_LEFT_OUT),
    })
}

/// Where the link stands in the message staff see.
pub const LINK_LEFT_OUT: &str = "[personal link, sent to the customer only]";

/// The message that carries a new link: as the customer gets it, and as the conversation
/// keeps it for staff, without the link.
#[derive(Debug, Clone)]
pub struct Issued {
    pub sent: String,
    pub shown: String,
}

/// Why a link does not open. Every case shows customers the same page.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, expired, revoked or already opened.
    Unusable,
}

/// The link a token opens, while it still may: known, not expired, revoked or opened, and
/// its customer not blacklisted. Uses nothing (a link preview may ask).
pub fn usable(conn: &mut DbConnection, token: &str) -> Result<Option<Link>, AppError> {
    let Some(link) = links::find_by_hash(conn, &hash_token(token))? else {
        return Ok(None);
    };
    let usable = link.revoked_at.is_none()
        && link.opened_at.is_none()
        && link.expires_at > now()
        && !customers::get_customer(conn, link.customer_id)?.blacklisted;
    Ok(usable.then_some(link))
}

/// Opens a link once: returns the link whose session may start.
pub fn open(conn: &mut DbConnection, token: &str) -> Result<Result<Link, Refused>, AppError> {
    let Some(link) = usable(conn, token)? else {
        return Ok(Err(Refused::Unusable));
    };
    if !crate::db::transaction(conn, |conn| links::mark_opened(conn, link.id))? {
        return Ok(Err(Refused::Unusable));
    }
    Ok(Ok(link))
}

/// The link behind a customer session, while the session is valid.
pub fn session(conn: &mut DbConnection, link_id: i64) -> Result<Option<Link>, AppError> {
    Ok(links::find_link(conn, link_id)?.filter(|link| session_valid(link, now())))
}

/// A session lives `SESSION_MINUTES` after its link was opened, unless revoked.
pub fn session_valid(link: &Link, at: NaiveDateTime) -> bool {
    link.revoked_at.is_none()
        && link
            .opened_at
            .is_some_and(|opened| at < opened + TimeDelta::minutes(SESSION_MINUTES))
}

/// Sends a new link on one of the customer's identities ("Send profile link", and the
/// "text me my link" page); returns the message that carries it.
pub fn send(
    conn: &mut DbConnection,
    customer: CustomerId,
    identity: IdentityId,
    author: &Author<'_>,
    base_url: &str,
) -> Result<MessageId, AppError> {
    crate::db::transaction(conn, |conn| {
        let identity = identities::get_identity(conn, identity)?;
        if identity.customer_id != Some(customer) {
            return Err(AppError::NotFound);
        }
        if customers::get_customer(conn, customer)?.blacklisted {
            return Err(traffic::refuse_blacklisted("no self-service link is sent"));
        }
        let config = config(conn)?;
        let link = issue(conn, customer, base_url, &config)?;
        let (conversation, _) = traffic::open_conversation(conn, &identity, Opening::Outbound)?;
        traffic::send_unshown(conn, &conversation, author, &link.shown, Some(&link.sent))
    })
}

/// Staff send the link in a conversation, on its identity. A conversation with an unknown
/// contact has no profile to open: refused.
pub fn send_in_conversation(
    conn: &mut DbConnection,
    conversation: ConversationId,
    author: &Author<'_>,
    base_url: &str,
) -> Result<(), AppError> {
    let conversation = crate::db::conversations::get_conversation(conn, conversation)?;
    let customer = conversation.customer_id.ok_or(AppError::Forbidden)?;
    send(conn, customer, conversation.identity_id, author, base_url).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyword_matches_trimmed_in_any_case_only_when_enabled() {
        let mut config = Config {
            enabled: true,
            keyword: "profile".to_owned(),
            ttl_hours: 24,
            org_name: String::new(),
            locked_edits: true,
        };
        assert!(is_request(&config, "  PROFILE \n"));
        assert!(!is_request(&config, "my profile"));
        config.enabled = false;
        assert!(!is_request(&config, "profile"));
    }

    #[test]
    fn a_session_lasts_half_an_hour_after_opening() {
        let opened = now();
        let link = Link {
            id: 1,
            customer_id: CustomerId(1),
            token_hash: String::new(),
            created_at: opened,
            expires_at: opened,
            opened_at: Some(opened),
            revoked_at: None,
        };
        assert!(session_valid(&link, opened + TimeDelta::minutes(29)));
        assert!(!session_valid(&link, opened + TimeDelta::minutes(31)));
        assert!(!session_valid(
            &Link {
                revoked_at: Some(opened),
                ..link.clone()
            },
            opened
        ));
        assert!(!session_valid(
            &Link {
                opened_at: None,
                ..link
            },
            opened
        ));
    }
}
