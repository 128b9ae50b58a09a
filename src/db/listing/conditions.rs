//! Property conditions of the Customers page as query pieces, one per kind of property
//! (standard columns, custom values, computed counters), with bounds made inclusive or
//! half-open as the type needs.

use crate::db::customers::Backend;
use crate::db::schema::{customer_values, customers};
use crate::db::types::PropertyId;
use crate::db::{coalesce_time, lower};
use crate::domain::condition::{Scalar, Test};
use crate::domain::property::PropertyType;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamp};

use super::Query;

/// Applies optional lower and upper bounds (each with "included") to a column.
macro_rules! bounded {
    ($query:expr, $column:expr, $low:expr, $high:expr) => {{
        let mut query = $query;
        if let Some((value, included)) = $low {
            query = if included {
                query.filter($column.ge(value))
            } else {
                query.filter($column.gt(value))
            };
        }
        if let Some((value, included)) = $high {
            query = if included {
                query.filter($column.le(value))
            } else {
                query.filter($column.lt(value))
            };
        }
        query
    }};
}

pub(super) fn like_escaped(text: &str) -> String {
    crate::db::like_escaped(&text.to_lowercase())
}

pub(super) fn contains_pattern(text: &str) -> String {
    format!("%{}%", like_escaped(text))
}

pub(super) fn prefix_pattern(text: &str) -> String {
    format!("{}%", like_escaped(text))
}

/// A bound and whether it is included.
pub(super) type Bound<T> = (T, bool);

pub(super) fn number_of(bound: &Option<(Scalar, bool)>) -> Option<(f64, bool)> {
    match bound {
        Some((Scalar::Number(n), included)) => Some((*n, *included)),
        _ => None,
    }
}

pub(super) fn text_of(bound: &Option<(Scalar, bool)>) -> Option<(String, bool)> {
    match bound {
        Some((Scalar::Text(t), included)) => Some((t.clone(), *included)),
        _ => None,
    }
}

pub(super) fn moment_of(bound: &Option<(Scalar, bool)>) -> Option<(NaiveDateTime, bool)> {
    match bound {
        Some((Scalar::Moment(m), included)) => Some((*m, *included)),
        _ => None,
    }
}

/// Integer bounds, both included, equivalent to real ones on a whole-number column.
pub(super) fn count_bounds(
    low: &Option<(Scalar, bool)>,
    high: &Option<(Scalar, bool)>,
) -> (Option<Bound<i64>>, Option<Bound<i64>>) {
    let low = number_of(low).map(|(n, included)| {
        let n = if included { n.ceil() } else { n.floor() + 1.0 };
        (n as i64, true)
    });
    let high = number_of(high).map(|(n, included)| {
        let n = if included { n.floor() } else { n.ceil() - 1.0 };
        (n as i64, true)
    });
    (low, high)
}

pub(super) fn free_text(ty: PropertyType) -> bool {
    matches!(
        ty,
        PropertyType::Text | PropertyType::Word | PropertyType::Location
    )
}

pub(super) fn standard_condition(query: Query, key: &str, ty: PropertyType, test: &Test) -> Query {
    let free = free_text(ty);
    with_standard_column!(key, column => match test {
        Test::Empty => query.filter(column.is_null()),
        Test::NotEmpty => query.filter(column.is_not_null()),
        Test::Equals(values) if free => query.filter(lower(column).eq_any(values.clone())),
        Test::Equals(values) => query.filter(column.eq_any(values.clone())),
        Test::NotEquals(Scalar::Text(value)) if free => {
            query.filter(lower(column).ne(value.clone()).or(column.is_null()))
        }
        Test::NotEquals(Scalar::Text(value)) => {
            query.filter(column.ne(value.clone()).or(column.is_null()))
        }
        Test::Contains(part) => query.filter(lower(column).like(contains_pattern(part)).escape('\\')),
        Test::StartsWith(part) => query.filter(lower(column).like(prefix_pattern(part)).escape('\\')),
        _ => query,
    }, _ => query)
}

/// Inclusive numeric bounds equivalent to the given ones (the next float past an
/// excluded bound), so each range is one expression shape.
pub(super) fn inclusive_numbers(
    low: &Option<(Scalar, bool)>,
    high: &Option<(Scalar, bool)>,
) -> (Option<f64>, Option<f64>) {
    let low = number_of(low).map(|(n, included)| if included { n } else { n.next_up() });
    let high = number_of(high).map(|(n, included)| if included { n } else { n.next_down() });
    (low, high)
}

