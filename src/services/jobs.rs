//! The background worker: keeps the search index complete, then runs queued jobs (bulk
//! changes, imports, lifecycle runs) one batch at a time, and between jobs works out
//! suggested duplicates and keeps the insights' summary rows current.
//! Each batch is one short transaction that also moves the job's cursor, so other writers
//! get their turn between batches and a restart resumes after the last committed batch,
//! never doing a row twice.

use std::time::Duration;

use chrono::TimeDelta;

use serde::{Deserialize, Serialize};

use crate::db::jobs::{self, Job, Progress};
use crate::db::leases;
use crate::db::listing::{self, CustomerFilter};
use crate::db::types::{CustomerId, TagId};
use crate::db::types::{JobId, JobKind, JobStatus};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::Role;
use crate::domain::customer::Actor;
use crate::error::AppError;
use crate::services::profiles::{self, EditOutcome, Editor, ProfileEdit};

/// Customers changed per transaction.
pub const BATCH: i64 = 200;

/// What a bulk change does to each customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAction {
    AddTag(TagId),
    RemoveTag(TagId),
    SetLifecycle(String),
}

/// A bulk change as queued: what, to which customers, on whose behalf.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkParams {
    pub action: BulkAction,
    pub filter: CustomerFilter,
    pub user_id: i64,
    pub user_name: String,
    pub role: Role,
}

/// Queues a bulk change; returns the job id.
pub fn queue_bulk(
    conn: &mut DbConnection,
    params: &BulkParams,
    label: &str,
    total: i64,
) -> Result<JobId, AppError> {
    let encoded = serde_json::to_string(params).map_err(|e| AppError::Unexpected(e.into()))?;
    Ok(jobs::insert_job(
        conn,
        jobs::NewJob {
            kind: JobKind::Bulk,
            label,
            params: &encoded,
            total,
            created_by: Some(params.user_id),
            created_by_name: &params.user_name,
        },
    )?)
}

/// Applies one batch of a bulk change. Returns whether the job is finished.
fn bulk_batch(conn: &mut DbConnection, job: &Job, params: &BulkParams) -> Result<bool, AppError> {
    let actor = Actor::User {
        id: params.user_id,
        name: params.user_name.clone(),
    };
    db::transaction(conn, |conn| {
        let ids = listing::ids_after(conn, &params.filter, CustomerId(job.cursor), BATCH)?;
        let Some(last) = ids.last().copied() else {
            jobs::finish_job(conn, job.id, None)?;
            return Ok(true);
        };
        let mut batch = Progress {
            processed: ids.len() as i64,
            cursor: last.0,
            ..Progress::default()
        };
        for id in ids {
            let changed = match &params.action {
                BulkAction::AddTag(tag) => profiles::set_tag(conn, id, *tag, true, &actor)?,
                BulkAction::RemoveTag(tag) => profiles::set_tag(conn, id, *tag, false, &actor)?,
                BulkAction::SetLifecycle(stage) => {
                    let edit = ProfileEdit {
                        values: Vec::new(),
                        lifecycle: Some(stage.clone()),
                    };
                    let registry = Vec::new();
                    let outcome = profiles::edit_customer(
                        conn,
                        id,
                        &registry,
                        None,
                        &actor,
                        Editor::Staff(params.role),
                        &edit,
                    )?;
                    matches!(outcome, EditOutcome::Saved(n) if n > 0)
                }
            };
            batch.changed += i64::from(changed);
        }
        jobs::record_progress(conn, job, batch)?;
        Ok(false)
    })
}

/// How long the search indexer and the duplicate suggestions are held by one instance
/// for one batch.
const LEASE: TimeDelta = TimeDelta::seconds(60);

/// Runs `work` while holding the lease `name`; does nothing (and returns 0) when another
/// instance holds it. The lease is only taken when `pending` says there is work, so an
/// idle instance only reads; an embedded database has one instance and takes none.
fn leased(
    conn: &mut DbConnection,
    name: &str,
    pending: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<bool>,
    work: impl FnOnce(&mut DbConnection) -> Result<usize, AppError>,
) -> Result<usize, AppError> {
    if db::has_one_writer(conn) {
        return work(conn);
    }
    if !pending(conn)? || !leases::take(conn, name, LEASE)? {
        return Ok(0);
    }
    let done = work(conn);
    leases::give_back(conn, name)?;
    done
}

