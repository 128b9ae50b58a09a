//! The Insights page's summary rows and what builds them: slices (one per filter) with
//! their build state, figures per week, and the reads a build walks — customers by id,
//! a week's conversations on the `(started_at, id)` index.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::DbConnection;
use super::kept;
use super::schema::{channel_identities, conversations, customers};
use super::types::CustomerId;

// The summary tables are declared here, beside their only reader and writer: no query
// joins them with another table.
diesel::table! {
    insight_slices (slice) {
        slice -> Text,
        filter -> Text,
        phase -> Text,
        cursor -> BigInt,
        first_week -> Text,
        built_at -> Nullable<Timestamp>,
        refreshed_at -> Nullable<Timestamp>,
        viewed_at -> Timestamp,
        steps -> BigInt,
    }
}

diesel::table! {
    insight_counts (slice, week, metric, channel) {
        slice -> Text,
        week -> Text,
        metric -> Text,
        channel -> Text,
        value -> BigInt,
    }
}

/// A slice as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = insight_slices)]
pub struct Slice {
    pub slice: String,
    pub filter: String,
    pub phase: String,
    pub cursor: i64,
    pub first_week: String,
    pub built_at: Option<NaiveDateTime>,
    pub refreshed_at: Option<NaiveDateTime>,
    pub viewed_at: NaiveDateTime,
    pub steps: i64,
}

/// The build phases.
pub mod phase {
    pub const CUSTOMERS: &str = "customers";
    pub const WEEKS: &str = "weeks";
    pub const READY: &str = "ready";
}

/// The rows a build writes before they replace the slice's.
pub fn building(slice: &str) -> String {
    format!("{slice}#next")
}

/// One slice.
pub fn get_slice(conn: &mut DbConnection, slice: &str) -> QueryResult<Option<Slice>> {
    insight_slices::table
        .find(slice)
        .select(Slice::as_select())
        .first(conn)
        .optional()
}

