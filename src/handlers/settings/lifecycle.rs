//! Settings → Lifecycle: the rules that keep customers' stages current, in the order they
//! apply, each on or off; a preview counts whom a change would move before it is saved.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Supervisor;
use crate::db::jobs::{self, Job};
use crate::db::tags::Tag;
use crate::db::types::JobKind;
use crate::domain::FieldErrors;
use crate::domain::lifecycle::{self, RuleKind, Rules};
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render_status};
use crate::page::FlashKind;
use crate::services::lifecycle as rules_service;
use crate::state::AppState;

/// One rule's row, as shown or as typed.
struct RuleRow {
    kind: &'static str,
    label: &'static str,
    stage: &'static str,
    position: String,
    enabled: bool,
    days: String,
    at_least: String,
    amount: String,
    currency: String,
    tag: Option<i64>,
    meaning: String,
}

impl RuleRow {
    fn uses_days(&self) -> bool {
        matches!(self.kind, "engaged" | "declining" | "silent")
    }
}

#[derive(Template)]
#[template(path = "settings/lifecycle.html")]
struct LifecyclePage {
    ctx: PageContext,
    rows: Vec<RuleRow>,
    tags: Vec<Tag>,
    errors: FieldErrors,
    /// The preview just queued.
    preview: Option<Job>,
    /// The newest run over every customer.
    last_run: Option<Job>,
}

fn rows_of(rules: &Rules, tags: &[Tag]) -> Vec<RuleRow> {
    rules
        .0
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let tag_name = rule
                .tag
                .and_then(|id| tags.iter().find(|t| t.id.0 == id))
                .map(|t| t.name.as_str());
            RuleRow {
                kind: rule.kind.as_str(),
                label: rule.kind.label(),
                stage: rule.kind.stage().label(),
                position: (index + 1).to_string(),
                enabled: rule.enabled,
                days: rule.days.to_string(),
                at_least: rule.at_least.to_string(),
                amount: rule.amount.clone(),
                currency: rule.currency.clone(),
                tag: rule.tag,
                meaning: rule.describe(tag_name),
            }
        })
        .collect()
}

/// The rows as typed, in the order typed, so a refused form comes back as it was.
fn rows_typed(pairs: &[(String, String)]) -> Vec<RuleRow> {
    let value = |name: String| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<(i64, usize, RuleRow)> = RuleKind::ALL
        .into_iter()
        .enumerate()
        .map(|(index, kind)| {
            let name = kind.as_str();
            let position = value(format!("{name}_position"));
            let order = position.trim().parse::<i64>().unwrap_or(index as i64 + 1);
            let row = RuleRow {
                kind: name,
                label: kind.label(),
                stage: kind.stage().label(),
                position,
                enabled: !value(format!("{name}_on")).is_empty(),
                days: value(format!("{name}_days")),
                at_least: value("engaged_at_least".to_owned()),
                amount: value("high_value_amount".to_owned()),
                currency: value("high_value_currency".to_owned()),
                tag: value("high_value_tag".to_owned()).parse().ok(),
                meaning: String::new(),
            };
            (order, index, row)
        })
        .collect();
    rows.sort_by_key(|(order, index, _)| (*order, *index));
    rows.into_iter().map(|(_, _, row)| row).collect()
}

async fn page(
    current: &crate::auth::CurrentUser,
    state: &AppState,
    rows: Option<Vec<RuleRow>>,
    errors: FieldErrors,
    preview: Option<Job>,
) -> Result<LifecyclePage, AppError> {
    let (rules, tags, last_run) = state
        .run(|conn| {
            Ok((
                rules_service::rules(conn)?,
                crate::db::tags::list_tags(conn)?,
                jobs::newest_of(conn, JobKind::Lifecycle)?,
            ))
        })
        .await?;
    Ok(LifecyclePage {
        ctx: PageContext::new(current, "lifecycle")?,
        rows: rows.unwrap_or_else(|| rows_of(&rules, &tags)),
        tags,
        errors,
        preview,
        last_run,
    })
}

/// `GET /settings/lifecycle`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let page = page(&current, &state, None, FieldErrors::default(), None).await?;
    render_status(&page, StatusCode::OK)
}

/// `POST /settings/lifecycle`: `action=preview` queues a count of whom the rules as typed
/// would move and shows the form again as typed; otherwise saves them and queues a run.
pub async fn save(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    let preview = pairs.iter().any(|(k, v)| k == "action" && v == "preview");
    let refused = |errors: FieldErrors| async {
        let page = page(&current, &state, Some(rows_typed(&pairs)), errors, None).await?;
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let rules = match lifecycle::parse_form(&pairs) {
        Ok(rules) => rules,
        Err(errors) => return refused(errors).await,
    };
    let actor = current.actor();
    if preview {
        let queued = state
            .run(move |conn| {
                let id = rules_service::queue_preview(conn, &actor, &rules)?;
                Ok(jobs::get_job(conn, id)?)
            })
            .await;
        return match queued {
            Ok(job) => {
                let typed = Some(rows_typed(&pairs));
                let page = page(&current, &state, typed, FieldErrors::default(), job).await?;
                render_status(&page, StatusCode::OK)
            }
            Err(AppError::Invalid(errors)) => refused(errors).await,
            Err(other) => Err(other),
        };
    }
    match state
        .run(move |conn| rules_service::save_rules(conn, &actor, &rules))
        .await
    {
        Ok(run) => {
            let message = if run.is_some() {
                "Rules saved. They are being applied to every customer in the background."
            } else {
                "Rules saved. Every rule is off: stages change only by hand."
            };
            current.session.flash(FlashKind::Success, message);
            Ok(see_other("/settings/lifecycle"))
        }
        Err(AppError::Invalid(errors)) => refused(errors).await,
        Err(other) => Err(other),
    }
}
