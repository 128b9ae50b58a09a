//! Insights for supervisors, served from summary rows the background worker keeps: a slice
//! (everyone, a tag, a segment) is built in short steps — a walk over the customers for
//! new customers per week and today's stages, then one step per week of conversations
//! (conversations, active customers, ratings, first answers, per channel) — into rows
//! swapped in whole;
//! rebuilt daily, and its current week counted again every few minutes. A page only
//! reads rows, so its cost does not grow with the customers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::db::insights::{self as rows, Slice, building, phase};
use crate::db::listing::{self, CustomerFilter};
use crate::db::types::CustomerId;
use crate::db::{self, DbConnection};
use crate::domain::insights::{
    Counts, Figures, FiguresAsked, FiguresKept, SliceKey, WEEKS_KEPT, bump, metric, week_bounds,
    week_key, week_of, weeks_ending,
};
use crate::error::AppError;

/// Customers read per build step.
const STEP: i64 = 2_000;
/// Ids tested against a slice's filter per statement.
const MEMBERS_PER_TEST: usize = 1_000;
/// How old the current week's figures may get.
pub const FRESH: TimeDelta = TimeDelta::minutes(10);
/// How often a slice is rebuilt whole (stages, and what changed in past weeks).
const REBUILD: TimeDelta = TimeDelta::hours(24);
/// How long a slice nobody looks at is kept current, then dropped.
const WANTED: TimeDelta = TimeDelta::days(14);

/// Where a slice stands, for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Figures are there (built at that time, current week counted at the other).
    Ready {
        built_at: NaiveDateTime,
        refreshed_at: NaiveDateTime,
    },
    /// Being built: how far, in percent.
    Building(i64),
}

/// Opens a slice for a reader: registers it when new (the worker builds it), notes the
/// look at most once an hour, and says where it stands.
pub fn open(
    conn: &mut DbConnection,
    key: SliceKey,
    filter: &CustomerFilter,
) -> Result<State, AppError> {
    let name = key.name();
    let now = db::now();
    let slice = match rows::get_slice(conn, &name)? {
        Some(slice) => slice,
        None => {
            let encoded =
                serde_json::to_string(filter).map_err(|e| AppError::Unexpected(e.into()))?;
            rows::insert_slice(conn, &name, &encoded, now)?;
            rows::get_slice(conn, &name)?.ok_or(AppError::NotFound)?
        }
    };
    if slice.viewed_at < now - TimeDelta::hours(1) {
        rows::mark_viewed(conn, &name, now)?;
    }
    state_of(conn, &slice)
}

fn state_of(conn: &mut DbConnection, slice: &Slice) -> Result<State, AppError> {
    if let (Some(built_at), Some(refreshed_at)) = (slice.built_at, slice.refreshed_at) {
        // A rebuild under way still shows the last build's figures.
        return Ok(State::Ready {
            built_at,
            refreshed_at,
        });
    }
    let percent = match slice.phase.as_str() {
        phase::CUSTOMERS => {
            let everyone = crate::db::customers::count_everyone(conn)?.max(1);
            // Ids are dense enough for a progress bar.
            (slice.cursor * 50 / everyone).min(50)
        }
        _ => 50 + slice.cursor * 50 / WEEKS_KEPT,
    };
    Ok(State::Building(percent.clamp(0, 99)))
}

/// The figures of a slice for the last `weeks` weeks (the current one included), with
/// the channel's own figures beside everyone's when `channel` is given; `None` while the
/// slice is first built. Figures kept from the slice's current refresh are not read again.
pub fn figures(
    conn: &mut DbConnection,
    kept: &FiguresKept,
    key: SliceKey,
    state: &State,
    weeks: i64,
    channel: &str,
) -> Result<Option<Arc<Figures>>, AppError> {
    let State::Ready {
        built_at,
        refreshed_at,
    } = *state
    else {
        return Ok(None);
    };
    let zone = crate::services::settings::org_zone(conn)?;
    let current = week_of(zone, db::now());
    let weeks = weeks_ending(current, weeks.clamp(1, WEEKS_KEPT));
    let asked = FiguresAsked {
        slice: key.name(),
        built_at,
        refreshed_at,
        first_week: weeks.first().copied().unwrap_or(current),
        weeks: weeks.len(),
        channel: channel.to_owned(),
    };
    if let Some(figures) = kept.get(&asked) {
        return Ok(Some(figures));
    }
    let found = rows::read_counts(conn, &asked.slice, &week_key(asked.first_week), channel)?;
    let figures = Arc::new(Figures::new(weeks, found));
    kept.keep(asked, figures.clone());
    Ok(Some(figures))
}

/// Whether a slice needs work now.
pub fn any_due(conn: &mut DbConnection) -> diesel::QueryResult<bool> {
    Ok(due(conn)?.is_some())
}

fn due(conn: &mut DbConnection) -> diesel::QueryResult<Option<Slice>> {
    let now = db::now();
    rows::next_due(conn, now - FRESH, now - REBUILD, now - WANTED)
}

