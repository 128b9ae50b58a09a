//! New customers: one from a form, the API or a contact; many at once from an import.

use super::{Editor, ProfileEdit, TagRef, ValidEdit, to_json, validate};
use crate::db::DbConnection;
use crate::db::customers::{self, Customer};
use crate::db::events::{self, NewEvent};
use crate::db::properties::Property;
use crate::db::tags;
use crate::db::types::EventAction;
use crate::db::types::{CustomerId, TagId};
use crate::domain::customer::{Actor, Lifecycle};
use crate::domain::property::{PropertyKind, Value};
use crate::error::AppError;

/// A new customer's values, checked: what [`create_customers`] writes.
pub struct NewProfile<'p>(ValidEdit<'p>);

/// Checks a new customer's values as [`create_customer`] would, writing nothing.
pub fn check_new<'p>(
    properties: &'p [Property],
    editor: Editor,
    edit: &ProfileEdit,
) -> Result<NewProfile<'p>, AppError> {
    validate(properties, editor, edit).map(NewProfile)
}

/// Creates a customer with the submitted values; the creation and each value are recorded.
pub fn create_customer(
    conn: &mut DbConnection,
    properties: &[Property],
    actor: &Actor,
    editor: Editor,
    edit: &ProfileEdit,
) -> Result<Customer, AppError> {
    let new = check_new(properties, editor, edit)?;
    crate::db::transaction(conn, |conn| {
        create_customers(conn, actor, &[&new])?
            .pop()
            .ok_or(AppError::NotFound)
    })
}

/// Creates customers in a few statements however many there are (within the caller's
/// transaction): their rows with sort keys and search terms, their custom values, and
/// History — the creation at version 1, then each value at version 2, as a customer
/// created and then filled in. Returns them as stored, in the order given.
pub fn create_customers(
    conn: &mut DbConnection,
    actor: &Actor,
    new: &[&NewProfile<'_>],
) -> Result<Vec<Customer>, AppError> {
    let ids = customers::reserve_ids(conn, new.len())?;
    let at = crate::db::now();
    let mut rows = Vec::with_capacity(new.len());
    let mut custom = Vec::new();
    let mut history = Vec::new();
    for (id, NewProfile(valid)) in ids.into_iter().zip(new.iter().copied()) {
        let stage = valid.lifecycle.unwrap_or(Lifecycle::Prospect);
        let mut row = customers::blank(id, stage.as_str(), at);
        history.push(NewEvent {
            customer: id,
            actor,
            action: EventAction::Created,
            property_key: None,
            old_value: None,
            new_value: None,
            reverts: None,
            customer_version: row.version,
        });
        // Two columns for one property: the last one wins, as in a form.
        let mut set: Vec<(&Property, &Value)> = Vec::new();
        for (property, value) in &valid.values {
            set.retain(|(p, _)| p.key != property.key);
            if let Some(value) = value {
                set.push((property, value));
            }
        }
        if !set.is_empty() {
            row.version += 1;
        }
        for (property, value) in set {
            match property.kind {
                PropertyKind::Standard => {
                    row.set_standard_text(&property.key, Some(value.form_text()));
                }
                PropertyKind::Custom => custom.push((id, at, property.id, value)),
                PropertyKind::Computed => return Err(AppError::Forbidden),
            }
            history.push(NewEvent {
                customer: id,
                actor,
                action: EventAction::PropertyChanged,
                property_key: Some(&property.key),
                old_value: None,
                new_value: to_json(Some(value)),
                reverts: None,
                customer_version: row.version,
            });
        }
        rows.push(row);
    }
    crate::db::search::index_new(conn, &mut rows)?;
    customers::insert_customers(conn, &rows)?;
    customers::insert_custom_values(conn, &custom)?;
    events::insert_events(conn, &history)?;
    Ok(rows)
}

/// Tags customers just made by [`create_customers`] (who hold no tag yet), recorded in
/// History; a pair given twice counts once.
pub fn tag_new_customers(
    conn: &mut DbConnection,
    actor: &Actor,
    tagged: &[(&Customer, &tags::Tag)],
) -> Result<(), AppError> {
    let mut seen = std::collections::HashSet::with_capacity(tagged.len());
    let pairs: Vec<(&Customer, &tags::Tag)> = tagged
        .iter()
        .filter(|(customer, tag)| seen.insert((customer.id, tag.id)))
        .copied()
        .collect();
    let ids: Vec<(CustomerId, TagId)> = pairs.iter().map(|(c, t)| (c.id, t.id)).collect();
    tags::insert_customer_tags(conn, &ids)?;
    let history: Vec<NewEvent<'_>> = pairs
        .iter()
        .map(|(customer, tag)| NewEvent {
            customer: customer.id,
            actor,
            action: EventAction::TagAdded,
            property_key: None,
            old_value: None,
            new_value: serde_json::to_string(&TagRef {
                id: tag.id.0,
                name: tag.name.clone(),
            })
            .ok(),
            reverts: None,
            customer_version: customer.version,
        })
        .collect();
    events::insert_events(conn, &history)?;
    Ok(())
}