/// Registers a slice someone looks at (built by the worker from then on).
pub fn insert_slice(
    conn: &mut DbConnection,
    slice: &str,
    filter: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    either_backend!(conn, c => diesel::insert_into(insight_slices::table)
        .values((
            insight_slices::slice.eq(slice),
            insight_slices::filter.eq(filter),
            insight_slices::viewed_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))
}

/// Notes that a slice was looked at (slices nobody looks at are dropped).
pub fn mark_viewed(conn: &mut DbConnection, slice: &str, at: NaiveDateTime) -> QueryResult<usize> {
    kept::update(
        insight_slices::table.find(slice),
        insight_slices::viewed_at.eq(at),
    )
    .execute(conn)
}

/// The slice most in need of work at `now`: one being built, else one never refreshed or
/// refreshed before `stale`, or built before `old` — `all` always, others while someone
/// looked at them since `wanted`.
pub fn next_due(
    conn: &mut DbConnection,
    stale: NaiveDateTime,
    old: NaiveDateTime,
    wanted: NaiveDateTime,
) -> QueryResult<Option<Slice>> {
    let building: Option<Slice> = insight_slices::table
        .filter(insight_slices::phase.ne(phase::READY))
        .order(insight_slices::slice.asc())
        .select(Slice::as_select())
        .first(conn)
        .optional()?;
    if building.is_some() {
        return Ok(building);
    }
    insight_slices::table
        .filter(
            insight_slices::slice
                .eq("all")
                .or(insight_slices::viewed_at.ge(wanted)),
        )
        .filter(
            insight_slices::refreshed_at
                .is_null()
                .or(insight_slices::refreshed_at.lt(stale))
                .or(insight_slices::built_at.lt(old)),
        )
        .order(insight_slices::refreshed_at.asc())
        .select(Slice::as_select())
        .first(conn)
        .optional()
}

/// Claims a step on a slice as it was read (`steps`); `false` when another step or a
/// restart came first.
pub fn claim_step(conn: &mut DbConnection, slice: &Slice) -> QueryResult<bool> {
    let claimed = kept::update(
        insight_slices::table
            .find(&slice.slice)
            .filter(insight_slices::steps.eq(slice.steps)),
        insight_slices::steps.eq(insight_slices::steps + 1),
    )
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Has a slice built again from the start at the worker's next step (what a step under
/// way has done is not kept).
pub fn ask_rebuild(conn: &mut DbConnection, slice: &str) -> QueryResult<usize> {
    kept::update(
        insight_slices::table.find(slice),
        (
            insight_slices::phase.eq(phase::READY),
            insight_slices::built_at.eq(None::<NaiveDateTime>),
            insight_slices::refreshed_at.eq(None::<NaiveDateTime>),
            insight_slices::steps.eq(insight_slices::steps + 1),
        ),
    )
    .execute(conn)
}

/// Has a slice's current week counted again at the worker's next step.
pub fn ask_refresh(
    conn: &mut DbConnection,
    slice: &str,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    kept::update(
        insight_slices::table.find(slice),
        (
            insight_slices::refreshed_at.eq(Some(before)),
            insight_slices::steps.eq(insight_slices::steps + 1),
        ),
    )
    .execute(conn)
}

/// Moves a slice's build on.
pub fn set_phase(
    conn: &mut DbConnection,
    slice: &str,
    to: &str,
    cursor: i64,
    first_week: &str,
) -> QueryResult<usize> {
    kept::update(
        insight_slices::table.find(slice),
        (
            insight_slices::phase.eq(to),
            insight_slices::cursor.eq(cursor),
            insight_slices::first_week.eq(first_week),
        ),
    )
    .execute(conn)
}

/// Notes a finished build (`built`) or refresh.
pub fn mark_done(
    conn: &mut DbConnection,
    slice: &str,
    at: NaiveDateTime,
    built: bool,
) -> QueryResult<usize> {
    if built {
        kept::update(
            insight_slices::table.find(slice),
            (
                insight_slices::built_at.eq(at),
                insight_slices::refreshed_at.eq(at),
            ),
        )
        .execute(conn)
    } else {
        kept::update(
            insight_slices::table.find(slice),
            insight_slices::refreshed_at.eq(at),
        )
        .execute(conn)
    }
}

/// Starts a rebuild: phase customers from the start, the half-built rows gone.
pub fn restart(conn: &mut DbConnection, slice: &str, first_week: &str) -> QueryResult<usize> {
    diesel::delete(insight_counts::table.filter(insight_counts::slice.eq(building(slice))))
        .execute(conn)?;
    set_phase(conn, slice, phase::CUSTOMERS, 0, first_week)
}

/// Adds figures to a slice's rows (created when absent): PostgreSQL takes them a few
/// hundred per statement, SQLite one by one (each a prepared statement in one
/// transaction, which costs it little).
pub fn add_counts(
    conn: &mut DbConnection,
    slice: &str,
    rows: &[(String, String, String, i64)],
) -> QueryResult<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|(week, metric, channel, value)| {
            (
                insight_counts::slice.eq(slice),
                insight_counts::week.eq(week),
                insight_counts::metric.eq(metric),
                insight_counts::channel.eq(channel),
                insight_counts::value.eq(value),
            )
        })
        .collect();
    let key = (
        insight_counts::slice,
        insight_counts::week,
        insight_counts::metric,
        insight_counts::channel,
    );
    let added = insight_counts::value.eq(insight_counts::value + excluded(insight_counts::value));
    match conn {
        DbConnection::Postgresql(c) => {
            for chunk in values.chunks(super::rows_per_insert(5)) {
                diesel::insert_into(insight_counts::table)
                    .values(chunk)
                    .on_conflict(key)
                    .do_update()
                    .set(added)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for row in values {
                diesel::insert_into(insight_counts::table)
                    .values(row)
                    .on_conflict(key)
                    .do_update()
                    .set(added)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Removes a week's figures of a slice whose metric is one of `metrics`, or starts with
/// `stage_` when `stages` (before they are counted again).
pub fn clear_week(
    conn: &mut DbConnection,
    slice: &str,
    week: &str,
    metrics: &[String],
    stages: bool,
) -> QueryResult<usize> {
    let mut removed = diesel::delete(
        insight_counts::table
            .filter(insight_counts::slice.eq(slice))
            .filter(insight_counts::week.eq(week))
            .filter(insight_counts::metric.eq_any(metrics)),
    )
    .execute(conn)?;
    if stages {
        removed += diesel::delete(
            insight_counts::table
                .filter(insight_counts::slice.eq(slice))
                .filter(insight_counts::week.eq(week))
                .filter(insight_counts::metric.like("stage\\_%").escape('\\')),
        )
        .execute(conn)?;
    }
    Ok(removed)
}

/// Puts a finished build in place: the slice's rows give way to the built ones, but for
/// the stages of past weeks (a build counts stages only for its own week).
pub fn swap_in(conn: &mut DbConnection, slice: &str, current_week: &str) -> QueryResult<()> {
    diesel::delete(
        insight_counts::table
            .filter(insight_counts::slice.eq(slice))
            .filter(
                insight_counts::metric
                    .not_like("stage\\_%")
                    .escape('\\')
                    .or(insight_counts::week.eq(current_week)),
            ),
    )
    .execute(conn)?;
    kept::update(
        insight_counts::table.filter(insight_counts::slice.eq(building(slice))),
        insight_counts::slice.eq(slice),
    )
    .execute(conn)?;
    Ok(())
}

/// A slice's figures from `first_week` on, for every channel and for `channel`.
pub fn read_counts(
    conn: &mut DbConnection,
    slice: &str,
    first_week: &str,
    channel: &str,
) -> QueryResult<Vec<(String, String, String, i64)>> {
    insight_counts::table
        .filter(insight_counts::slice.eq(slice))
        .filter(insight_counts::week.ge(first_week))
        .filter(
            insight_counts::channel
                .eq("")
                .or(insight_counts::channel.eq(channel))
                .or(insight_counts::metric.eq(crate::domain::insights::metric::CONVERSATIONS)),
        )
        .select((
            insight_counts::week,
            insight_counts::metric,
            insight_counts::channel,
            insight_counts::value,
        ))
        .load(conn)
}

/// Drops slices nobody looked at since `before` (never `all`) with their rows.
pub fn drop_unwanted(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let unwanted: Vec<String> = insight_slices::table
        .filter(insight_slices::viewed_at.lt(before))
        .filter(insight_slices::slice.ne("all"))
        .select(insight_slices::slice)
        .load(conn)?;
    for slice in &unwanted {
        diesel::delete(
            insight_counts::table.filter(
                insight_counts::slice
                    .eq(slice)
                    .or(insight_counts::slice.eq(building(slice))),
            ),
        )
        .execute(conn)?;
    }
    diesel::delete(insight_slices::table.filter(insight_slices::slice.eq_any(&unwanted)))
        .execute(conn)
}

/// A customer as a build counts them.
pub type Counted = (CustomerId, NaiveDateTime, String);

/// The next customers after `after` by id.
pub fn customers_after(
    conn: &mut DbConnection,
    after: CustomerId,
    limit: i64,
) -> QueryResult<Vec<Counted>> {
    customers::table
        .filter(customers::id.gt(after))
        .order(customers::id.asc())
        .limit(limit)
        .select((customers::id, customers::created_at, customers::lifecycle))
        .load(conn)
}

/// The customers created in `[from, until)`, on the creation index.
pub fn customers_created(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<Counted>> {
    customers::table
        .filter(customers::created_at.ge(from))
        .filter(customers::created_at.lt(until))
        .select((customers::id, customers::created_at, customers::lifecycle))
        .load(conn)
}

/// The channels each of the customers has an identity on.
pub fn channels_of(
    conn: &mut DbConnection,
    ids: &[CustomerId],
) -> QueryResult<Vec<(CustomerId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Option<CustomerId>, String)> = channel_identities::table
        .filter(channel_identities::customer_id.eq_any(ids.iter().map(|id| Some(*id))))
        .select((channel_identities::customer_id, channel_identities::channel))
        .distinct()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, channel)| Some((id?, channel)))
        .collect())
}

/// A conversation as a week's count sees it.
pub struct Started {
    pub customer: CustomerId,
    pub channel: String,
    pub rating: Option<i32>,
    pub started_at: NaiveDateTime,
    /// When staff first wrote in it.
    pub first_answer_at: Option<NaiveDateTime>,
}

/// The conversations started in `[from, until)` that belong to a customer.
pub fn conversations_started(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<Started>> {
    type Row = (
        Option<CustomerId>,
        String,
        Option<i32>,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = conversations::table
        .filter(conversations::started_at.ge(from))
        .filter(conversations::started_at.lt(until))
        .filter(conversations::customer_id.is_not_null())
        .select((
            conversations::customer_id,
            conversations::channel,
            conversations::rating,
            conversations::started_at,
            conversations::first_answer_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(customer, channel, rating, started_at, first_answer_at)| {
            Some(Started {
                customer: customer?,
                channel,
                rating,
                started_at,
                first_answer_at,
            })
        })
        .collect())
}