/// Does one step of work on the slice most in need; returns how many steps (0 or 1).
/// Each step is one transaction; the caller holds the `insights` lease.
pub fn work_step(conn: &mut DbConnection) -> Result<usize, AppError> {
    let Some(slice) = due(conn)? else {
        return Ok(0);
    };
    let filter: Option<CustomerFilter> = match slice.slice.as_str() {
        "all" => None,
        _ => Some(
            serde_json::from_str(&slice.filter)
                .map_err(|_| AppError::Conflict("an insights slice cannot be read".into()))?,
        ),
    };
    let zone = crate::services::settings::org_zone(conn)?;
    let now = db::now();
    let current = week_of(zone, now);
    let step = next_step(conn, &slice, filter.as_ref(), zone, now)?;
    // Counting only reads, outside the transaction; the writes claim the slice as it was
    // read, so a step another worker or a restart overtook is dropped, not written twice.
    db::transaction(conn, |conn| {
        if !rows::claim_step(conn, &slice)? {
            return Ok(0);
        }
        let name = slice.slice.as_str();
        match step {
            Step::Refresh(counts) => {
                let mut metrics = vec![
                    metric::NEW.to_owned(),
                    metric::ACTIVE.to_owned(),
                    metric::CONVERSATIONS.to_owned(),
                    metric::ANSWERED.to_owned(),
                    metric::ANSWER_SECONDS.to_owned(),
                ];
                metrics.extend((1..=5).map(metric::rating));
                rows::clear_week(conn, name, &week_key(current), &metrics, false)?;
                rows::add_counts(conn, name, &flatten(counts))?;
                rows::mark_done(conn, name, now, false)?;
            }
            Step::Restart(first) => {
                rows::restart(conn, name, &week_key(first))?;
            }
            Step::Customers(counts, last) => {
                rows::add_counts(conn, &building(name), &flatten(counts))?;
                rows::set_phase(conn, name, phase::CUSTOMERS, last.0, &slice.first_week)?;
            }
            Step::Weeks => {
                rows::set_phase(conn, name, phase::WEEKS, 0, &slice.first_week)?;
            }
            Step::Week(counts) => {
                rows::add_counts(conn, &building(name), &flatten(counts))?;
                let next = slice.cursor + 1;
                rows::set_phase(conn, name, phase::WEEKS, next, &slice.first_week)?;
            }
            Step::SwapIn(last) => {
                rows::swap_in(conn, name, &week_key(last))?;
                rows::set_phase(conn, name, phase::READY, 0, &slice.first_week)?;
                rows::mark_done(conn, name, now, true)?;
            }
        }
        Ok(1)
    })
}

/// What one step of work on a slice writes.
enum Step {
    /// The current week counted again.
    Refresh(Counts),
    /// A rebuild begins, its first week this.
    Restart(NaiveDate),
    /// Some customers counted, up to this one.
    Customers(Counts, CustomerId),
    /// Every customer counted: the weeks of conversations next.
    Weeks,
    /// One week of conversations counted.
    Week(Counts),
    /// The build is done: its rows replace the slice's (its stages counted in this week).
    SwapIn(NaiveDate),
}

/// Works out (reading only) what the next step on `slice` writes.
fn next_step(
    conn: &mut DbConnection,
    slice: &Slice,
    filter: Option<&CustomerFilter>,
    zone: chrono_tz::Tz,
    now: NaiveDateTime,
) -> Result<Step, AppError> {
    let current = week_of(zone, now);
    if slice.phase == phase::READY {
        return Ok(if slice.built_at.is_some_and(|at| at >= now - REBUILD) {
            Step::Refresh(count_current_week(conn, filter, zone, current)?)
        } else {
            Step::Restart(current - TimeDelta::weeks(WEEKS_KEPT - 1))
        });
    }
    // A build keeps the weeks it began with, even when a new week starts meanwhile (the
    // refresh counts the new one); one without them (a slice just registered) begins.
    let Ok(first) = NaiveDate::parse_from_str(&slice.first_week, "%Y-%m-%d") else {
        return Ok(Step::Restart(current - TimeDelta::weeks(WEEKS_KEPT - 1)));
    };
    let last = first + TimeDelta::weeks(WEEKS_KEPT - 1);
    if slice.phase == phase::CUSTOMERS {
        let walked = rows::customers_after(conn, CustomerId(slice.cursor), STEP)?;
        let Some(walked_to) = walked.last().map(|(id, _, _)| *id) else {
            return Ok(Step::Weeks);
        };
        let counts = count_customers(conn, filter, &walked, zone, first, last)?;
        return Ok(Step::Customers(counts, walked_to));
    }
    let week = first + TimeDelta::weeks(slice.cursor);
    if week > last {
        return Ok(Step::SwapIn(last));
    }
    Ok(Step::Week(count_week(conn, filter, zone, week)?))
}

/// Forgets slices nobody looked at for a while (the hourly sweep).
pub fn sweep(conn: &mut DbConnection) -> Result<usize, AppError> {
    Ok(rows::drop_unwanted(conn, db::now() - WANTED)?)
}

