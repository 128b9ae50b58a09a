//! Background jobs (bulk changes, imports): queued by a request, run batch by batch by the
//! worker, each batch committed together with the job's cursor and counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::jobs;
use super::types::{JobId, JobKind, JobStatus};
use super::{DbConnection, now};

/// A job as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub status: JobStatus,
    pub label: String,
    pub params: String,
    pub total: i64,
    pub processed: i64,
    pub changed: i64,
    pub created_count: i64,
    pub refused_count: i64,
    pub cursor: i64,
    pub error: Option<String>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl Job {
    /// Whether the worker is done with it.
    pub fn finished(&self) -> bool {
        self.status.finished()
    }

    /// Progress in percent (0–100).
    pub fn percent(&self) -> i64 {
        if self.finished() {
            100
        } else if self.total <= 0 {
            0
        } else {
            (self.processed * 100 / self.total).clamp(0, 99)
        }
    }
}

/// A job to queue.
pub struct NewJob<'a> {
    pub kind: JobKind,
    pub label: &'a str,
    pub params: &'a str,
    pub total: i64,
    pub created_by: Option<i64>,
    pub created_by_name: &'a str,
}

/// Queues a job; returns its id.
pub fn insert_job(conn: &mut DbConnection, job: NewJob<'_>) -> QueryResult<JobId> {
    let at = now();
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(job.kind),
            jobs::label.eq(job.label),
            jobs::params.eq(job.params),
            jobs::total.eq(job.total),
            jobs::created_by.eq(job.created_by),
            jobs::created_by_name.eq(job.created_by_name),
            jobs::created_at.eq(at),
            jobs::updated_at.eq(at),
        ))
        .execute(conn)?;
    jobs::table
        .filter(jobs::created_at.eq(at))
        .filter(jobs::label.eq(job.label))
        .order(jobs::id.desc())
        .select(jobs::id)
        .first(conn)
}

/// One job.
pub fn get_job(conn: &mut DbConnection, id: JobId) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// The newest job of a kind.
pub fn newest_of(conn: &mut DbConnection, kind: JobKind) -> QueryResult<Option<Job>> {
    jobs::table
        .filter(jobs::kind.eq(kind))
        .order(jobs::id.desc())
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// The statuses of a job that has not finished: waiting for the worker, or being worked
/// on (or interrupted there).
pub const UNFINISHED: [JobStatus; 2] = [JobStatus::Queued, JobStatus::Running];

/// How long a claim on a job lasts: far longer than a batch takes, short enough that a
/// job an instance was killed in the middle of resumes soon on another.
pub const CLAIM: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Claims the oldest unfinished job no other instance holds, for [`CLAIM`]; returns it
/// as it stands once claimed (its cursor read after the claim, so a batch another
/// instance committed meanwhile is not done twice).
pub fn claim_next(conn: &mut DbConnection) -> QueryResult<Option<Job>> {
    let at = now();
    let free = jobs::claimed_until.is_null().or(jobs::claimed_until.lt(at));
    let candidates: Vec<JobId> = jobs::table
        .filter(jobs::status.eq_any(UNFINISHED))
        .filter(free)
        .order(jobs::id.asc())
        .select(jobs::id)
        .limit(4)
        .load(conn)?;
    for id in candidates {
        // Two instances may pick the same job: the update lets one of them have it.
        let claimed = kept::update(
            jobs::table
                .find(id)
                .filter(jobs::status.eq_any(UNFINISHED))
                .filter(free),
            jobs::claimed_until.eq(at + CLAIM),
        )
        .execute(conn)?;
        if claimed == 1 {
            return get_job(conn, id);
        }
    }
    Ok(None)
}

/// Ends this instance's claim on a job, so the next batch may be done by any instance.
pub fn release(conn: &mut DbConnection, id: JobId) -> QueryResult<usize> {
    kept::update(
        jobs::table.find(id),
        jobs::claimed_until.eq(None::<NaiveDateTime>),
    )
    .execute(conn)
}

/// Whether the job still stands where `seen` left it (same cursor, not finished): a batch
/// that failed then failed for this job, not because another instance moved it on.
pub fn unmoved(conn: &mut DbConnection, seen: &Job) -> QueryResult<bool> {
    Ok(get_job(conn, seen.id)?.is_some_and(|job| {
        job.cursor == seen.cursor && job.processed == seen.processed && !job.finished()
    }))
}

/// Marks a job as started.
pub fn start_job(conn: &mut DbConnection, id: JobId) -> QueryResult<usize> {
    let at = now();
    kept::update(
        jobs::table
            .find(id)
            .filter(jobs::status.eq(JobStatus::Queued)),
        (
            jobs::status.eq(JobStatus::Running),
            jobs::started_at.eq(at),
            jobs::updated_at.eq(at),
        ),
    )
    .execute(conn)
}

/// What one batch did, added to the job's counters with the new cursor.
#[derive(Debug, Default, Clone, Copy)]
pub struct Progress {
    pub processed: i64,
    pub changed: i64,
    pub created: i64,
    pub refused: i64,
    pub cursor: i64,
}

/// Records a batch (call inside the batch's transaction) done from `job` as it was
/// claimed. When another instance has moved the job on meanwhile, nothing is recorded and
/// the transaction is rolled back, batch and all.
pub fn record_progress(conn: &mut DbConnection, job: &Job, batch: Progress) -> QueryResult<()> {
    let moved = kept::update(
        jobs::table
            .find(job.id)
            .filter(jobs::cursor.eq(job.cursor))
            .filter(jobs::processed.eq(job.processed)),
        (
            jobs::processed.eq(jobs::processed + batch.processed),
            jobs::changed.eq(jobs::changed + batch.changed),
            jobs::created_count.eq(jobs::created_count + batch.created),
            jobs::refused_count.eq(jobs::refused_count + batch.refused),
            jobs::cursor.eq(batch.cursor),
            jobs::updated_at.eq(now()),
        ),
    )
    .execute(conn)?;
    if moved == 1 {
        Ok(())
    } else {
        Err(diesel::result::Error::RollbackTransaction)
    }
}

/// Marks a job finished, with an error message when it failed.
pub fn finish_job(conn: &mut DbConnection, id: JobId, error: Option<&str>) -> QueryResult<usize> {
    let at = now();
    kept::update(
        jobs::table.find(id),
        (
            jobs::status.eq(if error.is_some() {
                JobStatus::Failed
            } else {
                JobStatus::Done
            }),
            jobs::error.eq(error),
            jobs::finished_at.eq(at),
            jobs::updated_at.eq(at),
        ),
    )
    .execute(conn)
}

/// How many jobs are unfinished, and how old the oldest is, in seconds (0 without one).
pub fn backlog(conn: &mut DbConnection) -> QueryResult<(i64, i64)> {
    let unfinished: i64 = jobs::table
        .filter(jobs::status.eq_any(UNFINISHED))
        .count()
        .get_result(conn)?;
    let oldest: Option<NaiveDateTime> = jobs::table
        .filter(jobs::status.eq_any(UNFINISHED))
        .select(diesel::dsl::min(jobs::created_at))
        .first(conn)?;
    let age = oldest.map_or(0, |at| (now() - at).num_seconds().max(0));
    Ok((unfinished, age))
}
