//! Custom property values: one row per value (a row per choice for Multiple choice), read
//! for one customer or a page of them in one query.

use crate::db::DbConnection;
use crate::db::customers::Customer;
use crate::db::properties::Property;
use crate::db::schema::customer_values;
use crate::db::types::{CustomerId, PropertyId};
use crate::domain::property::{PropertyType, Value};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Queryable)]
struct ValueRow {
    property_id: PropertyId,
    text: Option<String>,
    number: Option<f64>,
    number2: Option<f64>,
}

/// The custom property values of one customer, typed by their properties.
pub fn list_custom_values(
    conn: &mut DbConnection,
    id: CustomerId,
    properties: &[Property],
) -> QueryResult<HashMap<PropertyId, Value>> {
    Ok(list_custom_values_for(conn, &[id], properties)?
        .remove(&id)
        .unwrap_or_default())
}

/// The custom property values of several customers in one query.
pub fn list_custom_values_for(
    conn: &mut DbConnection,
    ids: &[CustomerId],
    properties: &[Property],
) -> QueryResult<HashMap<CustomerId, HashMap<PropertyId, Value>>> {
    let rows: Vec<(CustomerId, ValueRow)> =
        among_backend!(conn, customer_values::customer_id, ids, |c, among| {
            customer_values::table
                .filter(among)
                .order(customer_values::id.asc())
                .select((
                    customer_values::customer_id,
                    (
                        customer_values::property_id,
                        customer_values::value_text,
                        customer_values::value_number,
                        customer_values::value_number2,
                    ),
                ))
                .load(c)
        })?;
    let mut grouped: HashMap<CustomerId, Vec<ValueRow>> = HashMap::new();
    for (customer, row) in rows {
        grouped.entry(customer).or_default().push(row);
    }
    let mut result = HashMap::new();
    for (customer, rows) in grouped {
        let mut values = HashMap::new();
        for property in properties {
            let mine: Vec<&ValueRow> = rows
                .iter()
                .filter(|r| r.property_id == property.id)
                .collect();
            if let Some(value) = value_from_rows(property, &mine) {
                values.insert(property.id, value);
            }
        }
        result.insert(customer, values);
    }
    Ok(result)
}

fn value_from_rows(property: &Property, rows: &[&ValueRow]) -> Option<Value> {
    let first = rows.first()?;
    Some(match property.ty {
        PropertyType::Number => Value::Number {
            text: first.text.clone()?,
            number: first.number?,
        },
        PropertyType::MultipleChoice => {
            let held: Vec<&str> = rows.iter().filter_map(|r| r.text.as_deref()).collect();
            Value::Choices {
                choices: property
                    .choices
                    .iter()
                    .filter(|c| held.contains(&c.as_str()))
                    .cloned()
                    .collect(),
            }
        }
        PropertyType::Location => Value::Location {
            address: first.text.clone().unwrap_or_default(),
            latitude: first.number,
            longitude: first.number2,
        },
        _ => Value::Text {
            text: first.text.clone()?,
        },
    })
}

/// The stored rows of one custom value: (text, number, second number); several for
/// multiple choice, one per choice.
fn value_rows(value: &Value) -> Vec<(Option<String>, Option<f64>, Option<f64>)> {
    match value {
        Value::Text { text } => vec![(Some(text.clone()), None, None)],
        Value::Number { text, number } => vec![(Some(text.clone()), Some(*number), None)],
        Value::Choices { choices } => choices
            .iter()
            .map(|c| (Some(c.clone()), None, None))
            .collect(),
        Value::Location {
            address,
            latitude,
            longitude,
        } => vec![(Some(address.clone()), *latitude, *longitude)],
    }
}

/// Replaces one custom property's value of a customer (`None` clears it).
pub fn replace_custom_value(
    conn: &mut DbConnection,
    customer: &Customer,
    property: PropertyId,
    value: Option<&Value>,
) -> QueryResult<()> {
    diesel::delete(
        customer_values::table
            .filter(customer_values::customer_id.eq(customer.id))
            .filter(customer_values::property_id.eq(property)),
    )
    .execute(conn)?;
    match value {
        Some(value) => {
            insert_custom_values(conn, &[(customer.id, customer.created_at, property, value)])
        }
        None => Ok(()),
    }
}

/// Writes custom values of customers that have none for those properties yet, a few
/// thousand rows per statement: whose, that customer's creation time (each row carries
/// it: a number condition's page walks the values by it), which property, what.
pub fn insert_custom_values(
    conn: &mut DbConnection,
    values: &[(CustomerId, NaiveDateTime, PropertyId, &Value)],
) -> QueryResult<()> {
    let rows: Vec<_> = values
        .iter()
        .flat_map(|(customer, at, property, value)| {
            value_rows(value)
                .into_iter()
                .map(move |(text, number, number2)| {
                    (
                        customer_values::customer_id.eq(*customer),
                        customer_values::created_at.eq(*at),
                        customer_values::property_id.eq(*property),
                        customer_values::value_text.eq(text),
                        customer_values::value_number.eq(number),
                        customer_values::value_number2.eq(number2),
                    )
                })
        })
        .collect();
    for chunk in rows.chunks(crate::db::rows_per_insert(5)) {
        either_backend!(&mut *conn, c => diesel::insert_into(customer_values::table)
            .values(chunk)
            .execute(c)?);
    }
    Ok(())
}
