//! Bulk changes from the Customers page (add or remove a tag, set the lifecycle stage) on
//! the selected rows or on every customer matching the filter, run in the background; and
//! the progress page of background jobs.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Serialize;

use super::filter;
use crate::auth::CustomersUser;
use crate::db::jobs::{self, Job};
use crate::db::listing::{self, CustomerFilter};
use crate::db::types::{JobId, JobKind as DbJobKind, TagId};
use crate::db::{self, customers, tags};
use crate::domain::customer::Lifecycle;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render};
use crate::page::FlashKind;
use crate::services::jobs::{self as background, BulkAction, BulkParams};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "customers/bulk_confirm.html")]
struct ConfirmPage {
    ctx: PageContext,
    description: String,
    count: i64,
    query: String,
    action: String,
    tag: String,
    lifecycle: String,
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

/// `POST /customers/bulk`: the selected rows change at once (in the background); all
/// matching customers change after a confirmation that states how many.
pub async fn apply(
    user: CustomersUser,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    let query = field(&pairs, "query").trim_start_matches('?').to_owned();
    let back = format!("/customers?{query}");
    let (action_name, tag_raw, stage_raw) = (
        field(&pairs, "action").to_owned(),
        field(&pairs, "tag").to_owned(),
        field(&pairs, "lifecycle").to_owned(),
    );
    let selected: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "customer")
        .map(|(_, v)| v.trim().to_owned())
        .take(1000)
        .collect();
    let all = field(&pairs, "scope") == "all";
    let confirmed = field(&pairs, "confirm") == "yes";
    let role = user.role();
    let me = user.0.user.id.0;
    let scope = user.0.scope.clone();
    let query_pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(&query)
            .map(web::Query::into_inner)
            .unwrap_or_default();
    let tag_id: Option<TagId> = tag_raw.parse().ok().map(TagId);
    let (user_id, user_name) = (user_id_of(&user), user.0.user.display_name.clone());
    let outcome = state.run(move |conn| {
        let action = match action_name.as_str() {
            "add_tag" | "remove_tag" => {
                let Some(tag) = tag_id.and_then(|id| tags::get_tag(conn, id).ok()) else {
                    return Ok(Err("Pick a tag.".to_owned()));
                };
                let action = if action_name == "add_tag" {
                    BulkAction::AddTag(tag.id)
                } else {
                    BulkAction::RemoveTag(tag.id)
                };
                let verb = if action_name == "add_tag" {
                    "Add the tag"
                } else {
                    "Remove the tag"
                };
                (action, format!("{verb} {}", tag.name))
            }
            "set_lifecycle" => match stage_raw.parse::<Lifecycle>() {
                Ok(stage) => (
                    BulkAction::SetLifecycle(stage.as_str().to_owned()),
                    format!("Set the lifecycle stage to {}", stage.label()),
                ),
                Err(_) => return Ok(Err("Pick a lifecycle stage.".to_owned())),
            },
            _ => return Ok(Err("Pick what to change.".to_owned())),
        };
        let filter = if all {
            filter::resolve(conn, &query_pairs, role, me, &scope)?.filter
        } else {
            let ids = customers::ids_for_public_ids(conn, &selected)?;
            if ids.is_empty() {
                return Ok(Err(
                    "Select at least one customer, or choose all customers matching the filter."
                        .to_owned(),
                ));
            }
            CustomerFilter::only(ids).within(&scope)
        };
        let count = listing::count_all(conn, &filter)?;
        if count == 0 {
            return Ok(Err("No customers match the filter.".to_owned()));
        }
        let (action, verb) = action;
        let description = format!(
            "{verb} for {}",
            crate::page::count_of(count, "customer", "customers")
        );
        if all && !confirmed {
            return Ok(Ok(Err((description, count))));
        }
        let params = BulkParams {
            action,
            filter,
            user_id,
            user_name,
            role,
        };
        let job = background::queue_bulk(conn, &params, &description, count)?;
        Ok(Ok(Ok(job)))
    });
    match outcome.await? {
        Err(message) => {
            // Shown in the bulk bar, beside the controls it is about.
            user.0.session.flash_at(FlashKind::Error, "bulk", message);
            Ok(see_other(&format!("{back}#bulk-form")))
        }
        Ok(Ok(job)) => Ok(see_other(&format!("/jobs/{job}"))),
        Ok(Err((description, count))) => {
            let ctx = PageContext::new(&user.0, "customers")?;
            render(&ConfirmPage {
                ctx,
                description,
                count,
                query,
                action: field(&pairs, "action").to_owned(),
                tag: field(&pairs, "tag").to_owned(),
                lifecycle: field(&pairs, "lifecycle").to_owned(),
            })
        }
    }
}

