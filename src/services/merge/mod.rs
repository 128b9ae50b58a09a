//! Merging a duplicate customer into a survivor: the side-by-side review, the per-field
//! choice, one transaction that moves everything of the duplicate, one History entry that
//! lists every field decision, and a snapshot that lets a supervisor undo it for 30 days.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::db::customers::{self, Customer};
use crate::db::events::{self, Event, NewEvent};
use crate::db::properties::{self, Property};
use crate::db::settings;
use crate::db::types::{AuditAction, CustomerId, EventAction, PropertyId, Setting};
use crate::db::{self, DbConnection, erasure, locks, merges};
use crate::domain::customer::{Actor, Lifecycle};
use crate::domain::property::{PropertyKind, PropertyType, Value};
use crate::domain::{FieldErrors, Role};
use crate::error::AppError;
use crate::services::audit;

mod undo;

pub use undo::{UNDO_DAYS, drop_expired_snapshots, undo};

/// Which side's value the survivor keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    Survivor,
    Duplicate,
    /// Multiple choice only: every choice of either.
    Both,
}

impl Keep {
    /// From a form or API value.
    pub fn parse(raw: &str) -> Option<Keep> {
        match raw {
            "survivor" => Some(Keep::Survivor),
            "duplicate" => Some(Keep::Duplicate),
            "both" => Some(Keep::Both),
            _ => None,
        }
    }

    /// As forms send it.
    pub fn as_str(self) -> &'static str {
        match self {
            Keep::Survivor => "survivor",
            Keep::Duplicate => "duplicate",
            Keep::Both => "both",
        }
    }
}

/// Whether this role merges customers: supervisors always, agents when a supervisor
/// turned it on (and the Customers page is on for them, which the caller's extractor
/// checked).
pub fn may_merge(conn: &mut DbConnection, role: Role) -> Result<bool, AppError> {
    Ok(role >= Role::Supervisor || settings::is_enabled(conn, Setting::AgentsMerge)?)
}

/// One property as the review shows it.
pub struct FieldRow {
    pub property: Property,
    pub survivor: Option<Value>,
    pub duplicate: Option<Value>,
}

impl FieldRow {
    /// Whether the reader chooses: both sides hold different values.
    pub fn choosable(&self) -> bool {
        self.survivor.is_some() && self.duplicate.is_some() && self.survivor != self.duplicate
    }

    /// Whether "both" is offered (multiple choice).
    pub fn union_allowed(&self) -> bool {
        self.property.ty == PropertyType::MultipleChoice
    }
}

/// What moves from the duplicate to the survivor.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct Counts {
    pub identities: i64,
    pub conversations: i64,
    pub messages: i64,
    pub notes: i64,
    pub orders: i64,
    pub tags: i64,
}

/// The side-by-side review of a merge.
pub struct Review {
    pub survivor: Customer,
    pub duplicate: Customer,
    /// Every property either has a value in that the reader may see (computed ones are
    /// recounted, not chosen), in registry order.
    pub fields: Vec<FieldRow>,
    pub counts: Counts,
}

fn refuse(message: &str) -> AppError {
    AppError::Conflict(message.to_owned())
}

/// Loads both customers for a merge, refusing what cannot be merged.
fn load_pair(
    conn: &mut DbConnection,
    survivor: CustomerId,
    duplicate: CustomerId,
) -> Result<(Customer, Customer), AppError> {
    if survivor == duplicate {
        return Err(refuse("A customer cannot be merged into itself."));
    }
    let survivor = customers::get_customer(conn, survivor)?;
    let duplicate = customers::get_customer(conn, duplicate)?;
    for customer in [&survivor, &duplicate] {
        if erasure::find_erasure(conn, customer.id)?.is_some() {
            return Err(AppError::Conflict(format!(
                "{} was anonymized and cannot be merged.",
                customer.public_id
            )));
        }
    }
    Ok((survivor, duplicate))
}

fn counts_of(conn: &mut DbConnection, customer: &Customer) -> Result<Counts, AppError> {
    let (identities, notes, tags) = merges::count_rows(conn, customer.id)?;
    Ok(Counts {
        identities,
        conversations: customer.conversations_count,
        messages: customer.messages_count,
        notes,
        orders: customer.orders_count,
        tags,
    })
}

