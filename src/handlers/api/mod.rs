//! The integration API under `/api/v1`: bearer tokens, JSON in and out, JSON errors.

pub mod body;
pub mod customers;
pub mod merge;
pub mod messages;
pub mod openapi;
pub mod orders;

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::db::customers::Customer;
use crate::db::identities::Identity;
use crate::db::properties::Property;
use crate::db::tags::Tag;
use crate::domain::property::{PropertyType, RawValue, Value};

/// A submitted JSON value as the parser's raw input; `Err` names what is wrong. The JSON
/// type must be the property's: a string for text of any kind (a number is not taken as
/// a name or a phone), a number for a number, a list of strings for several choices, an
/// object for a location; `null` clears the value.
pub fn raw_from_json(ty: PropertyType, json: &Json) -> Result<RawValue, String> {
    let number = |j: &Json| match j {
        Json::Number(n) => Ok(n.to_string()),
        Json::Null => Ok(String::new()),
        _ => Err("Expected a number or null.".to_owned()),
    };
    match (ty, json) {
        (PropertyType::MultipleChoice, Json::Null) => Ok(RawValue::Many(Vec::new())),
        (PropertyType::MultipleChoice, Json::Array(items)) => items
            .iter()
            .map(|item| match item {
                Json::String(s) => Ok(s.clone()),
                _ => Err("Expected a list of option names (strings).".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(RawValue::Many),
        (PropertyType::MultipleChoice, _) => {
            Err("Expected a list of option names, e.g. [\"Chess\"].".to_owned())
        }
        (PropertyType::Location, Json::Null) => Ok(RawValue::Location {
            address: String::new(),
            latitude: String::new(),
            longitude: String::new(),
        }),
        (PropertyType::Location, Json::Object(fields)) => {
            if let Some(unknown) = fields
                .keys()
                .find(|k| !matches!(k.as_str(), "address" | "latitude" | "longitude"))
            {
                return Err(format!(
                    "A location has address, latitude and longitude, not {unknown:?}."
                ));
            }
            let address = match fields.get("address") {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(s)) => s.clone(),
                Some(_) => return Err("Expected the address as a string.".to_owned()),
            };
            let coordinate = |k: &str| fields.get(k).map_or(Ok(String::new()), number);
            Ok(RawValue::Location {
                address,
                latitude: coordinate("latitude")?,
                longitude: coordinate("longitude")?,
            })
        }
        (PropertyType::Location, _) => Err(
            "Expected an object such as {\"address\": \"…\", \"latitude\": 45.8, \"longitude\": 15.97}."
                .to_owned(),
        ),
        (PropertyType::Number, other) => number(other).map(RawValue::One),
        (_, Json::String(s)) => Ok(RawValue::One(s.clone())),
        (_, Json::Null) => Ok(RawValue::One(String::new())),
        (_, _) => Err(format!("Expected a string ({}) or null.", ty.label())),
    }
}

/// A customer as the API shows it to integrations (every property that is not hidden
/// from supervisors, i.e. all of them).
pub fn customer_json(
    customer: &Customer,
    properties: &[Property],
    values: &BTreeMap<String, Value>,
    tags: &[Tag],
    identities: &[Identity],
) -> Json {
    let mut props = Map::new();
    for property in properties {
        props.insert(
            property.key.clone(),
            values.get(&property.key).map_or(Json::Null, Value::to_json),
        );
    }
    json!({
        "id": customer.public_id,
        "version": customer.version,
        "lifecycle": customer.lifecycle,
        "blacklisted": customer.blacklisted,
        "properties": props,
        "tags": tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        "identities": identities.iter().map(|i| json!({"channel": i.channel, "external_id": i.external_id})).collect::<Vec<_>>(),
        "created_at": customer.created_at.and_utc().to_rfc3339(),
        "updated_at": customer.updated_at.and_utc().to_rfc3339(),
    })
}
