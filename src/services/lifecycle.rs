//! Lifecycle rules at work: kept as one setting, applied to one customer when something
//! happens (an order, a new conversation), to everyone daily and after a change of rules
//! (a background job, batch by batch), and to no one in a preview that only counts. Every
//! move is recorded in History "by rule …"; a pinned stage is left alone.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::db::events::{self, NewEvent};
use crate::db::jobs::{self, Job, Progress};
use crate::db::lifecycle::{self as facts, Subject};
use crate::db::types::{AuditAction, CustomerId, EventAction, JobId, JobKind, Setting, TagId};
use crate::db::{self, DbConnection, customers, settings};
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::domain::decimal::Decimal;
use crate::domain::lifecycle::{Facts, RuleKind, Rules};
use crate::error::AppError;

/// Customers looked at per transaction of a run.
const BATCH: i64 = 200;

/// How long after a run the daily run comes again.
const DAILY: TimeDelta = TimeDelta::hours(23);

/// The rules as saved (every rule off until a supervisor turns it on).
pub fn rules(conn: &mut DbConnection) -> Result<Rules, AppError> {
    let stored = settings::find_setting(conn, Setting::LifecycleRules)?;
    Ok(Rules::from_stored(stored.as_deref()))
}

/// The tag named by the high-value rule must exist.
fn check_tag(conn: &mut DbConnection, rules: &Rules) -> Result<(), AppError> {
    let tag = rules.get(RuleKind::HighValue).and_then(|r| r.tag);
    if let Some(tag) = tag
        && crate::db::tags::get_tag(conn, TagId(tag)).is_err()
    {
        let mut errors = FieldErrors::default();
        errors.push(
            "high_value_tag",
            "That tag no longer exists; choose another.",
        );
        return Err(AppError::Invalid(errors));
    }
    Ok(())
}

/// Saves the rules (recorded in the audit log) and, when any is on, queues a run over
/// every customer; returns that run.
pub fn save_rules(
    conn: &mut DbConnection,
    actor: &Actor,
    rules: &Rules,
) -> Result<Option<JobId>, AppError> {
    check_tag(conn, rules)?;
    db::transaction(conn, |conn| {
        settings::upsert_setting(conn, Setting::LifecycleRules, &rules.to_stored())?;
        let on: Vec<&str> = rules
            .0
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.kind.label())
            .collect();
        let detail = if on.is_empty() {
            "every rule off".to_owned()
        } else {
            format!("on, in order: {}", on.join(", "))
        };
        crate::services::audit::record(
            conn,
            actor,
            AuditAction::LifecycleRulesSaved,
            "lifecycle rules",
            &detail,
        )?;
        if !rules.any_enabled() {
            return Ok(None);
        }
        queue_run(
            conn,
            rules,
            false,
            actor,
            "Lifecycle rules: applying the saved rules",
        )
        .map(Some)
    })
}

/// Queues a count of the customers `rules` would move, writing nothing.
pub fn queue_preview(
    conn: &mut DbConnection,
    actor: &Actor,
    rules: &Rules,
) -> Result<JobId, AppError> {
    check_tag(conn, rules)?;
    queue_run(conn, rules, true, actor, "Lifecycle rules: preview")
}

/// Queues the daily run when a rule is on and the last run is a day old (or there was
/// none); the caller holds the sweep lease, so one instance does it.
pub fn queue_daily(conn: &mut DbConnection) -> Result<Option<JobId>, AppError> {
    let rules = rules(conn)?;
    if !rules.any_enabled() {
        return Ok(None);
    }
    if let Some(last) = jobs::newest_of(conn, JobKind::Lifecycle)?
        && (!last.finished() || last.created_at > db::now() - DAILY)
    {
        return Ok(None);
    }
    queue_run(
        conn,
        &rules,
        false,
        &Actor::System,
        "Lifecycle rules: daily run",
    )
    .map(Some)
}

/// What a run does, as queued.
#[derive(Debug, Serialize, Deserialize)]
struct RunParams {
    rules: Rules,
}

fn queue_run(
    conn: &mut DbConnection,
    rules: &Rules,
    preview: bool,
    actor: &Actor,
    label: &str,
) -> Result<JobId, AppError> {
    let params = serde_json::to_string(&RunParams {
        rules: rules.clone(),
    })
    .map_err(|e| AppError::Unexpected(e.into()))?;
    let total = customers::count_everyone(conn)?;
    Ok(jobs::insert_job(
        conn,
        jobs::NewJob {
            kind: if preview {
                JobKind::LifecyclePreview
            } else {
                JobKind::Lifecycle
            },
            label,
            params: &params,
            total,
            created_by: actor.user_id(),
            created_by_name: &actor.name(),
        },
    )?)
}

/// Does the next batch of a run or preview; returns whether it is finished.
pub fn run_batch(conn: &mut DbConnection, job: &Job) -> Result<bool, AppError> {
    let params = serde_json::from_str::<RunParams>(&job.params)
        .map_err(|_| AppError::Conflict("the job's parameters cannot be read".into()))?;
    let write = job.kind == JobKind::Lifecycle;
    db::transaction(conn, |conn| {
        let walk = facts::subjects_after(conn, CustomerId(job.cursor), BATCH)?;
        let Some(last) = walk.last else {
            jobs::finish_job(conn, job.id, None)?;
            return Ok(true);
        };
        let moved = apply(conn, &walk.subjects, &params.rules, db::now(), write)?;
        jobs::record_progress(
            conn,
            job,
            Progress {
                processed: walk.walked,
                changed: moved,
                cursor: last.0,
                ..Progress::default()
            },
        )?;
        Ok(false)
    })
}