/// The review of merging `duplicate` into `survivor`, as `role` may see it.
pub fn review(
    conn: &mut DbConnection,
    survivor: CustomerId,
    duplicate: CustomerId,
    role: Role,
) -> Result<Review, AppError> {
    let (survivor, duplicate) = load_pair(conn, survivor, duplicate)?;
    let registry = properties::list_properties(conn)?;
    let survivor_values = super::profiles::current_values(conn, &survivor, &registry)?;
    let duplicate_values = super::profiles::current_values(conn, &duplicate, &registry)?;
    let fields = registry
        .into_iter()
        .filter(|p| p.kind != PropertyKind::Computed && p.visible_to(role))
        .filter_map(|property| {
            let row = FieldRow {
                survivor: survivor_values.get(&property.key).cloned(),
                duplicate: duplicate_values.get(&property.key).cloned(),
                property,
            };
            (row.survivor.is_some() || row.duplicate.is_some()).then_some(row)
        })
        .collect();
    let counts = counts_of(conn, &duplicate)?;
    Ok(Review {
        survivor,
        duplicate,
        fields,
        counts,
    })
}

/// What the reader chose.
#[derive(Debug, Default, Clone)]
pub struct Choices {
    /// By property key; a property not named keeps the survivor's value (or the only one).
    pub keep: HashMap<String, Keep>,
    /// Whose lifecycle stage stays (the survivor's unless said).
    pub lifecycle: Option<Keep>,
    /// The versions the review showed; `None` merges whatever is current (the API may).
    pub survivor_version: Option<i64>,
    pub duplicate_version: Option<i64>,
}

/// One field decision, as History lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decision {
    pub key: String,
    pub kept: Keep,
    /// The survivor's value before and after the merge.
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The merge's History entry on the survivor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeRecord {
    pub merge_id: i64,
    /// The duplicate's public ID.
    pub duplicate: String,
    pub decisions: Vec<Decision>,
    /// The lifecycle stage before and after, when it changed.
    pub lifecycle: Option<(String, String)>,
    pub moved: Counts,
}

/// What an undo needs that the database no longer holds.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    duplicate: Customer,
    values: Vec<(PropertyId, Value)>,
    locked_by: Option<String>,
    moved: merges::Moved,
    decisions: Vec<Decision>,
    lifecycle: Option<(String, String)>,
    /// Whether the merge put the survivor on the blacklist (the duplicate was on it).
    #[serde(default)]
    blacklisted: bool,
}

/// What a merge did.
#[derive(Debug)]
pub enum MergeOutcome {
    /// Merged; the History entry's merge id.
    Merged(i64),
    /// One of the two changed since the review; nothing was merged.
    Conflict {
        survivor_missed: Vec<Event>,
        duplicate_missed: Vec<Event>,
    },
}

/// The union of two multiple-choice values, the survivor's order first.
fn union(one: &Value, other: &Value) -> Value {
    let mut choices = match one {
        Value::Choices { choices } => choices.clone(),
        _ => Vec::new(),
    };
    if let Value::Choices { choices: more } = other {
        for choice in more {
            if !choices.contains(choice) {
                choices.push(choice.clone());
            }
        }
    }
    Value::Choices { choices }
}