/// Bounds `[low, high)` on canonical texts (ISO dates, HH:MM times), which never hold a
/// character below a space: "after d" starts at `d + " "`, "up to d" ends before it.
pub(super) fn half_open_texts(
    low: &Option<(Scalar, bool)>,
    high: &Option<(Scalar, bool)>,
) -> (Option<String>, Option<String>) {
    let low = text_of(low).map(|(t, included)| if included { t } else { format!("{t} ") });
    let high = text_of(high).map(|(t, included)| if included { format!("{t} ") } else { t });
    (low, high)
}

/// How a page reads the holders of a property condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// Collected, then each holder's row read (few holders).
    List,
    /// Collected into a set the rows walked along the sort's index are tested against
    /// (SQLite builds it once for the statement).
    Set,
    /// The same on PostgreSQL, which would turn a plain `IN` into a join probing each
    /// walked row's values: inside `coalesce(…, false)` it stays a subplan PostgreSQL runs
    /// once and hashes.
    HashedSet,
    /// Tested on each row walked along the sort's index (many holders).
    Probe,
}

impl Reading {
    /// As the filter asks. On PostgreSQL a set is hashed only for a condition that is the
    /// whole filter: its holders are then the matches the set was chosen for, few enough
    /// to hash. With other filters they may be many more, and a subplan too large to hash
    /// is searched row by row, so there the probe serves.
    pub(super) fn of(filter: &super::CustomerFilter, sqlite: bool) -> Self {
        let alone = || {
            let others = super::CustomerFilter {
                conditions: Vec::new(),
                ..filter.clone()
            };
            filter.conditions.len() == 1 && super::totals::counted_stage(&others) == Some(None)
        };
        if filter.probe_values {
            Reading::Probe
        } else if filter.set_values && sqlite {
            Reading::Set
        } else if filter.set_values && alone() {
            Reading::HashedSet
        } else if filter.set_values {
            Reading::Probe
        } else {
            Reading::List
        }
    }
}

/// Customers holding a value of the subquery `$values` (rows of `customer_values`), read
/// as `$reading` says. As a set, the id is compared as `id + 0`: the database can then no
/// longer look the holders' rows up by id, and walks the sort's index instead.
macro_rules! holds {
    ($query:expr, $reading:expr, $values:expr) => {{
        match $reading {
            Reading::Probe => $query.filter(diesel::dsl::exists(
                $values.filter(customer_values::customer_id.eq(customers::id)),
            )),
            Reading::Set => $query.filter((customers::id + 0_i64).eq_any($values)),
            Reading::HashedSet => $query.filter($crate::db::coalesce_bool(
                (customers::id + 0_i64).eq_any($values).nullable(),
                false,
            )),
            Reading::List => $query.filter(customers::id.eq_any($values)),
        }
    }};
}

/// Customers holding no value of the subquery `$values`, tested on each row walked along
/// the sort's index, however the filter reads holders ([`holds`]). The reading is chosen
/// for the customers that match, and few lack a value exactly when its holders are many:
/// collected, they were every customer but those few, and PostgreSQL, unable to hash
/// that many for `id <> ALL (…)`, scanned them again for each row walked ("score is
/// empty" at a million customers ran for over ten minutes).
macro_rules! lacks {
    ($query:expr, $values:expr) => {{
        $query.filter(diesel::dsl::not(diesel::dsl::exists(
            $values.filter(customer_values::customer_id.eq(customers::id)),
        )))
    }};
}