/// Applies the saved rules to one customer after something happened to them (an order,
/// a new conversation), in the caller's transaction.
pub fn on_activity(conn: &mut DbConnection, customer: CustomerId) -> Result<(), AppError> {
    let rules = rules(conn)?;
    if !rules.any_enabled() {
        return Ok(());
    }
    let subjects = facts::subjects(conn, &[customer])?;
    apply(conn, &subjects, &rules, db::now(), true)?;
    Ok(())
}

/// Pins (`true`) or unpins a customer's stage, recorded in History; nothing happens when
/// it is already so.
pub fn set_pinned(
    conn: &mut DbConnection,
    customer: CustomerId,
    pinned: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let action = if pinned {
        EventAction::LifecyclePinned
    } else {
        EventAction::LifecycleUnpinned
    };
    crate::services::profiles::set_marker(
        conn,
        customer,
        actor,
        action,
        |current| Some(current.lifecycle.clone()),
        |conn| facts::set_pinned(conn, customer, pinned),
    )
}

/// Moves each of `subjects` to the stage of the first rule that holds for them; returns
/// how many moved (or would, when `write` is false).
fn apply(
    conn: &mut DbConnection,
    subjects: &[Subject],
    rules: &Rules,
    now: NaiveDateTime,
    write: bool,
) -> Result<i64, AppError> {
    if subjects.is_empty() || !rules.any_enabled() {
        return Ok(0);
    }
    let known = read_facts(conn, subjects, rules, now)?;
    let actors: HashMap<RuleKind, Actor> = RuleKind::ALL
        .into_iter()
        .map(|kind| {
            let name = kind.label().to_owned();
            (kind, Actor::Rule { name })
        })
        .collect();
    let mut moved = 0;
    let mut history = Vec::new();
    for subject in subjects {
        let Some(rule) = known
            .get(&subject.id)
            .and_then(|facts| rules.first_holding(facts, now))
        else {
            continue;
        };
        let stage = rule.kind.stage().as_str();
        if stage == subject.lifecycle {
            continue;
        }
        if !write {
            moved += 1;
            continue;
        }
        // Only from the stage just read, and only while unpinned: a hand edit that
        // landed meanwhile wins.
        if !facts::move_stage(conn, subject.id, &subject.lifecycle, stage)? {
            continue;
        }
        moved += 1;
        let version = customers::bump_version(conn, subject.id, None)?.unwrap_or_default();
        history.push(NewEvent {
            customer: subject.id,
            actor: &actors[&rule.kind],
            action: EventAction::LifecycleChanged,
            property_key: None,
            old_value: Some(subject.lifecycle.clone()),
            new_value: Some(stage.to_owned()),
            reverts: None,
            customer_version: version,
        });
    }
    events::insert_events(conn, &history)?;
    Ok(moved)
}

/// What the enabled rules need to know about each subject, in a few grouped queries.
fn read_facts(
    conn: &mut DbConnection,
    subjects: &[Subject],
    rules: &Rules,
    now: NaiveDateTime,
) -> Result<HashMap<CustomerId, Facts>, AppError> {
    let ids: Vec<CustomerId> = subjects.iter().map(|s| s.id).collect();
    let mut known: HashMap<CustomerId, Facts> = subjects
        .iter()
        .map(|s| {
            let facts = Facts {
                orders_count: s.orders_count,
                last_contact_at: s.last_contact_at,
                ..Facts::default()
            };
            (s.id, facts)
        })
        .collect();
    for days in rules.windows() {
        let since = now - TimeDelta::days(i64::from(days));
        for (id, count) in facts::engaged_since(conn, &ids, since)? {
            if let Some(facts) = known.get_mut(&id) {
                facts.engaged.insert(days, count);
            }
        }
    }
    if rules.get(RuleKind::Silent).is_some_and(|r| r.enabled) {
        for (id, at) in facts::last_orders(conn, &ids)? {
            if let Some(facts) = known.get_mut(&id) {
                facts.last_order_at = Some(at);
            }
        }
    }
    if let Some(rule) = rules.get(RuleKind::HighValue).filter(|r| r.enabled) {
        if !rule.amount.is_empty() {
            for (id, total) in facts::order_totals(conn, &ids, &rule.currency)? {
                if let Some(facts) = known.get_mut(&id) {
                    // Totals were checked on the way in; one that cannot be read is skipped.
                    let sum = facts.orders_total.unwrap_or(Decimal::ZERO);
                    if let Some(total) = Decimal::parse(&total) {
                        facts.orders_total = Some(sum.plus(total).unwrap_or(sum));
                    }
                }
            }
        }
        if let Some(tag) = rule.tag {
            for id in facts::tagged(conn, &ids, TagId(tag))? {
                if let Some(facts) = known.get_mut(&id) {
                    facts.has_tag = true;
                }
            }
        }
    }
    Ok(known)
}
