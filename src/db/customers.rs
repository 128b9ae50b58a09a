//! Customers, their standard columns, and their custom property values.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::properties::Property;
use super::schema::{customer_values, customers};
use super::types::{CustomerId, PropertyId};
use super::{DbConnection, now};
use crate::domain::customer::public_id_for;
use crate::domain::property::{PropertyType, Value};

/// A customer as stored. Field order is the table's column order.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = customers)]
pub struct Customer {
    pub id: CustomerId,
    pub public_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub gender: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub company: Option<String>,
    pub nickname: Option<String>,
    pub lifecycle: String,
    pub conversations_count: i64,
    pub messages_count: i64,
    pub last_contact_at: Option<NaiveDateTime>,
    pub csat_sum: i64,
    pub csat_count: i64,
    pub csat_average: Option<f64>,
    pub orders_count: i64,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub blacklisted: bool,
    pub blacklist_reason: Option<String>,
    pub blacklisted_by: Option<String>,
    pub blacklisted_at: Option<NaiveDateTime>,
}

/// Applies `$body` to the column of a standard property, by key; `$default` for others.
macro_rules! with_standard_column {
    ($key:expr, $col:ident => $body:expr, _ => $default:expr) => {
        match $key {
            "name" => {
                let $col = customers::name;
                $body
            }
            "email" => {
                let $col = customers::email;
                $body
            }
            "phone" => {
                let $col = customers::phone;
                $body
            }
            "gender" => {
                let $col = customers::gender;
                $body
            }
            "city" => {
                let $col = customers::city;
                $body
            }
            "country" => {
                let $col = customers::country;
                $body
            }
            "language" => {
                let $col = customers::language;
                $body
            }
            "company" => {
                let $col = customers::company;
                $body
            }
            "nickname" => {
                let $col = customers::nickname;
                $body
            }
            _ => $default,
        }
    };
}

impl Customer {
    /// The stored text of a standard property.
    pub fn standard_text(&self, key: &str) -> Option<&str> {
        let value = match key {
            "name" => &self.name,
            "email" => &self.email,
            "phone" => &self.phone,
            "gender" => &self.gender,
            "city" => &self.city,
            "country" => &self.country,
            "language" => &self.language,
            "company" => &self.company,
            "nickname" => &self.nickname,
            _ => return None,
        };
        value.as_deref()
    }

    /// The name to show: the name, else the nickname, else the e-mail or phone, else the ID.
    pub fn display_name(&self) -> String {
        self.name
            .as_deref()
            .or(self.nickname.as_deref())
            .or(self.email.as_deref())
            .or(self.phone.as_deref())
            .map_or_else(|| format!("Customer {}", self.public_id), str::to_owned)
    }
}

/// Creates a customer with no properties yet and gives it its public ID.
pub fn insert_customer(conn: &mut DbConnection, lifecycle: &str) -> QueryResult<Customer> {
    let at = now();
    let placeholder = format!("new-{}", crate::domain::password::random_hex(12));
    diesel::insert_into(customers::table)
        .values((
            customers::public_id.eq(&placeholder),
            customers::lifecycle.eq(lifecycle),
            customers::created_at.eq(at),
            customers::updated_at.eq(at),
        ))
        .execute(conn)?;
    let id: CustomerId = customers::table
        .filter(customers::public_id.eq(&placeholder))
        .select(customers::id)
        .first(conn)?;
    diesel::update(customers::table.find(id))
        .set(customers::public_id.eq(public_id_for(id.0)))
        .get_result(conn)
}

/// The customer with this public ID, if any.
pub fn find_customer_by_public_id(
    conn: &mut DbConnection,
    public_id: &str,
) -> QueryResult<Option<Customer>> {
    customers::table
        .filter(customers::public_id.eq(public_id))
        .select(Customer::as_select())
        .first(conn)
        .optional()
}

/// The customer with this id, or NotFound.
pub fn get_customer(conn: &mut DbConnection, id: CustomerId) -> QueryResult<Customer> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
}