/// Counts the current week again: its new customers and its conversations.
fn count_current_week(
    conn: &mut DbConnection,
    filter: Option<&CustomerFilter>,
    zone: chrono_tz::Tz,
    current: NaiveDate,
) -> Result<Counts, AppError> {
    let (from, until) = week_bounds(zone, current);
    let created = rows::customers_created(conn, from, until)?;
    let mut counts = count_customers(conn, filter, &created, zone, current, current)?;
    // Stages are counted by the daily build only.
    counts.retain(|(_, metric, _), _| metric == metric::NEW);
    counts.extend(count_week(conn, filter, zone, current)?);
    Ok(counts)
}

/// New customers per week from `first` on, and the stages of the current week.
fn count_customers(
    conn: &mut DbConnection,
    filter: Option<&CustomerFilter>,
    walked: &[rows::Counted],
    zone: chrono_tz::Tz,
    first: NaiveDate,
    current: NaiveDate,
) -> Result<Counts, AppError> {
    let ids: Vec<CustomerId> = walked.iter().map(|(id, _, _)| *id).collect();
    let members = members(conn, filter, &ids)?;
    let member_ids: Vec<CustomerId> = ids.into_iter().filter(|id| members.contains(id)).collect();
    let mut channels: HashMap<CustomerId, Vec<String>> = HashMap::new();
    for (id, channel) in rows::channels_of(conn, &member_ids)? {
        channels.entry(id).or_default().push(channel);
    }
    let mut counts = Counts::new();
    let this_week = week_key(current);
    for (id, created_at, lifecycle) in walked.iter().filter(|(id, _, _)| members.contains(id)) {
        let theirs = channels.get(id).map(Vec::as_slice).unwrap_or_default();
        let week = week_of(zone, *created_at);
        let stage = metric::stage(lifecycle);
        let figures: [(Option<String>, &str); 2] = [
            ((week >= first).then(|| week_key(week)), metric::NEW),
            (Some(this_week.clone()), stage.as_str()),
        ];
        for (week, name) in figures {
            let Some(week) = week else { continue };
            bump(&mut counts, &week, name, None, 1);
            for channel in theirs {
                bump_channel(&mut counts, &week, name, channel);
            }
        }
    }
    Ok(counts)
}

/// One week's conversations: how many, by how many customers, and their ratings.
fn count_week(
    conn: &mut DbConnection,
    filter: Option<&CustomerFilter>,
    zone: chrono_tz::Tz,
    week: NaiveDate,
) -> Result<Counts, AppError> {
    let (from, until) = week_bounds(zone, week);
    let talks = rows::conversations_started(conn, from, until)?;
    let mut ids: Vec<CustomerId> = talks.iter().map(|t| t.customer).collect();
    ids.sort_unstable();
    ids.dedup();
    let members = members(conn, filter, &ids)?;
    let talks: Vec<&rows::Started> = talks
        .iter()
        .filter(|t| members.contains(&t.customer))
        .collect();
    let key = week_key(week);
    let mut counts = Counts::new();
    let mut seen: HashSet<(CustomerId, &str)> = HashSet::new();
    for talk in talks {
        let (id, channel) = (talk.customer, talk.channel.as_str());
        bump(&mut counts, &key, metric::CONVERSATIONS, Some(channel), 1);
        if seen.insert((id, "")) {
            bump(&mut counts, &key, metric::ACTIVE, None, 1);
        }
        if seen.insert((id, channel)) {
            bump_channel(&mut counts, &key, metric::ACTIVE, channel);
        }
        if let Some(stars) = talk.rating.filter(|r| (1..=5).contains(r)) {
            bump(&mut counts, &key, &metric::rating(stars), Some(channel), 1);
        }
        if let Some(first) = talk.first_answer_at {
            let seconds = (first - talk.started_at).num_seconds().max(0);
            bump(&mut counts, &key, metric::ANSWERED, Some(channel), 1);
            bump(
                &mut counts,
                &key,
                metric::ANSWER_SECONDS,
                Some(channel),
                seconds,
            );
        }
    }
    Ok(counts)
}

fn bump_channel(counts: &mut Counts, week: &str, name: &str, channel: &str) {
    *counts
        .entry((week.to_owned(), name.to_owned(), channel.to_owned()))
        .or_default() += 1;
}

fn flatten(counts: Counts) -> Vec<(String, String, String, i64)> {
    counts
        .into_iter()
        .map(|((week, name, channel), value)| (week, name, channel, value))
        .collect()
}

/// Which of `ids` belong to the slice (all of them for everyone).
fn members(
    conn: &mut DbConnection,
    filter: Option<&CustomerFilter>,
    ids: &[CustomerId],
) -> Result<HashSet<CustomerId>, AppError> {
    let Some(filter) = filter else {
        return Ok(ids.iter().copied().collect());
    };
    let mut found = HashSet::new();
    for chunk in ids.chunks(MEMBERS_PER_TEST) {
        let mut within = filter.clone();
        within.ids = chunk.to_vec();
        found.extend(listing::ids_after(
            conn,
            &within,
            CustomerId(0),
            chunk.len() as i64,
        )?);
    }
    Ok(found)
}
