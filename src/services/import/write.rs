//! Writing rows: one at a time through the profile service (matches, identities that
//! exist), or many new customers together.

use super::rows::{Context, EDITOR, Outcome, Parsed, RowError, refuse};
use std::collections::HashMap;

use diesel::QueryResult;

use crate::db::customers::{self, Customer};
use crate::db::properties::Property;
use crate::db::tags::{self, Tag};
use crate::db::types::{CustomerId, PropertyId, TagId};
use crate::db::{self, DbConnection};
use crate::domain::property::Value;
use crate::error::AppError;
use crate::services::conversations;
use crate::services::profiles::{self, EditOutcome, NewProfile};

use super::batch::Pending;

/// Applies one row the general way, through the profile service, in its own savepoint:
/// an edit of `matched`, or a new customer; then its tags and identities.
pub(super) fn apply_one(
    conn: &mut DbConnection,
    ctx: &mut Context<'_>,
    parsed: &Parsed<'_>,
    matched: Option<CustomerId>,
) -> Result<Outcome, RowError> {
    db::transaction(conn, |conn| -> Result<Outcome, RowError> {
        let (customer, mut outcome) = match matched {
            Some(existing) => {
                let result = profiles::edit_customer(
                    conn,
                    existing,
                    ctx.registry,
                    None,
                    &ctx.actor,
                    EDITOR,
                    &parsed.edit,
                )
                .map_err(|e| ctx.refusal_of(e))?;
                let outcome = match result {
                    EditOutcome::Saved(n) if n > 0 => Outcome::Updated,
                    _ => Outcome::Unchanged,
                };
                (existing, outcome)
            }
            None => {
                let created =
                    profiles::create_customer(conn, ctx.registry, &ctx.actor, EDITOR, &parsed.edit)
                        .map_err(|e| ctx.refusal_of(e))?;
                (created.id, Outcome::Created)
            }
        };
        for (header, name) in &parsed.tags {
            let tag = match ctx.tag(name) {
                Some(tag) => tag.clone(),
                None if ctx.import.create_tags => {
                    tags::insert_tag(conn, name, crate::domain::customer::TAG_COLORS[0].0)?;
                    ctx.tags = tags::list_tags(conn)?;
                    ctx.tag(name).cloned().ok_or(AppError::NotFound)?
                }
                None => refuse(header, format!("No tag is called {name:?}."))?,
            };
            if profiles::set_tag(conn, customer, tag.id, true, &ctx.actor)?
                && outcome == Outcome::Unchanged
            {
                outcome = Outcome::Updated;
            }
        }
        for (header, channel, external) in &parsed.identities {
            // Compared as stored; a malformed one is refused by `add_identity` below.
            let (channel_key, external_key) = match conversations::check_identity(channel, external)
            {
                Ok((c, e)) => (c.as_str(), e),
                Err(_) => ("", String::new()),
            };
            let existing = crate::db::identities::find_identity(conn, channel_key, &external_key)?;
            if existing
                .as_ref()
                .is_some_and(|i| i.customer_id == Some(customer))
            {
                continue;
            }
            match conversations::add_identity(
                conn,
                customer,
                channel,
                external,
                &ctx.actor,
                &crate::domain::scope::Scope::Everything,
            ) {
                Ok(()) => {
                    if outcome == Outcome::Unchanged {
                        outcome = Outcome::Updated;
                    }
                }
                Err(AppError::Invalid(errors)) => {
                    let message = errors
                        .0
                        .first()
                        .map_or("Refused.".to_owned(), |e| e.message.clone());
                    refuse(header, message)?;
                }
                Err(AppError::Conflict(message)) => refuse(header, message)?,
                Err(other) => return Err(RowError::Failed(other)),
            }
        }
        Ok(outcome)
    })
}

/// What a matched customer holds, read once for the whole batch, so a row that would
/// change nothing is settled without a write.
pub(super) struct Known {
    pub(super) customer: Customer,
    pub(super) custom: HashMap<PropertyId, Value>,
    pub(super) tags: Vec<TagId>,
    /// (channel, external id).
    pub(super) identities: Vec<(String, String)>,
}

/// Reads what these customers hold: four queries whatever their number.
pub(super) fn load_known(
    conn: &mut DbConnection,
    registry: &[Property],
    ids: &[CustomerId],
) -> QueryResult<HashMap<CustomerId, Known>> {
    let mut custom = customers::list_custom_values_for(conn, ids, registry)?;
    let mut held = tags::list_tags_for_customers(conn, ids)?;
    let mut identities: HashMap<CustomerId, Vec<(String, String)>> = HashMap::new();
    for identity in crate::db::identities::list_identities_for(conn, ids)? {
        if let Some(owner) = identity.customer_id {
            identities
                .entry(owner)
                .or_default()
                .push((identity.channel, identity.external_id));
        }
    }
    Ok(customers::list_by_ids(conn, ids)?
        .into_iter()
        .map(|customer| {
            let id = customer.id;
            let known = Known {
                custom: custom.remove(&id).unwrap_or_default(),
                tags: held
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.id)
                    .collect(),
                identities: identities.remove(&id).unwrap_or_default(),
                customer,
            };
            (id, known)
        })
        .collect())
}

/// Creates the customers of pending rows with their tags (creating missing tags) and new
/// identities, in a few statements. Returns the tag list when tags were created.
pub(super) fn create_together(
    conn: &mut DbConnection,
    ctx: &Context<'_>,
    rows: &[Pending<'_, '_>],
) -> Result<Option<Vec<Tag>>, AppError> {
    let mut missing: Vec<&str> = Vec::new();
    for (_, name) in rows.iter().flat_map(|p| p.parsed.tags.iter()) {
        if ctx.tag(name).is_none() && !missing.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            missing.push(name);
        }
    }
    let mut created_tags = None;
    if !missing.is_empty() {
        for name in &missing {
            tags::insert_tag(conn, name, crate::domain::customer::TAG_COLORS[0].0)?;
        }
        created_tags = Some(tags::list_tags(conn)?);
    }
    let known = created_tags.as_ref().unwrap_or(&ctx.tags);
    let profiles: Vec<&NewProfile<'_>> = rows.iter().map(|p| &p.profile).collect();
    let customers = profiles::create_customers(conn, &ctx.actor, &profiles)?;
    let mut tagged = Vec::new();
    let mut links = Vec::new();
    for (customer, pending) in customers.iter().zip(rows) {
        for (_, name) in &pending.parsed.tags {
            let tag = known
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
                .ok_or(AppError::NotFound)?;
            tagged.push((customer, tag));
        }
        for (channel, external) in &pending.links {
            links.push((customer, *channel, external.as_str()));
        }
    }
    profiles::tag_new_customers(conn, &ctx.actor, &tagged)?;
    conversations::link_new_identities(conn, &ctx.actor, &links)?;
    Ok(created_tags)
}
