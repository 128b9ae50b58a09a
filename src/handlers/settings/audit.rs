//! Settings → Audit log: who did what and when — sign-ins and refused ones, accounts,
//! settings, tokens and their use, exports, imports, merges, anonymizations — filtered by
//! who, what and when, newest first; and how long records are kept.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::Supervisor;
use crate::db::audit::{AuditEntry, AuditFilter, Who};
use crate::db::types::AuditAction;
use crate::db::users::User;
use crate::domain::FieldErrors;
use crate::domain::period::Period;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render_status};
use crate::page::FlashKind;
use crate::services::retention::{self, Retention};
use crate::state::AppState;

/// Entries per page.
const PAGE: i64 = 50;

/// The filters, as the query string carries them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// An account id, `none` (no account), or empty for everyone.
    who: String,
    /// An action, or empty for every one.
    what: String,
    /// First day shown (YYYY-MM-DD, the viewer's time zone).
    from: String,
    /// Last day shown.
    to: String,
    /// Show entries older than this one.
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    ctx: PageContext,
    entries: Vec<AuditEntry>,
    accounts: Vec<User>,
    actions: Vec<&'static str>,
    who: String,
    what: String,
    from: String,
    to: String,
    /// The query string of the next (older) page, when there is one.
    older: Option<String>,
    retention: Retention,
    /// Retention as typed, when refused.
    typed: Vec<(String, String)>,
    errors: FieldErrors,
}

impl AuditPage {
    /// The value of a retention field: as typed after a refusal, else as saved.
    fn days(&self, name: &str) -> String {
        if let Some((_, value)) = self.typed.iter().find(|(k, _)| k == name) {
            return value.clone();
        }
        match name {
            "audit_days" => self.retention.audit_days,
            "unknown_contacts_days" => self.retention.unknown_contacts_days,
            "ended_links_days" => self.retention.ended_links_days,
            _ => self.retention.finished_jobs_days,
        }
        .to_string()
    }
}

fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

/// The filter the query asks for, read leniently: what cannot be read is left out. Days
/// are the viewer's, as a custom period on the Customers page reads them.
fn filter_of(query: &AuditQuery, time_zone: &str) -> AuditFilter {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let (from, to) =
        Period::Custom(parse_day(&query.from), parse_day(&query.to)).bounds(crate::db::now(), tz);
    AuditFilter {
        who: match query.who.as_str() {
            "none" => Some(Who::NoAccount),
            other => other.parse().ok().map(Who::Account),
        },
        action: query.what.parse().ok(),
        from,
        to,
        before: query.before,
    }
}

async fn page(
    current: &crate::auth::CurrentUser,
    state: &AppState,
    query: AuditQuery,
    typed: Vec<(String, String)>,
    errors: FieldErrors,
) -> Result<AuditPage, AppError> {
    let filter = filter_of(&query, &current.user.time_zone);
    let (entries, accounts, retention) = state
        .run(move |conn| {
            Ok((
                crate::db::audit::list_audit(conn, &filter, PAGE + 1)?,
                crate::db::users::list_users(conn)?,
                retention::load(conn)?,
            ))
        })
        .await?;
    let mut entries = entries;
    let older = (entries.len() as i64 > PAGE).then(|| {
        entries.truncate(PAGE as usize);
        let last = entries.last().map_or(0, |e| e.id);
        let pairs = [
            ("who", query.who.clone()),
            ("what", query.what.clone()),
            ("from", query.from.clone()),
            ("to", query.to.clone()),
            ("before", last.to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v));
        crate::handlers::customers::filter::query_of(&pairs, &[])
    });
    Ok(AuditPage {
        ctx: PageContext::new(current, "audit")?,
        entries,
        accounts,
        actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
        who: query.who,
        what: query.what,
        from: query.from,
        to: query.to,
        older,
        retention,
        typed,
        errors,
    })
}

/// `GET /settings/audit`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let page = page(
        &current,
        &state,
        query.into_inner(),
        Vec::new(),
        FieldErrors::default(),
    )
    .await?;
    render_status(&page, StatusCode::OK)
}

/// `POST /settings/audit/retention`: how long records are kept (0: for ever).
pub async fn save_retention(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let typed = form.into_inner();
    let field = |name: &str| {
        typed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    match Retention::parse(field) {
        Ok(chosen) => {
            let actor = current.actor();
            state
                .run(move |conn| retention::save(conn, &actor, &chosen))
                .await?;
            current.session.flash(
                FlashKind::Success,
                "Retention saved: the next hourly sweep removes what is no longer kept.",
            );
            Ok(see_other("/settings/audit#retention"))
        }
        Err(errors) => {
            let page = page(&current, &state, AuditQuery::default(), typed, errors).await?;
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
