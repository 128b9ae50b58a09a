//! How long what accumulates is kept — the audit log, unknown contacts and their
//! messages, ended self-service links, finished jobs — as supervisors set it under
//! Settings → Audit log, applied by the hourly sweep (one instance at a time).

use chrono::TimeDelta;

use crate::db::settings::{find_setting, upsert_setting};
use crate::db::types::{AuditAction, Setting};
use crate::db::{self, DbConnection, now, retention};
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::audit;

/// Days each kind of record is kept; 0 keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub audit_days: i64,
    pub unknown_contacts_days: i64,
    pub ended_links_days: i64,
    pub finished_jobs_days: i64,
}

impl Default for Retention {
    /// A year of audit log; unknown contacts kept; links and jobs for 90 days.
    fn default() -> Self {
        Retention {
            audit_days: 365,
            unknown_contacts_days: 0,
            ended_links_days: 90,
            finished_jobs_days: 90,
        }
    }
}

/// The longest any setting may be: about 30 years.
const MOST_DAYS: i64 = 11_000;

/// The four settings, each with its form field name.
fn fields() -> [(Setting, &'static str); 4] {
    [
        (Setting::RetainAuditDays, "audit_days"),
        (Setting::RetainUnknownContactsDays, "unknown_contacts_days"),
        (Setting::RetainEndedLinksDays, "ended_links_days"),
        (Setting::RetainFinishedJobsDays, "finished_jobs_days"),
    ]
}

impl Retention {
    fn from_days(days: [i64; 4]) -> Self {
        Retention {
            audit_days: days[0],
            unknown_contacts_days: days[1],
            ended_links_days: days[2],
            finished_jobs_days: days[3],
        }
    }

    fn days(&self) -> [i64; 4] {
        [
            self.audit_days,
            self.unknown_contacts_days,
            self.ended_links_days,
            self.finished_jobs_days,
        ]
    }

    /// Reads the form's four fields; each must be a whole number of days, 0 to keep for ever.
    pub fn parse(field: impl Fn(&str) -> String) -> Result<Retention, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut days = [0_i64; 4];
        for (slot, (_, name)) in days.iter_mut().zip(fields()) {
            match field(name).trim().parse::<i64>() {
                Ok(value) if (0..=MOST_DAYS).contains(&value) => *slot = value,
                _ => errors.push(
                    name,
                    format!("Give a whole number of days from 0 (keep for ever) to {MOST_DAYS}."),
                ),
            }
        }
        if errors.is_empty() {
            Ok(Retention::from_days(days))
        } else {
            Err(errors)
        }
    }
}

/// The settings as stored (the defaults where none were saved).
pub fn load(conn: &mut DbConnection) -> Result<Retention, AppError> {
    let mut days = Retention::default().days();
    for (slot, (key, _)) in days.iter_mut().zip(fields()) {
        if let Some(value) = find_setting(conn, key)?.and_then(|v| v.parse().ok()) {
            *slot = value;
        }
    }
    Ok(Retention::from_days(days))
}

/// Saves the settings, with their audit entry.
pub fn save(conn: &mut DbConnection, actor: &Actor, retention: &Retention) -> Result<(), AppError> {
    db::transaction(conn, |conn| {
        for ((key, _), days) in fields().into_iter().zip(retention.days()) {
            upsert_setting(conn, key, &days.to_string())?;
        }
        audit::record(
            conn,
            actor,
            AuditAction::RetentionChanged,
            "Retention",
            &format!(
                "audit log {} days, unknown contacts {}, ended links {}, finished jobs {} (0: for ever)",
                retention.audit_days,
                retention.unknown_contacts_days,
                retention.ended_links_days,
                retention.finished_jobs_days
            ),
        )
    })
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub audit_entries: usize,
    pub unknown_contacts: usize,
    pub links: usize,
    pub jobs: usize,
}

/// Rows removed per transaction.
const BATCH: i64 = 500;

/// Removes what is past its keeping time, batch by batch.
pub fn sweep(conn: &mut DbConnection) -> Result<Swept, AppError> {
    let retention = load(conn)?;
    let cutoff = |days: i64| (days > 0).then(|| now() - TimeDelta::days(days));
    let mut swept = Swept::default();
    if let Some(before) = cutoff(retention.audit_days) {
        swept.audit_entries =
            in_batches(conn, |conn| db::audit::delete_before(conn, before, BATCH))?;
    }
    if let Some(before) = cutoff(retention.ended_links_days) {
        swept.links = db::transaction(conn, |conn| {
            retention::delete_ended_links_before(conn, before)
        })?;
    }
    if let Some(before) = cutoff(retention.unknown_contacts_days) {
        swept.unknown_contacts = in_batches(conn, |conn| {
            retention::delete_unknown_contacts_before(conn, before, BATCH)
        })?;
    }
    if let Some(before) = cutoff(retention.finished_jobs_days) {
        swept.jobs = in_batches(conn, |conn| {
            retention::delete_finished_jobs_before(conn, before, BATCH)
        })?;
    }
    Ok(swept)
}

/// Runs `delete` (at most [`BATCH`] rows) in one transaction after another until a batch
/// comes back short; how many rows went in all.
fn in_batches(
    conn: &mut DbConnection,
    delete: impl Fn(&mut DbConnection) -> diesel::QueryResult<usize>,
) -> Result<usize, AppError> {
    let mut removed = 0;
    loop {
        let batch = db::transaction(conn, |conn| delete(conn))?;
        removed += batch;
        if batch < BATCH as usize {
            return Ok(removed);
        }
    }
}