/// Works out every field decision: checks that each choice is allowed for this reader.
fn decide(
    registry: &[Property],
    survivor: &HashMap<String, Value>,
    duplicate: &HashMap<String, Value>,
    choices: &Choices,
    role: Role,
) -> Result<Vec<Decision>, AppError> {
    let mut errors = FieldErrors::default();
    for key in choices.keep.keys() {
        if !registry
            .iter()
            .any(|p| &p.key == key && p.kind != PropertyKind::Computed && p.visible_to(role))
        {
            // Unknown and hidden keys get the same answer, so nothing leaks.
            return Err(AppError::Forbidden);
        }
    }
    let mut decisions = Vec::new();
    for property in registry.iter().filter(|p| p.kind != PropertyKind::Computed) {
        let ours = survivor.get(&property.key);
        let theirs = duplicate.get(&property.key);
        let (kept, after) = match (ours, theirs) {
            (_, None) => continue,
            (None, Some(theirs)) => (Keep::Duplicate, Some(theirs.clone())),
            (Some(ours), Some(theirs)) if ours == theirs => continue,
            (Some(ours), Some(theirs)) => match choices.keep.get(&property.key).copied() {
                None | Some(Keep::Survivor) => (Keep::Survivor, Some(ours.clone())),
                Some(Keep::Duplicate) => (Keep::Duplicate, Some(theirs.clone())),
                Some(Keep::Both) if property.ty == PropertyType::MultipleChoice => {
                    (Keep::Both, Some(union(ours, theirs)))
                }
                Some(Keep::Both) => {
                    errors.push(
                        &property.key,
                        "Only multiple choice properties can keep both values.",
                    );
                    continue;
                }
            },
        };
        decisions.push(Decision {
            key: property.key.clone(),
            kept,
            before: ours.cloned(),
            after,
        });
    }
    if errors.is_empty() {
        Ok(decisions)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Writes survivor values chosen from the duplicate, in the caller's transaction.
pub(super) fn write_values(
    conn: &mut DbConnection,
    survivor: &Customer,
    registry: &[Property],
    values: &[(&str, Option<&Value>)],
) -> Result<(), AppError> {
    let mut texts: Vec<(&str, Option<String>)> = Vec::new();
    for (key, value) in values {
        let Some(property) = registry.iter().find(|p| p.key == *key) else {
            continue;
        };
        match property.kind {
            PropertyKind::Standard => texts.push((key, value.map(Value::form_text))),
            PropertyKind::Custom => {
                customers::replace_custom_value(conn, survivor, property.id, *value)?
            }
            PropertyKind::Computed => {}
        }
    }
    let texts: Vec<(&str, Option<&str>)> = texts.iter().map(|(k, t)| (*k, t.as_deref())).collect();
    customers::update_standard(conn, survivor, &texts)?;
    Ok(())
}

/// Merges `duplicate` into `survivor` as the reader chose, in one transaction.
pub fn merge(
    conn: &mut DbConnection,
    survivor: CustomerId,
    duplicate: CustomerId,
    choices: &Choices,
    actor: &Actor,
    role: Role,
) -> Result<MergeOutcome, AppError> {
    db::transaction(conn, |conn| {
        let (survivor, duplicate) = load_pair(conn, survivor, duplicate)?;
        let stale_survivor = choices
            .survivor_version
            .is_some_and(|v| v != survivor.version);
        let stale_duplicate = choices
            .duplicate_version
            .is_some_and(|v| v != duplicate.version);
        if stale_survivor || stale_duplicate {
            let since = |v: Option<i64>, c: &Customer| v.unwrap_or(c.version);
            return Ok(MergeOutcome::Conflict {
                survivor_missed: events::list_events_since(
                    conn,
                    survivor.id,
                    since(choices.survivor_version, &survivor),
                )?,
                duplicate_missed: events::list_events_since(
                    conn,
                    duplicate.id,
                    since(choices.duplicate_version, &duplicate),
                )?,
            });
        }
        // Claim both rows at the versions read: a writer (or another merge) that got there
        // first makes this one a conflict instead of half a merge.
        let Some(version) = customers::bump_version(conn, survivor.id, Some(survivor.version))?
        else {
            return Err(refuse(
                "The customer changed meanwhile; open the review again.",
            ));
        };
        if customers::bump_version(conn, duplicate.id, Some(duplicate.version))?.is_none() {
            return Err(refuse(
                "The duplicate changed meanwhile; open the review again.",
            ));
        }
        // Queued before any row moves: the background check then waits for this merge
        // instead of the merge waiting for a check that waits for it.
        crate::db::duplicate_checks::queue_checks(conn, &[survivor.id])?;
        let registry = properties::list_properties(conn)?;
        let survivor_values = super::profiles::current_values(conn, &survivor, &registry)?;
        let duplicate_values = super::profiles::current_values(conn, &duplicate, &registry)?;
        let decisions = decide(
            &registry,
            &survivor_values,
            &duplicate_values,
            choices,
            role,
        )?;
        let lifecycle = match choices.lifecycle {
            Some(Keep::Duplicate) if duplicate.lifecycle != survivor.lifecycle => {
                duplicate.lifecycle.parse::<Lifecycle>().ok()
            }
            _ => None,
        };
        let counts = counts_of(conn, &duplicate)?;

        // The duplicate as it is, for an undo.
        let custom = customers::list_custom_values(conn, duplicate.id, &registry)?;
        let locked_by = locks::find_lock(conn, duplicate.id)?.map(|(by, _)| by);

        let changed: Vec<(&str, Option<&Value>)> = decisions
            .iter()
            .filter(|d| d.before != d.after)
            .map(|d| (d.key.as_str(), d.after.as_ref()))
            .collect();
        let moved = merges::move_everything(conn, &duplicate, survivor.id)?;
        write_values(conn, &survivor, &registry, &changed)?;
        let lifecycle_change =
            lifecycle.map(|stage| (survivor.lifecycle.clone(), stage.as_str().to_owned()));
        if let Some((_, stage)) = &lifecycle_change {
            customers::update_lifecycle(conn, survivor.id, stage)?;
        }
        // Who was blacklisted stays so: the duplicate's contacts now reach the survivor.
        let blacklisted = duplicate.blacklisted && !survivor.blacklisted;
        if blacklisted {
            customers::update_blacklist(
                conn,
                survivor.id,
                Some(duplicate.blacklist_reason.as_deref().unwrap_or_default()),
                duplicate.blacklisted_by.clone(),
            )?;
        }
        customers::recount_customer(conn, survivor.id)?;
        merges::recount_orders(conn, survivor.id)?;

        let snapshot = Snapshot {
            duplicate: duplicate.clone(),
            values: custom.into_iter().collect(),
            locked_by,
            moved,
            decisions: decisions.clone(),
            lifecycle: lifecycle_change.clone(),
            blacklisted,
        };
        let snapshot =
            serde_json::to_string(&snapshot).map_err(|e| AppError::Unexpected(e.into()))?;
        let merge_id = merges::insert_merge(
            conn,
            duplicate.id,
            &duplicate.public_id,
            survivor.id,
            &actor.name(),
            &snapshot,
        )?;
        let record = MergeRecord {
            merge_id,
            duplicate: duplicate.public_id.clone(),
            decisions,
            lifecycle: lifecycle_change,
            moved: counts,
        };
        events::insert_event(
            conn,
            NewEvent {
                customer: survivor.id,
                actor,
                action: EventAction::Merged,
                property_key: None,
                old_value: Some(duplicate.public_id.clone()),
                new_value: serde_json::to_string(&record).ok(),
                reverts: None,
                customer_version: version,
            },
        )?;
        audit::record(
            conn,
            actor,
            AuditAction::CustomerMerged,
            &survivor.public_id,
            &format!("merged {}", duplicate.public_id),
        )?;
        Ok(MergeOutcome::Merged(merge_id))
    })
}

/// The customer a public ID stands for now: itself, or the survivor it was merged into
/// (with `true`). `None` when no customer ever had it.
pub fn resolve(
    conn: &mut DbConnection,
    public_id: &str,
) -> Result<Option<(Customer, bool)>, AppError> {
    if let Some(found) = customers::find_customer_by_public_id(conn, public_id)? {
        return Ok(Some((found, false)));
    }
    match merges::resolve(conn, public_id)? {
        Some(survivor) => Ok(customers::list_by_ids(conn, &[survivor])?
            .pop()
            .map(|c| (c, true))),
        None => Ok(None),
    }
}

/// The merges into `survivor` that can still be undone, by id.
pub fn undoable_into(
    conn: &mut DbConnection,
    survivor: CustomerId,
) -> Result<std::collections::HashSet<i64>, AppError> {
    Ok(merges::list_undoable_into(conn, survivor)?
        .into_iter()
        .filter(|(_, at)| undo::within_window(*at))
        .map(|(id, _)| id)
        .collect())
}

/// Reads a merge's History entry.
pub fn read_record(event: &Event) -> Option<MergeRecord> {
    event
        .new_value
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}