/// Does one unit of background work; returns whether there was any. Every piece is
/// claimed first, so several instances on one database never do the same batch.
pub fn work_once(conn: &mut DbConnection) -> Result<bool, AppError> {
    if leased(
        conn,
        "search-index",
        crate::db::search::any_pending,
        |conn| Ok(crate::db::search::index_pending(conn, 500)?),
    )? > 0
    {
        return Ok(true);
    }
    let Some(job) = jobs::claim_next(conn)? else {
        // Idle between jobs: keep the suggested duplicates current, then the insights.
        let checked = leased(
            conn,
            "duplicate-checks",
            crate::db::duplicate_checks::any_queued,
            |conn| crate::services::duplicates::check_pending(conn, BATCH),
        )?;
        if checked > 0 {
            return Ok(true);
        }
        return Ok(leased(
            conn,
            "insights",
            crate::services::insights::any_due,
            crate::services::insights::work_step,
        )? > 0);
    };
    let outcome = run_batch(conn, &job);
    if let Err(error) = &outcome {
        if jobs::unmoved(conn, &job)? {
            tracing::warn!(job = job.id.0, %error, "background job failed");
            jobs::finish_job(conn, job.id, Some(&error.to_string()))?;
        } else {
            tracing::info!(job = job.id.0, "batch done by another instance meanwhile");
        }
    }
    jobs::release(conn, job.id)?;
    Ok(true)
}

/// Runs the next batch of a claimed job; returns whether the job is finished.
fn run_batch(conn: &mut DbConnection, job: &Job) -> Result<bool, AppError> {
    if job.status == JobStatus::Queued {
        jobs::start_job(conn, job.id)?;
    }
    let unreadable = || AppError::Conflict("the job's parameters cannot be read".into());
    match job.kind {
        JobKind::Bulk => {
            let params =
                serde_json::from_str::<BulkParams>(&job.params).map_err(|_| unreadable())?;
            bulk_batch(conn, job, &params)
        }
        JobKind::ImportDryRun | JobKind::Import => {
            let params = serde_json::from_str::<crate::services::import::ImportParams>(&job.params)
                .map_err(|_| unreadable())?;
            crate::services::import::import_batch(conn, job, &params)
        }
        JobKind::Lifecycle | JobKind::LifecyclePreview => {
            crate::services::lifecycle::run_batch(conn, job)
        }
    }
}

/// How often old import files are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// How long the instance that swept the database keeps the others from sweeping it again.
const SWEEP_LEASE: TimeDelta = TimeDelta::minutes(55);

/// Runs [`work_once`] until there is nothing left, then polls every `idle`; once an hour
/// (and at start) removes import files past their keeping time, drops merge snapshots
/// past the undo window, forgets limit events older than a day, and removes what the
/// retention settings no longer keep. Once `stop` is
/// set, returns after the batch under way (which commits or rolls back whole).
pub async fn run(pool: DbPool, idle: Duration, mut stop: crate::startup::Stop) {
    let mut swept: Option<std::time::Instant> = None;
    while !*stop.borrow() {
        if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
            swept = Some(std::time::Instant::now());
            let sweep_pool = pool.clone();
            let removed = actix_web::web::block(move || {
                let mut conn = sweep_pool.get()?;
                // One instance an hour sweeps the database; each removes its own old files.
                if leases::take(&mut conn, "sweep", SWEEP_LEASE)? {
                    let dropped = crate::services::merge::drop_expired_snapshots(&mut conn)?;
                    if dropped > 0 {
                        tracing::info!(dropped, "merge snapshots past the undo window dropped");
                    }
                    crate::services::link_requests::sweep(&mut conn)?;
                    crate::services::insights::sweep(&mut conn)?;
                    if let Some(job) = crate::services::lifecycle::queue_daily(&mut conn)? {
                        tracing::info!(job = job.0, "daily run of the lifecycle rules queued");
                    }
                    let swept = crate::services::retention::sweep(&mut conn)?;
                    if swept != crate::services::retention::Swept::default() {
                        tracing::info!(?swept, "records past their keeping time removed");
                    }
                }
                crate::services::import::remove_old_files(&mut conn)
            })
            .await;
            match removed {
                Ok(Ok(0)) => {}
                Ok(Ok(files)) => tracing::info!(files, "old import files removed"),
                Ok(Err(error)) => tracing::warn!(%error, "old import files not removed"),
                Err(error) => tracing::warn!(%error, "old import files not removed"),
            }
        }
        let worker_pool = pool.clone();
        let busy = actix_web::web::block(move || {
            let mut conn = worker_pool.get()?;
            work_once(&mut conn)
        })
        .await;
        match busy {
            Ok(Ok(true)) => tokio::task::yield_now().await,
            Ok(Ok(false)) => crate::startup::pause(&mut stop, idle).await,
            Ok(Err(error)) => {
                tracing::warn!(%error, "background work failed");
                crate::startup::pause(&mut stop, idle).await;
            }
            Err(error) => {
                tracing::warn!(%error, "background worker task failed");
                crate::startup::pause(&mut stop, idle).await;
            }
        }
    }
}
