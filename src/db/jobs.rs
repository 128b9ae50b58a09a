//! Background jobs (bulk changes, imports): queued by a request, run batch by batch by the
//! worker, each batch committed together with the job's cursor and counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

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

/// The statuses of a job that has not finished: waiting for the worker, or being worked
/// on (or interrupted there).
pub const UNFINISHED: [JobStatus; 2] = [JobStatus::Queued, JobStatus::Running];

/// The oldest job not finished (a running one first: it was interrupted), if any.
pub fn next_job(conn: &mut DbConnection) -> QueryResult<Option<Job>> {
    jobs::table
        .filter(jobs::status.eq_any(UNFINISHED))
        .order(jobs::id.asc())
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Marks a job as started.
pub fn start_job(conn: &mut DbConnection, id: JobId) -> QueryResult<usize> {
    let at = now();
    diesel::update(
        jobs::table
            .find(id)
            .filter(jobs::status.eq(JobStatus::Queued)),
    )
    .set((
        jobs::status.eq(JobStatus::Running),
        jobs::started_at.eq(at),
        jobs::updated_at.eq(at),
    ))
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

/// Records a batch (call inside the batch's transaction).
pub fn record_progress(conn: &mut DbConnection, id: JobId, batch: Progress) -> QueryResult<usize> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::processed.eq(jobs::processed + batch.processed),
            jobs::changed.eq(jobs::changed + batch.changed),
            jobs::created_count.eq(jobs::created_count + batch.created),
            jobs::refused_count.eq(jobs::refused_count + batch.refused),
            jobs::cursor.eq(batch.cursor),
            jobs::updated_at.eq(now()),
        ))
        .execute(conn)
}

/// Marks a job finished, with an error message when it failed.
pub fn finish_job(conn: &mut DbConnection, id: JobId, error: Option<&str>) -> QueryResult<usize> {
    let at = now();
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq(if error.is_some() {
                JobStatus::Failed
            } else {
                JobStatus::Done
            }),
            jobs::error.eq(error),
            jobs::finished_at.eq(at),
            jobs::updated_at.eq(at),
        ))
        .execute(conn)
}
