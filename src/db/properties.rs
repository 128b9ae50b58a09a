//! The property registry.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{customer_values, customers, properties};
use super::types::PropertyId;
use crate::domain::Role;
use crate::domain::property::{Access, PropertyKind, PropertyType};

/// A registry row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = properties)]
pub struct PropertyRow {
    pub id: PropertyId,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub value_type: String,
    pub choices: String,
    pub agent_access: String,
    pub customer_access: String,
    pub position: i32,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
}

/// A property with its columns parsed into domain types.
#[derive(Debug, Clone)]
pub struct Property {
    pub id: PropertyId,
    pub key: String,
    pub label: String,
    pub kind: PropertyKind,
    pub ty: PropertyType,
    pub choices: Vec<String>,
    pub agent_access: Access,
    pub customer_access: Access,
    pub position: i32,
}

impl From<PropertyRow> for Property {
    fn from(row: PropertyRow) -> Self {
        Property {
            id: row.id,
            kind: row.kind.parse().unwrap_or(PropertyKind::Custom),
            ty: row.value_type.parse().unwrap_or(PropertyType::Text),
            choices: serde_json::from_str(&row.choices).unwrap_or_default(),
            // Unknown access levels read as the safest one.
            agent_access: row.agent_access.parse().unwrap_or(Access::Hidden),
            customer_access: row.customer_access.parse().unwrap_or(Access::Hidden),
            key: row.key,
            label: row.label,
            position: row.position,
        }
    }
}

impl Property {
    /// What a staff role may do with this property. Supervisors see everything and edit
    /// everything that is not computed; agents follow the property's agent access.
    pub fn staff_access(&self, role: Role) -> Access {
        let access = if role >= Role::Supervisor {
            Access::Edit
        } else {
            self.agent_access
        };
        if self.kind == PropertyKind::Computed {
            access.min(Access::View)
        } else {
            access
        }
    }

    /// Whether a staff role sees this property at all.
    pub fn visible_to(&self, role: Role) -> bool {
        self.staff_access(role) >= Access::View
    }
}

/// A new custom property.
#[derive(Debug, Insertable)]
#[diesel(table_name = properties)]
pub struct NewProperty<'a> {
    pub key: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value_type: &'a str,
    pub choices: String,
    pub agent_access: &'a str,
    pub customer_access: &'a str,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a property's definition (the key never changes).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = properties)]
pub struct PropertyChanges<'a> {
    pub label: &'a str,
    pub value_type: &'a str,
    pub choices: String,
    pub agent_access: &'a str,
    pub customer_access: &'a str,
    pub position: i32,
    pub updated_at: NaiveDateTime,
}

/// Every property, standard first, then custom, then computed, each by position.
pub fn list_properties(conn: &mut DbConnection) -> QueryResult<Vec<Property>> {
    let rows: Vec<PropertyRow> =
        either_backend!(conn, c => properties::table.select(PropertyRow::as_select()).load(c))?;
    let mut all: Vec<Property> = rows.into_iter().map(Property::from).collect();
    all.sort_by_key(|p| {
        let group = match p.kind {
            PropertyKind::Standard => 0,
            PropertyKind::Custom => 1,
            PropertyKind::Computed => 2,
        };
        (group, p.position, p.id)
    });
    Ok(all)
}

/// The property with this id, or NotFound.
pub fn get_property(conn: &mut DbConnection, id: PropertyId) -> QueryResult<Property> {
    properties::table
        .find(id)
        .select(PropertyRow::as_select())
        .first(conn)
        .map(Property::from)
}

/// Whether a technical name is taken.
pub fn key_exists(conn: &mut DbConnection, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        properties::table.filter(properties::key.eq(key)),
    ))
    .get_result(conn)
}

/// The next free position among custom properties.
pub fn next_custom_position(conn: &mut DbConnection) -> QueryResult<i32> {
    let max: Option<i32> = properties::table
        .filter(properties::kind.eq(PropertyKind::Custom.as_str()))
        .select(diesel::dsl::max(properties::position))
        .first(conn)?;
    Ok(max.unwrap_or(100) + 10)
}

/// Inserts a custom property.
pub fn insert_property(conn: &mut DbConnection, new: &NewProperty<'_>) -> QueryResult<PropertyId> {
    diesel::insert_into(properties::table)
        .values(new)
        .execute(conn)?;
    properties::table
        .filter(properties::key.eq(new.key))
        .select(properties::id)
        .first(conn)
}

/// Saves a property's definition.
pub fn update_property(
    conn: &mut DbConnection,
    id: PropertyId,
    changes: &PropertyChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(properties::table.find(id))
        .set(changes)
        .execute(conn)
}

/// Deletes a custom property and (by cascade) its values.
pub fn delete_property(conn: &mut DbConnection, id: PropertyId) -> QueryResult<usize> {
    diesel::delete(
        properties::table
            .find(id)
            .filter(properties::kind.eq(PropertyKind::Custom.as_str())),
    )
    .execute(conn)
}

/// How many customers hold a value of a property.
pub fn count_customers_with_values(
    conn: &mut DbConnection,
    property: &Property,
) -> QueryResult<i64> {
    match property.kind {
        PropertyKind::Custom => customers::table
            .filter(
                customers::id.eq_any(
                    customer_values::table
                        .filter(customer_values::property_id.eq(property.id))
                        .select(customer_values::customer_id),
                ),
            )
            .count()
            .get_result(conn),
        PropertyKind::Standard => super::customers::count_standard_set(conn, &property.key),
        PropertyKind::Computed => Ok(0),
    }
}

/// How many customers hold `choice` as (one of) their value(s) of a choice property.
pub fn count_customers_with_choice(
    conn: &mut DbConnection,
    property: &Property,
    choice: &str,
) -> QueryResult<i64> {
    match property.kind {
        PropertyKind::Custom => customers::table
            .filter(
                customers::id.eq_any(
                    customer_values::table
                        .filter(customer_values::property_id.eq(property.id))
                        .filter(customer_values::value_text.eq(choice))
                        .select(customer_values::customer_id),
                ),
            )
            .count()
            .get_result(conn),
        PropertyKind::Standard if property.key == "gender" => customers::table
            .filter(customers::gender.eq(choice))
            .count()
            .get_result(conn),
        _ => Ok(0),
    }
}
