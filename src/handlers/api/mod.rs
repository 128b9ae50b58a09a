//! The integration API under `/api/v1`: bearer tokens, JSON in and out, JSON errors.

pub mod customers;
pub mod merge;
pub mod messages;
pub mod openapi;

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::db::customers::Customer;
use crate::db::identities::Identity;
use crate::db::properties::Property;
use crate::db::tags::Tag;
use crate::domain::property::{PropertyType, RawValue, Value};

/// A submitted JSON value as the parser's raw input; `Err` names what is wrong.
pub fn raw_from_json(ty: PropertyType, json: &Json) -> Result<RawValue, String> {
    let text = |j: &Json| match j {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Null => Ok(String::new()),
        _ => Err("Expected a string or a number.".to_owned()),
    };
    match (ty, json) {
        (PropertyType::MultipleChoice, Json::Array(items)) => items
            .iter()
            .map(text)
            .collect::<Result<Vec<_>, _>>()
            .map(RawValue::Many),
        (PropertyType::Location, Json::Object(fields)) => {
            let get = |k: &str| fields.get(k).map_or(Ok(String::new()), text);
            Ok(RawValue::Location {
                address: get("address")?,
                latitude: get("latitude")?,
                longitude: get("longitude")?,
            })
        }
        (_, Json::Array(_) | Json::Object(_) | Json::Bool(_)) => {
            Err(format!("Expected a value of type {}.", ty.label()))
        }
        (_, other) => text(other).map(RawValue::One),
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
