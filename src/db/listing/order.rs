//! How the Customers page orders and pages: the sort keys, keyset cursors and the
//! query pieces that sort by a key and start after a cursor.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Query;
use crate::db::customers::Customer;
use crate::db::schema::customers;
use crate::db::types::CustomerId;

/// How the Customers page sorts. Every key is a column that is never NULL, so keyset
/// pages work, with an index `(column, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Updated,
    Name,
    LastContact,
    Conversations,
    Satisfaction,
}

impl SortKey {
    /// Every key with its URL name and label.
    pub const ALL: [(SortKey, &'static str, &'static str); 6] = [
        (SortKey::Created, "created", "Created"),
        (SortKey::Updated, "updated", "Updated"),
        (SortKey::Name, "name", "Name"),
        (SortKey::LastContact, "last_contact", "Last contact"),
        (SortKey::Conversations, "conversations", "Conversations"),
        (
            SortKey::Satisfaction,
            "satisfaction",
            "Average satisfaction",
        ),
    ];

    /// From the URL name; creation time by default.
    pub fn parse(raw: &str) -> SortKey {
        SortKey::ALL
            .iter()
            .find(|(_, name, _)| *name == raw)
            .map_or(SortKey::Created, |(key, _, _)| *key)
    }
}

/// A sort value in a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// A keyset cursor: the search tier, the sort value and the id of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub tier: u8,
    pub value: SortValue,
    pub id: CustomerId,
}

impl Cursor {
    /// The cursor after `customer`, listed in `tier`.
    pub fn after(customer: &Customer, key: SortKey, tier: u8) -> Cursor {
        let value = match key {
            SortKey::Created => SortValue::Int(customer.created_at.and_utc().timestamp_micros()),
            SortKey::Updated => SortValue::Int(customer.updated_at.and_utc().timestamp_micros()),
            SortKey::Name => SortValue::Text(customer.sort_name.clone()),
            SortKey::LastContact => SortValue::Int(customer.contact_sort),
            SortKey::Conversations => SortValue::Int(customer.conversations_count),
            SortKey::Satisfaction => SortValue::Int(customer.csat_sort),
        };
        Cursor {
            tier,
            value,
            id: customer.id,
        }
    }

    /// The URL form: `tier.value.id` (text values are folded names: letters, digits, spaces).
    pub fn to_param(&self) -> String {
        let value = match &self.value {
            SortValue::Int(v) => v.to_string(),
            SortValue::Text(t) => format!("t{t}"),
        };
        format!("{}.{value}.{}", self.tier, self.id)
    }

    /// Parses the URL form.
    pub fn parse(raw: &str) -> Option<Cursor> {
        let (tier, rest) = raw.split_once('.')?;
        let (value, id) = rest.rsplit_once('.')?;
        let value = match value.strip_prefix('t') {
            Some(text) => SortValue::Text(text.to_owned()),
            None => SortValue::Int(value.parse().ok()?),
        };
        Some(Cursor {
            tier: tier.parse().ok()?,
            value,
            id: CustomerId(id.parse().ok()?),
        })
    }
}

/// Which page of a list: the sort, its direction, the cursor of the last row shown (none
/// for the first page) and how many rows.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    pub key: SortKey,
    pub ascending: bool,
    pub after: Option<&'a Cursor>,
    pub limit: i64,
}

impl PageRequest<'_> {
    /// The first `limit` rows, newest first (the Customers page's default order).
    pub fn newest(limit: i64) -> Self {
        PageRequest {
            key: SortKey::Created,
            ascending: false,
            after: None,
            limit,
        }
    }
}

/// Orders by `column` then id (`customers.id` unless another is named), and starts
/// after the cursor value, both in one direction.
macro_rules! keyset {
    ($query:expr, $column:expr, $ascending:expr, $after:expr) => {
        keyset!($query, $column, customers::id, $ascending, $after)
    };
    ($query:expr, $column:expr, $id:expr, $ascending:expr, $after:expr) => {{
        let query = $query;
        let query = if $ascending {
            query.order(($column.asc(), $id.asc()))
        } else {
            query.order(($column.desc(), $id.desc()))
        };
        match $after {
            None => query,
            Some((value, id)) if $ascending => query.filter(
                $column
                    .gt(value.clone())
                    .or($column.eq(value).and($id.gt(id))),
            ),
            Some((value, id)) => query.filter(
                $column
                    .lt(value.clone())
                    .or($column.eq(value).and($id.lt(id))),
            ),
        }
    }};
}
pub(super) use keyset;

/// A cursor's number value and id.
pub(super) fn int_after(after: Option<&Cursor>) -> Option<(i64, CustomerId)> {
    after.and_then(|c| match c.value {
        SortValue::Int(v) => Some((v, c.id)),
        SortValue::Text(_) => None,
    })
}

/// A cursor's time (microseconds since the epoch as a number) and id.
pub(super) fn moment_after(after: Option<&Cursor>) -> Option<(NaiveDateTime, CustomerId)> {
    int_after(after).map(|(v, id)| {
        let at = chrono::DateTime::from_timestamp_micros(v)
            .map(|t| t.naive_utc())
            .unwrap_or_default();
        (at, id)
    })
}

/// A cursor's text value (a folded name) and id.
pub(super) fn text_after(after: Option<&Cursor>) -> Option<(String, CustomerId)> {
    after.and_then(|c| match &c.value {
        SortValue::Text(t) => Some((t.clone(), c.id)),
        SortValue::Int(_) => None,
    })
}

/// `$apply!(query, column, ascending, value and id)` on the sort's column, the cursor's
/// value read as that column holds it: a bound on a page (`keyset`) or on a walk's window
/// (`walk::up_to`), both in the sort's direction.
macro_rules! on_sort_column {
    ($apply:ident, $query:expr, $key:expr, $ascending:expr, $cursor:expr) => {{
        use $crate::db::listing::order::{int_after, moment_after, text_after};
        let (query, ascending, cursor) = ($query, $ascending, $cursor);
        let (int, micros) = (int_after(cursor), moment_after(cursor));
        match $key {
            SortKey::Created => $apply!(query, customers::created_at, ascending, micros),
            SortKey::Updated => $apply!(query, customers::updated_at, ascending, micros),
            SortKey::Name => {
                $apply!(query, customers::sort_name, ascending, text_after(cursor))
            }
            SortKey::LastContact => $apply!(query, customers::contact_sort, ascending, int),
            SortKey::Conversations => {
                $apply!(query, customers::conversations_count, ascending, int)
            }
            SortKey::Satisfaction => $apply!(query, customers::csat_sort, ascending, int),
        }
    }};
}
pub(super) use on_sort_column;

/// Ordered by the sort's column, starting after the cursor.
pub(super) fn sorted(query: Query, key: SortKey, ascending: bool, after: Option<&Cursor>) -> Query {
    on_sort_column!(keyset, query, key, ascending, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for cursor in [
            Cursor {
                tier: 2,
                value: SortValue::Text("maria garcia".into()),
                id: CustomerId(7),
            },
            Cursor {
                tier: 0,
                value: SortValue::Int(-1),
                id: CustomerId(12),
            },
        ] {
            assert_eq!(Cursor::parse(&cursor.to_param()), Some(cursor));
        }
        assert_eq!(Cursor::parse("x"), None);
    }
}