fn user_id_of(user: &CustomersUser) -> i64 {
    user.0.user.id.0
}

#[derive(Template)]
#[template(path = "jobs/show.html")]
struct JobPage {
    ctx: PageContext,
    job: Job,
    status: JobStatus,
    /// The import a job belongs to, for imports.
    import_id: Option<crate::db::types::ImportId>,
    /// A dry run: it counts what an import would do and writes nothing.
    dry_run: bool,
    lifecycle: bool,
}

/// A job's progress, as the page shows it and polls it.
#[derive(Serialize)]
pub struct JobStatus {
    pub status: String,
    pub finished: bool,
    pub percent: i64,
    pub total: i64,
    pub processed: i64,
    pub changed: i64,
    pub created: i64,
    pub refused: i64,
    /// Rows per second so far.
    pub rate: i64,
    /// Seconds left at that rate, while running.
    pub seconds_left: Option<i64>,
    pub error: Option<String>,
}

impl JobStatus {
    fn of(job: &Job) -> JobStatus {
        let end = job.finished_at.unwrap_or_else(db::now);
        let elapsed = job
            .started_at
            .map_or(0, |start| (end - start).num_milliseconds().max(1));
        let rate = if elapsed > 0 {
            job.processed * 1000 / elapsed
        } else {
            0
        };
        let left = (job.total - job.processed).max(0);
        JobStatus {
            status: job.status.to_string(),
            finished: job.finished(),
            percent: job.percent(),
            total: job.total,
            processed: job.processed,
            changed: job.changed,
            created: job.created_count,
            refused: job.refused_count,
            rate,
            seconds_left: (!job.finished() && rate > 0).then(|| left / rate),
            error: job.error.clone(),
        }
    }
}

/// Loads a job the user may watch: their own, or any for supervisors.
async fn load_job(user: &CustomersUser, state: &AppState, id: JobId) -> Result<Job, AppError> {
    let job = state
        .run(move |conn| Ok(jobs::get_job(conn, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let own = job.created_by == Some(user_id_of(user));
    if own || user.role() >= crate::domain::Role::Supervisor {
        Ok(job)
    } else {
        Err(AppError::NotFound)
    }
}

/// `GET /jobs/{id}`: the progress page (it polls the status and survives a reload).
pub async fn show(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<JobId>,
) -> Result<HttpResponse, AppError> {
    let job = load_job(&user, &state, path.into_inner()).await?;
    let ctx = PageContext::new(&user.0, "customers")?;
    let status = JobStatus::of(&job);
    let import_id = serde_json::from_str::<crate::services::import::ImportParams>(&job.params)
        .ok()
        .filter(|_| matches!(job.kind, DbJobKind::Import | DbJobKind::ImportDryRun))
        .map(|p| p.import_id);
    let dry_run = matches!(
        job.kind,
        DbJobKind::ImportDryRun | DbJobKind::LifecyclePreview
    );
    let lifecycle = matches!(job.kind, DbJobKind::Lifecycle | DbJobKind::LifecyclePreview);
    render(&JobPage {
        ctx,
        job,
        status,
        import_id,
        dry_run,
        lifecycle,
    })
}

/// `GET /jobs/{id}/status`: the progress as JSON, for the page's polling.
pub async fn status(
    user: CustomersUser,
    state: web::Data<AppState>,
    path: web::Path<JobId>,
) -> Result<HttpResponse, AppError> {
    let job = load_job(&user, &state, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(JobStatus::of(&job)))
}