/// A page of customers, newest first, after the keyset cursor `(created_at, id)`.
pub fn list_customers(
    conn: &mut DbConnection,
    after: Option<(NaiveDateTime, CustomerId)>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let mut query = customers::table
        .select(Customer::as_select())
        .order((customers::created_at.desc(), customers::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            customers::created_at
                .lt(at)
                .or(customers::created_at.eq(at).and(customers::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Claims the next version of a customer if it is still at `expected`. `Ok(None)` means
/// somebody else saved in between.
pub fn bump_version(
    conn: &mut DbConnection,
    id: CustomerId,
    expected: Option<i64>,
) -> QueryResult<Option<i64>> {
    let target = customers::table.find(id);
    let changed = match expected {
        Some(version) => diesel::update(target.filter(customers::version.eq(version)))
            .set((
                customers::version.eq(customers::version + 1),
                customers::updated_at.eq(now()),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                customers::version.eq(customers::version + 1),
                customers::updated_at.eq(now()),
            ))
            .execute(conn)?,
    };
    if changed == 0 {
        return Ok(None);
    }
    customers::table
        .find(id)
        .select(customers::version)
        .first(conn)
        .map(Some)
}

/// Sets a standard property's column.
pub fn update_standard(
    conn: &mut DbConnection,
    id: CustomerId,
    key: &str,
    text: Option<&str>,
) -> QueryResult<usize> {
    with_standard_column!(key, column => diesel::update(customers::table.find(id)).set(column.eq(text)).execute(conn),
        _ => Err(diesel::result::Error::NotFound))
}

/// How many customers have a value in a standard property's column.
pub fn count_standard_set(conn: &mut DbConnection, key: &str) -> QueryResult<i64> {
    with_standard_column!(key, column => customers::table.filter(column.is_not_null()).count().get_result(conn),
        _ => Ok(0))
}

/// Sets the lifecycle stage.
pub fn update_lifecycle(
    conn: &mut DbConnection,
    id: CustomerId,
    lifecycle: &str,
) -> QueryResult<usize> {
    diesel::update(customers::table.find(id))
        .set(customers::lifecycle.eq(lifecycle))
        .execute(conn)
}

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
    let rows: Vec<(CustomerId, ValueRow)> = customer_values::table
        .filter(customer_values::customer_id.eq_any(ids))
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
        .load(conn)?;
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

/// Replaces one custom property's value of a customer (`None` clears it).
pub fn replace_custom_value(
    conn: &mut DbConnection,
    id: CustomerId,
    property: PropertyId,
    value: Option<&Value>,
) -> QueryResult<()> {
    diesel::delete(
        customer_values::table
            .filter(customer_values::customer_id.eq(id))
            .filter(customer_values::property_id.eq(property)),
    )
    .execute(conn)?;
    let rows: Vec<(Option<String>, Option<f64>, Option<f64>)> = match value {
        None => Vec::new(),
        Some(Value::Text { text }) => vec![(Some(text.clone()), None, None)],
        Some(Value::Number { text, number }) => vec![(Some(text.clone()), Some(*number), None)],
        Some(Value::Choices { choices }) => choices
            .iter()
            .map(|c| (Some(c.clone()), None, None))
            .collect(),
        Some(Value::Location {
            address,
            latitude,
            longitude,
        }) => vec![(Some(address.clone()), *latitude, *longitude)],
    };
    for (text, number, number2) in rows {
        diesel::insert_into(customer_values::table)
            .values((
                customer_values::customer_id.eq(id),
                customer_values::property_id.eq(property),
                customer_values::value_text.eq(text),
                customer_values::value_number.eq(number),
                customer_values::value_number2.eq(number2),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A page of customers changed at or after `since`, oldest change first, after the keyset
/// cursor `(updated_at, id)` (the API's sync feed).
pub fn list_customers_updated(
    conn: &mut DbConnection,
    since: Option<NaiveDateTime>,
    after: Option<(NaiveDateTime, CustomerId)>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let mut query = customers::table
        .select(Customer::as_select())
        .order((customers::updated_at.asc(), customers::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(customers::updated_at.ge(since));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            customers::updated_at
                .gt(at)
                .or(customers::updated_at.eq(at).and(customers::id.gt(id))),
        );
    }
    query.load(conn)
}

/// Customers matching what an agent typed to link a contact: a customer ID, a phone
/// number, an e-mail address, or part of a name.
pub fn search_customers(
    conn: &mut DbConnection,
    query: &str,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let base = customers::table
        .select(Customer::as_select())
        .order(customers::id.desc())
        .limit(limit)
        .into_boxed();
    if let Ok(Value::Text { text: phone }) = crate::domain::property::parse_phone(query) {
        return base.filter(customers::phone.eq(phone)).load(conn);
    }
    if query.contains('@') {
        return base
            .filter(super::lower(customers::email).eq(query.to_lowercase()))
            .load(conn);
    }
    let upper = query.to_uppercase();
    if upper.starts_with('C') && upper.len() > 1 && upper[1..].chars().all(|c| c.is_ascii_digit()) {
        return base.filter(customers::public_id.eq(upper)).load(conn);
    }
    let pattern = format!(
        "%{}%",
        query
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    base.filter(super::lower(customers::name).like(pattern).escape('\\'))
        .load(conn)
}

/// Several customers by id (one query).
pub fn list_by_ids(conn: &mut DbConnection, ids: &[CustomerId]) -> QueryResult<Vec<Customer>> {
    customers::table
        .filter(customers::id.eq_any(ids))
        .select(Customer::as_select())
        .load(conn)
}

/// Counts a new conversation (one without a message yet) on the customer.
pub fn count_new_conversation(conn: &mut DbConnection, id: CustomerId) -> QueryResult<usize> {
    diesel::update(customers::table.find(id))
        .set(customers::conversations_count.eq(customers::conversations_count + 1))
        .execute(conn)
}

/// The backend type of the connection enum, for boxed queries built in pieces.
pub type Backend = <DbConnection as diesel::Connection>::Backend;

/// What the Customers page filters by. Every field is optional; all given ones apply.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Created (or, with `on_last_contact`, last contacted) at or after this UTC time.
    pub from: Option<NaiveDateTime>,
    /// … and before this UTC time.
    pub until: Option<NaiveDateTime>,
    /// Apply the period to the last contact instead of the creation time.
    pub on_last_contact: bool,
    /// Has any of these tags.
    pub any_tags: Vec<crate::db::types::TagId>,
    /// Has all of these tags.
    pub all_tags: Vec<crate::db::types::TagId>,
    /// Name contains (case-insensitive).
    pub name: Option<String>,
    /// Customer ID contains.
    pub public_id: Option<String>,
    /// E-mail contains (case-insensitive).
    pub email: Option<String>,
    /// Phone contains these digits.
    pub phone: Option<String>,
    /// Has an identity on this channel.
    pub channel: Option<String>,
    /// In this lifecycle stage.
    pub lifecycle: Option<String>,
    /// Blacklisted or not.
    pub blacklisted: Option<bool>,
}

/// How the Customers page sorts: a column that is never NULL, so keyset pages work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Creation time.
    Created,
    /// Last change.
    Updated,
    /// Number of conversations.
    Conversations,
}

fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// The filtered query, before sorting and paging.
fn filtered(filter: &CustomerFilter) -> customers::BoxedQuery<'static, Backend> {
    use super::schema::{channel_identities, customer_tags};
    let mut query = customers::table.into_boxed();
    let (from, until) = (filter.from, filter.until);
    if filter.on_last_contact {
        if let Some(from) = from {
            query = query.filter(customers::last_contact_at.ge(from));
        }
        if let Some(until) = until {
            query = query.filter(customers::last_contact_at.lt(until));
        }
    } else {
        if let Some(from) = from {
            query = query.filter(customers::created_at.ge(from));
        }
        if let Some(until) = until {
            query = query.filter(customers::created_at.lt(until));
        }
    }
    if !filter.any_tags.is_empty() {
        query = query.filter(
            customers::id.eq_any(
                customer_tags::table
                    .filter(customer_tags::tag_id.eq_any(filter.any_tags.clone()))
                    .select(customer_tags::customer_id),
            ),
        );
    }
    for tag in &filter.all_tags {
        query = query.filter(
            customers::id.eq_any(
                customer_tags::table
                    .filter(customer_tags::tag_id.eq(*tag))
                    .select(customer_tags::customer_id),
            ),
        );
    }
    if let Some(name) = &filter.name {
        query = query.filter(
            super::lower(customers::name)
                .like(contains_pattern(name))
                .escape('\\'),
        );
    }
    if let Some(id) = &filter.public_id {
        query = query.filter(
            customers::public_id
                .like(contains_pattern(id).to_uppercase())
                .escape('\\'),
        );
    }
    if let Some(email) = &filter.email {
        query = query.filter(
            super::lower(customers::email)
                .like(contains_pattern(email))
                .escape('\\'),
        );
    }
    if let Some(phone) = &filter.phone {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        query = query.filter(customers::phone.like(format!("%{digits}%")));
    }
    if let Some(channel) = &filter.channel {
        query = query.filter(
            customers::id.nullable().eq_any(
                channel_identities::table
                    .filter(channel_identities::channel.eq(channel.clone()))
                    .select(channel_identities::customer_id),
            ),
        );
    }
    if let Some(stage) = &filter.lifecycle {
        query = query.filter(customers::lifecycle.eq(stage.clone()));
    }
    if let Some(blacklisted) = filter.blacklisted {
        query = query.filter(customers::blacklisted.eq(blacklisted));
    }
    query
}

/// A keyset cursor: the sort value (as i64: microseconds or a count) and the id.
pub type Cursor = (i64, CustomerId);

/// The sort value of a customer, for cursors.
pub fn sort_value(customer: &Customer, key: SortKey) -> i64 {
    match key {
        SortKey::Created => customer.created_at.and_utc().timestamp_micros(),
        SortKey::Updated => customer.updated_at.and_utc().timestamp_micros(),
        SortKey::Conversations => customer.conversations_count,
    }
}

/// A page of filtered customers, sorted by `key` (descending unless `ascending`), after
/// the cursor. Every sort has an index; the cursor never skips or repeats a row.
pub fn list_filtered(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    key: SortKey,
    ascending: bool,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let micros = |v: i64| {
        chrono::DateTime::from_timestamp_micros(v)
            .map(|t| t.naive_utc())
            .unwrap_or_default()
    };
    let mut query = filtered(filter).select(Customer::as_select()).limit(limit);
    query = match (key, ascending) {
        (SortKey::Created, false) => {
            query.order((customers::created_at.desc(), customers::id.desc()))
        }
        (SortKey::Created, true) => query.order((customers::created_at.asc(), customers::id.asc())),
        (SortKey::Updated, false) => {
            query.order((customers::updated_at.desc(), customers::id.desc()))
        }
        (SortKey::Updated, true) => query.order((customers::updated_at.asc(), customers::id.asc())),
        (SortKey::Conversations, false) => {
            query.order((customers::conversations_count.desc(), customers::id.desc()))
        }
        (SortKey::Conversations, true) => {
            query.order((customers::conversations_count.asc(), customers::id.asc()))
        }
    };
    if let Some((value, id)) = after {
        query = match (key, ascending) {
            (SortKey::Created, false) => query.filter(
                customers::created_at
                    .lt(micros(value))
                    .or(customers::created_at
                        .eq(micros(value))
                        .and(customers::id.lt(id))),
            ),
            (SortKey::Created, true) => query.filter(
                customers::created_at
                    .gt(micros(value))
                    .or(customers::created_at
                        .eq(micros(value))
                        .and(customers::id.gt(id))),
            ),
            (SortKey::Updated, false) => query.filter(
                customers::updated_at
                    .lt(micros(value))
                    .or(customers::updated_at
                        .eq(micros(value))
                        .and(customers::id.lt(id))),
            ),
            (SortKey::Updated, true) => query.filter(
                customers::updated_at
                    .gt(micros(value))
                    .or(customers::updated_at
                        .eq(micros(value))
                        .and(customers::id.gt(id))),
            ),
            (SortKey::Conversations, false) => query.filter(
                customers::conversations_count
                    .lt(value)
                    .or(customers::conversations_count
                        .eq(value)
                        .and(customers::id.lt(id))),
            ),
            (SortKey::Conversations, true) => query.filter(
                customers::conversations_count
                    .gt(value)
                    .or(customers::conversations_count
                        .eq(value)
                        .and(customers::id.gt(id))),
            ),
        };
    }
    query.load(conn)
}

/// How many customers match, counted up to `cap` (beyond it the page says "more than").
pub fn count_filtered(
    conn: &mut DbConnection,
    filter: &CustomerFilter,
    cap: i64,
) -> QueryResult<i64> {
    let ids: Vec<CustomerId> = filtered(filter)
        .select(customers::id)
        .limit(cap + 1)
        .load(conn)?;
    Ok(ids.len() as i64)
}
