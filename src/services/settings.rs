//! Installation-wide settings that supervisors change — feature toggles, the organisation's
//! time zone, the context card, the webhook — each saved with its audit entry.

use crate::db::card;
use crate::db::settings::{find_setting, upsert_setting};
use crate::db::types::{AuditAction, PropertyId, Setting};
use crate::db::{self, DbConnection};
use crate::domain::customer::Actor;
use crate::domain::password::random_hex;
use crate::error::AppError;
use crate::services::audit;

/// A boolean setting as stored.
pub fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Saves the feature toggles and the organisation's time zone.
pub fn save_features(
    conn: &mut DbConnection,
    actor: &Actor,
    customers_page_for_agents: bool,
    agents_merge: bool,
    time_zone: &str,
) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        let on = on_off(customers_page_for_agents);
        upsert_setting(conn, Setting::CustomersPageForAgents, on)?;
        upsert_setting(conn, Setting::AgentsMerge, on_off(agents_merge))?;
        upsert_setting(conn, Setting::OrgTimeZone, time_zone)?;
        audit::record(
            conn,
            actor,
            AuditAction::FeatureChanged,
            "Customers page in agent mode",
            on,
        )?;
        audit::record(
            conn,
            actor,
            AuditAction::FeatureChanged,
            "Agents merge customers",
            on_off(agents_merge),
        )
    })
}

/// One attribute of the context card as stored: property, position, section, mode.
pub type CardRow<'a> = (PropertyId, i32, &'a str, &'a str);

/// Replaces the context card; `summary` says what it now holds, for the audit log.
pub fn save_card(
    conn: &mut DbConnection,
    actor: &Actor,
    rows: &[CardRow<'_>],
    summary: &str,
) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        card::replace_card(conn, rows)?;
        audit::record(
            conn,
            actor,
            AuditAction::CardChanged,
            "Customer context card",
            summary,
        )
    })
}

/// Saves the webhook URL; a secret is made on first save, and again when `rotate`.
pub fn save_webhook(
    conn: &mut DbConnection,
    actor: &Actor,
    url: &str,
    rotate: bool,
) -> Result<Option<String>, AppError> {
    db::transaction(conn, |conn| {
        upsert_setting(conn, Setting::WebhookUrl, url)?;
        let made = signing_secret(conn, rotate)?;
        let detail = if rotate { "secret rotated" } else { "" };
        audit::record(conn, actor, AuditAction::WebhookChanged, url, detail)?;
        Ok(made)
    })
}

/// Makes the webhook's signing secret when there is none, or a new one with `rotate`;
/// returns it when it was made (to be shown once), `None` when the old one stays.
pub fn signing_secret(conn: &mut DbConnection, rotate: bool) -> Result<Option<String>, AppError> {
    if !rotate && find_setting(conn, Setting::WebhookSecret)?.is_some() {
        return Ok(None);
    }
    let secret = random_hex(32);
    upsert_setting(conn, Setting::WebhookSecret, &secret)?;
    Ok(Some(secret))
}

/// The webhook's signing secret for the command line: made first when there is none (or
/// with `rotate`).
pub fn print_signing_secret(conn: &mut DbConnection, rotate: bool) -> Result<String, AppError> {
    db::transaction(conn, |conn| {
        if rotate {
            audit::record(
                conn,
                &Actor::System,
                AuditAction::WebhookChanged,
                "",
                "secret rotated",
            )?;
        }
        match signing_secret(conn, rotate)? {
            Some(made) => Ok(made),
            None => Ok(find_setting(conn, Setting::WebhookSecret)?.unwrap_or_default()),
        }
    })
}

/// The organisation's time zone (UTC until one is chosen).
pub fn org_zone(conn: &mut DbConnection) -> diesel::QueryResult<chrono_tz::Tz> {
    Ok(find_setting(conn, Setting::OrgTimeZone)?
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::UTC))
}
