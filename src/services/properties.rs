//! The property registry's workflows: create, change and delete custom properties, and
//! the rule that a change never invalidates values customers hold.

use crate::db::properties::{self, NewProperty, Property, PropertyChanges};
use crate::db::types::{AuditAction, PropertyId};
use crate::db::{self, DbConnection, now};
use crate::domain::FieldErrors;
use crate::domain::customer::Actor;
use crate::domain::property::{Access, PropertyKind, PropertyType, TechnicalName};
use crate::error::AppError;
use crate::services::audit;

/// What a supervisor sets on a property, checked.
pub struct Definition {
    /// What people read.
    pub label: String,
    /// The value type.
    pub ty: PropertyType,
    /// Choices, for the choice types.
    pub choices: Vec<String>,
    /// What agents may do with it.
    pub agent_access: Access,
    /// What customers may do with it on the self-service page.
    pub customer_access: Access,
    /// Where it is listed; `None` puts a new property last or keeps an existing one's place.
    pub position: Option<i32>,
}

impl Definition {
    fn choices_json(&self) -> String {
        serde_json::to_string(&self.choices).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// Creates a custom property. `None` when the technical name is taken.
pub fn create_property(
    conn: &mut DbConnection,
    actor: &Actor,
    key: &TechnicalName,
    definition: &Definition,
) -> Result<Option<PropertyId>, AppError> {
    db::transaction(conn, |conn| {
        if properties::key_exists(conn, key.as_str())? {
            return Ok(None);
        }
        let position = match definition.position {
            Some(p) => p,
            None => properties::next_custom_position(conn)?,
        };
        let at = now();
        let id = properties::insert_property(
            conn,
            &NewProperty {
                key: key.as_str(),
                label: &definition.label,
                kind: PropertyKind::Custom.as_str(),
                value_type: definition.ty.as_str(),
                choices: definition.choices_json(),
                agent_access: definition.agent_access.as_str(),
                customer_access: definition.customer_access.as_str(),
                position,
                created_at: at,
                updated_at: at,
            },
        )?;
        audit::record(
            conn,
            actor,
            AuditAction::PropertyCreated,
            key.as_str(),
            definition.ty.as_str(),
        )?;
        Ok(Some(id))
    })
}

/// Changes a property. Refused, field by field, when stored values would no longer fit.
pub fn update_property(
    conn: &mut DbConnection,
    actor: &Actor,
    target: &Property,
    definition: &Definition,
) -> Result<Result<(), FieldErrors>, AppError> {
    db::transaction(conn, |conn| {
        let mut errors = FieldErrors::default();
        check_values_still_fit(
            conn,
            target,
            definition.ty,
            &definition.choices,
            &mut errors,
        )?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        properties::update_property(
            conn,
            target.id,
            &PropertyChanges {
                label: &definition.label,
                value_type: definition.ty.as_str(),
                choices: definition.choices_json(),
                agent_access: definition.agent_access.as_str(),
                customer_access: definition.customer_access.as_str(),
                position: definition.position.unwrap_or(target.position),
                updated_at: now(),
            },
        )?;
        audit::record(
            conn,
            actor,
            AuditAction::PropertyUpdated,
            &target.key,
            &format!(
                "label={}, type={}, agents={}, customers={}",
                definition.label,
                definition.ty.as_str(),
                definition.agent_access.as_str(),
                definition.customer_access.as_str()
            ),
        )?;
        Ok(Ok(()))
    })
}

/// Deletes a custom property and every value of it. `None` for standard and computed
/// properties, which cannot be deleted.
pub fn delete_property(
    conn: &mut DbConnection,
    actor: &Actor,
    id: PropertyId,
) -> Result<Option<Property>, AppError> {
    db::transaction(conn, |conn| {
        let property = properties::get_property(conn, id)?;
        if property.kind != PropertyKind::Custom {
            return Ok(None);
        }
        let holders = properties::count_customers_with_values(conn, &property)?;
        properties::delete_property(conn, id)?;
        audit::record(
            conn,
            actor,
            AuditAction::PropertyDeleted,
            &property.key,
            &format!(
                "{} held values",
                crate::page::count_of(holders, "customer", "customers")
            ),
        )?;
        Ok(Some(property))
    })
}

fn customers_hold(count: i64) -> String {
    if count == 1 {
        "1 customer holds".to_owned()
    } else {
        format!("{count} customers hold")
    }
}

/// Refuses changes that would invalidate stored values: a type change while values exist,
/// or removing a choice that customers hold. Says how many customers hold them.
fn check_values_still_fit(
    conn: &mut DbConnection,
    property: &Property,
    ty: PropertyType,
    choices: &[String],
    errors: &mut FieldErrors,
) -> Result<(), AppError> {
    if ty != property.ty {
        let holders = properties::count_customers_with_values(conn, property)?;
        if holders > 0 {
            errors.push(
                "value_type",
                format!(
                    "{} a value of this property, so its type cannot change. Clear those values first.",
                    customers_hold(holders)
                ),
            );
            return Ok(());
        }
    }
    if ty.has_choices() {
        for removed in property.choices.iter().filter(|c| !choices.contains(c)) {
            let holders = properties::count_customers_with_choice(conn, property, removed)?;
            if holders > 0 {
                errors.push(
                    "choices",
                    format!(
                        "{} the choice {removed:?}; it cannot be removed while in use.",
                        customers_hold(holders)
                    ),
                );
            }
        }
    }
    Ok(())
}
