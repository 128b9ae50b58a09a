//! What retention removes: unknown contacts (with their conversations and messages) that
//! have not written for long, self-service links long ended, jobs long finished. Each call
//! removes one batch, so a first sweep over years of data keeps other writers going.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::kept;
use super::schema::{channel_identities, conversations, imports, jobs, self_service_links};
use super::types::{IdentityId, JobId, JobStatus};

/// Removes up to `batch` unknown contacts (identities of no customer) that last wrote
/// before `before` and have no open conversation, with everything they wrote. A
/// blacklisted contact stays: its blacklisting must keep working.
pub fn delete_unknown_contacts_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    let open = conversations::table
        .filter(conversations::identity_id.eq(channel_identities::id))
        .filter(conversations::status.eq("open"));
    let ids: Vec<IdentityId> = channel_identities::table
        .filter(channel_identities::customer_id.is_null())
        .filter(channel_identities::last_seen_at.lt(before))
        .filter(channel_identities::blacklist_reason.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(open)))
        .select(channel_identities::id)
        .limit(batch)
        .load(conn)?;
    // Conversations, messages and their deliveries go with the identity (ON DELETE CASCADE).
    diesel::delete(channel_identities::table.filter(channel_identities::id.eq_any(ids)))
        .execute(conn)
}

/// Removes self-service links that expired or were revoked before `before`.
pub fn delete_ended_links_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        self_service_links::table.filter(
            self_service_links::expires_at
                .lt(before)
                .or(self_service_links::revoked_at.lt(before)),
        ),
    )
    .execute(conn)
}

/// Removes up to `batch` jobs that finished before `before`, with their refused rows; an
/// import they ran stays listed, without them.
pub fn delete_finished_jobs_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    let ids: Vec<JobId> = jobs::table
        .filter(jobs::finished_at.lt(before))
        .filter(jobs::status.eq_any([JobStatus::Done, JobStatus::Failed]))
        .select(jobs::id)
        .limit(batch)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    kept::update(
        imports::table.filter(imports::dry_job_id.eq_any(&raw)),
        imports::dry_job_id.eq(None::<i64>),
    )
    .execute(conn)?;
    kept::update(
        imports::table.filter(imports::run_job_id.eq_any(&raw)),
        imports::run_job_id.eq(None::<i64>),
    )
    .execute(conn)?;
    diesel::delete(jobs::table.filter(jobs::id.eq_any(ids))).execute(conn)
}