pub(super) fn custom_condition(
    query: Query,
    property: PropertyId,
    ty: PropertyType,
    test: &Test,
    probe: Reading,
) -> Query {
    // Not boxed: a subquery of the boxed query must be concrete.
    let values = || {
        customer_values::table
            .filter(customer_values::property_id.eq(property))
            .select(customer_values::customer_id)
    };
    let free = free_text(ty);
    let number = customer_values::value_number;
    let text = customer_values::value_text;
    match test {
        Test::Empty => lacks!(query, values()),
        Test::NotEmpty => holds!(query, probe, values()),
        Test::Equals(options) if free => {
            holds!(
                query,
                probe,
                values().filter(lower(text).eq_any(options.clone()))
            )
        }
        Test::Equals(options) => {
            holds!(query, probe, values().filter(text.eq_any(options.clone())))
        }
        Test::NotEquals(Scalar::Number(n)) => {
            lacks!(query, values().filter(number.eq(*n)))
        }
        Test::NotEquals(Scalar::Text(t)) if free => {
            lacks!(query, values().filter(lower(text).eq(t.clone())))
        }
        Test::NotEquals(Scalar::Text(t)) => {
            lacks!(query, values().filter(text.eq(t.clone())))
        }
        Test::NotEquals(Scalar::Moment(_)) => query,
        Test::Contains(part) => holds!(
            query,
            probe,
            values().filter(lower(text).like(contains_pattern(part)).escape('\\'))
        ),
        Test::StartsWith(part) => holds!(
            query,
            probe,
            values().filter(lower(text).like(prefix_pattern(part)).escape('\\'))
        ),
        Test::Range { low, high } if ty == PropertyType::Number => {
            match inclusive_numbers(low, high) {
                (Some(low), Some(high)) => holds!(
                    query,
                    probe,
                    values().filter(number.ge(low).and(number.le(high)))
                ),
                (Some(low), None) => {
                    holds!(query, probe, values().filter(number.ge(low)))
                }
                (None, Some(high)) => {
                    holds!(query, probe, values().filter(number.le(high)))
                }
                (None, None) => query,
            }
        }
        Test::Range { low, high } => match half_open_texts(low, high) {
            (Some(low), Some(high)) => {
                holds!(
                    query,
                    probe,
                    values().filter(text.ge(low).and(text.lt(high)))
                )
            }
            (Some(low), None) => holds!(query, probe, values().filter(text.ge(low))),
            (None, Some(high)) => {
                holds!(query, probe, values().filter(text.lt(high)))
            }
            (None, None) => query,
        },
        Test::HasAll(options) => options.iter().fold(query, |query, option| {
            holds!(query, probe, values().filter(text.eq(option.clone())))
        }),
    }
}

/// Applies a test to one of the whole-number counters.
macro_rules! count_condition {
    ($query:expr, $column:expr, $test:expr) => {{
        let query = $query;
        match $test {
            Test::Empty => query.filter($column.eq(0)),
            Test::NotEmpty => query.filter($column.gt(0)),
            Test::NotEquals(Scalar::Number(n)) if n.fract() == 0.0 => {
                query.filter($column.ne(*n as i64))
            }
            Test::Range { low, high } => {
                let (low, high) = count_bounds(low, high);
                bounded!(query, $column, low, high)
            }
            _ => query,
        }
    }};
}

/// The last contact, as a condition reads it: on each walked row when `walk` (wrapped, a
/// column no index serves), otherwise on its index where that serves.
pub(super) fn last_contact(
    walk: bool,
) -> Box<dyn BoxableExpression<customers::table, Backend, SqlType = Nullable<Timestamp>>> {
    if walk {
        Box::new(coalesce_time(
            customers::last_contact_at,
            customers::last_contact_at,
        ))
    } else {
        Box::new(customers::last_contact_at)
    }
}

/// `walk`: test the indexed counters and times on each walked row (see
/// `CustomerFilter::walk_sort`).
pub(super) fn computed_condition(query: Query, key: &str, test: &Test, walk: bool) -> Query {
    match key {
        "conversations_count" if walk => {
            count_condition!(query, customers::conversations_count + 0_i64, test)
        }
        "conversations_count" => count_condition!(query, customers::conversations_count, test),
        "messages_count" => count_condition!(query, customers::messages_count, test),
        "orders_count" => count_condition!(query, customers::orders_count, test),
        "csat_average" => match test {
            Test::Empty => query.filter(customers::csat_average.is_null()),
            Test::NotEmpty => query.filter(customers::csat_average.is_not_null()),
            Test::NotEquals(Scalar::Number(n)) => query.filter(
                customers::csat_average
                    .ne(*n)
                    .or(customers::csat_average.is_null()),
            ),
            Test::Range { low, high } => {
                bounded!(
                    query,
                    customers::csat_average,
                    number_of(low),
                    number_of(high)
                )
            }
            _ => query,
        },
        "created_at" => match test {
            Test::Empty => query.filter(customers::id.lt(0)),
            Test::Range { low, high } => {
                bounded!(
                    query,
                    customers::created_at,
                    moment_of(low),
                    moment_of(high)
                )
            }
            _ => query,
        },
        "last_contact_at" => match test {
            Test::Empty => query.filter(last_contact(walk).is_null()),
            Test::NotEmpty => query.filter(last_contact(walk).is_not_null()),
            Test::Range { low, high } => {
                bounded!(query, last_contact(walk), moment_of(low), moment_of(high))
            }
            _ => query,
        },
        _ => query,
    }
}
