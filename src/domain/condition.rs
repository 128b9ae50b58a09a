//! Property conditions of the Customers page ("orders at least 5", "plan has any of Gold,
//! Silver", "birthday within the last 30 days"): which operators fit which property type,
//! and how a condition is written in the URL (`f=key:operator:value`, two values
//! separated by `|`).

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::property::{PropertyKind, PropertyType, RawValue, Value, parse_value};

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Operator {
    Equals,
    NotEquals,
    Contains,
    StartsWith,
    Empty,
    NotEmpty,
    Greater,
    Less,
    AtLeast,
    AtMost,
    Between,
    Before,
    After,
    WithinDays,
    HasAny,
    HasAll,
}

impl Operator {
    /// Every operator, in the order the form lists them.
    pub const ALL: [Operator; 16] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::Contains,
        Operator::StartsWith,
        Operator::Empty,
        Operator::NotEmpty,
        Operator::Greater,
        Operator::Less,
        Operator::AtLeast,
        Operator::AtMost,
        Operator::Between,
        Operator::Before,
        Operator::After,
        Operator::WithinDays,
        Operator::HasAny,
        Operator::HasAll,
    ];

    /// The URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "not_equals",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts_with",
            Operator::Empty => "empty",
            Operator::NotEmpty => "not_empty",
            Operator::Greater => "greater",
            Operator::Less => "less",
            Operator::AtLeast => "at_least",
            Operator::AtMost => "at_most",
            Operator::Between => "between",
            Operator::Before => "before",
            Operator::After => "after",
            Operator::WithinDays => "within_days",
            Operator::HasAny => "has_any",
            Operator::HasAll => "has_all",
        }
    }

    /// How people read it.
    pub fn label(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "does not equal",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts with",
            Operator::Empty => "is empty",
            Operator::NotEmpty => "is not empty",
            Operator::Greater => "greater than",
            Operator::Less => "less than",
            Operator::AtLeast => "at least",
            Operator::AtMost => "at most",
            Operator::Between => "between",
            Operator::Before => "before",
            Operator::After => "after",
            Operator::WithinDays => "within the last N days",
            Operator::HasAny => "has any of",
            Operator::HasAll => "has all of",
        }
    }

    fn parse(raw: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == raw)
    }

    /// Whether the operator takes no value.
    pub fn is_unary(self) -> bool {
        matches!(self, Operator::Empty | Operator::NotEmpty)
    }
}

/// The operators that fit a property.
pub fn operators_for(kind: PropertyKind, ty: PropertyType) -> &'static [Operator] {
    use Operator::*;
    match (kind, ty) {
        (PropertyKind::Computed, PropertyType::DateTime) => {
            &[Before, After, Between, WithinDays, Empty, NotEmpty]
        }
        (PropertyKind::Computed, _) => &[
            Equals, NotEquals, Greater, Less, AtLeast, AtMost, Between, Empty, NotEmpty,
        ],
        (_, PropertyType::Number) => &[
            Equals, NotEquals, Greater, Less, AtLeast, AtMost, Between, Empty, NotEmpty,
        ],
        (_, PropertyType::Date) => &[
            Equals, NotEquals, Before, After, Between, WithinDays, Empty, NotEmpty,
        ],
        (_, PropertyType::Time | PropertyType::DateTime) => {
            &[Equals, NotEquals, Before, After, Between, Empty, NotEmpty]
        }
        (_, PropertyType::MultipleChoice) => &[HasAny, HasAll, Empty, NotEmpty],
        (_, PropertyType::SingleChoice | PropertyType::Country | PropertyType::Language) => {
            &[Equals, NotEquals, HasAny, Empty, NotEmpty]
        }
        _ => &[Equals, NotEquals, Contains, StartsWith, Empty, NotEmpty],
    }
}

/// A bound of a range: a number, a canonical text (dates, times) or a moment (UTC).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Scalar {
    Number(f64),
    Text(String),
    Moment(NaiveDateTime),
}

/// What a condition tests, resolved to canonical values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Test {
    Empty,
    NotEmpty,
    /// Equal to one of these canonical texts (case-insensitive for free text).
    Equals(Vec<String>),
    /// Differs from this value, or has none.
    NotEquals(Scalar),
    /// Lower-cased fragment.
    Contains(String),
    /// Lower-cased start.
    StartsWith(String),
    /// Within bounds; each bound says whether it is included.
    Range {
        low: Option<(Scalar, bool)>,
        high: Option<(Scalar, bool)>,
    },
    /// Holds all of these options (Multiple choice).
    HasAll(Vec<String>),
}

/// One parsed condition on a property (by technical name).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    /// The property's technical name.
    pub key: String,
    /// How it was written, for the URL and the chips.
    pub operator: Operator,
    /// The values as typed.
    pub raw: String,
    /// What to test.
    pub test: Test,
}

/// What a condition is written against: the property as the reader may see it.
pub struct Subject<'a> {
    pub key: &'a str,
    pub kind: PropertyKind,
    pub ty: PropertyType,
    pub choices: &'a [String],
}

fn number(raw: &str) -> Result<f64, String> {
    raw.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("{:?} is not a number such as 5 or 2.5.", raw.trim()))
}

fn date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{:?} is not a date such as 2026-03-14.", raw.trim()))
}

fn two(raw: &str) -> Result<(&str, &str), String> {
    raw.split_once('|')
        .filter(|(a, b)| !a.trim().is_empty() && !b.trim().is_empty())
        .ok_or_else(|| "Between needs two values.".to_owned())
}

/// Splits a URL condition `key:operator:value` into its parts.
pub fn split(raw: &str) -> Option<(&str, &str, &str)> {
    let (key, rest) = raw.split_once(':')?;
    let (operator, value) = rest.split_once(':').unwrap_or((rest, ""));
    Some((key, operator, value))
}

impl Condition {
    /// The URL form.
    pub fn to_param(&self) -> String {
        format!("{}:{}:{}", self.key, self.operator.as_str(), self.raw)
    }

    /// Parses an operator and value for a property; `today` is the organisation's date and
    /// `midnight` turns a date into the UTC moment it starts.
    pub fn parse(
        subject: &Subject<'_>,
        operator: &str,
        raw: &str,
        today: NaiveDate,
        midnight: &dyn Fn(NaiveDate) -> NaiveDateTime,
    ) -> Result<Condition, String> {
        let operator = Operator::parse(operator)
            .filter(|o| operators_for(subject.kind, subject.ty).contains(o))
            .ok_or_else(|| "Pick a comparison that fits this property.".to_owned())?;
        let raw = raw.trim();
        if !operator.is_unary() && raw.is_empty() {
            return Err("Enter a value to compare with.".to_owned());
        }
        let moment = subject.kind == PropertyKind::Computed && subject.ty == PropertyType::DateTime;
        let numeric = subject.ty == PropertyType::Number
            || (subject.kind == PropertyKind::Computed && !moment);
        // One bound, parsed for this property's type.
        let scalar = |text: &str| -> Result<Scalar, String> {
            if moment {
                Ok(Scalar::Moment(midnight(date(text)?)))
            } else if numeric {
                Ok(Scalar::Number(number(text)?))
            } else {
                canonical(subject, text).map(Scalar::Text)
            }
        };
        let test = match operator {
            Operator::Empty => Test::Empty,
            Operator::NotEmpty => Test::NotEmpty,
            Operator::Equals if numeric => {
                let n = scalar(raw)?;
                Test::Range {
                    low: Some((n.clone(), true)),
                    high: Some((n, true)),
                }
            }
            Operator::Equals => Test::Equals(vec![canonical(subject, raw)?]),
            Operator::NotEquals if numeric => Test::NotEquals(Scalar::Number(number(raw)?)),
            Operator::NotEquals => Test::NotEquals(Scalar::Text(canonical(subject, raw)?)),
            Operator::Contains => Test::Contains(raw.to_lowercase()),
            Operator::StartsWith => Test::StartsWith(raw.to_lowercase()),
            Operator::Greater | Operator::After => Test::Range {
                low: Some((scalar(raw)?, false)),
                high: None,
            },
            Operator::Less | Operator::Before => Test::Range {
                low: None,
                high: Some((scalar(raw)?, false)),
            },
            Operator::AtLeast => Test::Range {
                low: Some((scalar(raw)?, true)),
                high: None,
            },
            Operator::AtMost => Test::Range {
                low: None,
                high: Some((scalar(raw)?, true)),
            },
            Operator::Between => {
                let (a, b) = two(raw)?;
                if moment {
                    // Both days included: up to the midnight after the second.
                    let end = date(b)? + Duration::days(1);
                    Test::Range {
                        low: Some((scalar(a)?, true)),
                        high: Some((Scalar::Moment(midnight(end)), false)),
                    }
                } else {
                    Test::Range {
                        low: Some((scalar(a)?, true)),
                        high: Some((scalar(b)?, true)),
                    }
                }
            }
            Operator::WithinDays => {
                let days: i64 = raw
                    .parse()
                    .ok()
                    .filter(|d| (0..=36_500).contains(d))
                    .ok_or_else(|| "Enter a number of days such as 30.".to_owned())?;
                let first = today - Duration::days(days);
                let low = if moment {
                    Scalar::Moment(midnight(first))
                } else {
                    Scalar::Text(first.format("%Y-%m-%d").to_string())
                };
                Test::Range {
                    low: Some((low, true)),
                    high: None,
                }
            }
            Operator::HasAny | Operator::HasAll => {
                let mut options = Vec::new();
                for part in raw
                    .split(['|', ','])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                {
                    options.push(canonical(subject, part)?);
                }
                if options.is_empty() {
                    return Err("Pick at least one option.".to_owned());
                }
                if operator == Operator::HasAll {
                    Test::HasAll(options)
                } else {
                    Test::Equals(options)
                }
            }
        };
        Ok(Condition {
            key: subject.key.to_owned(),
            operator,
            raw: raw.to_owned(),
            test,
        })
    }
}

/// A single value as the property stores it (a choice's exact spelling, a country code,
/// an ISO date), through the same parser as every write path.
fn canonical(subject: &Subject<'_>, text: &str) -> Result<String, String> {
    let ty = match subject.ty {
        // A filter on one option of a Multiple choice is a Single choice test.
        PropertyType::MultipleChoice => PropertyType::SingleChoice,
        // Free text compares case-insensitively, whatever its length.
        PropertyType::Text | PropertyType::Location | PropertyType::Word => {
            return Ok(text.to_lowercase());
        }
        other => other,
    };
    match parse_value(ty, subject.choices, &RawValue::One(text.to_owned()))? {
        Some(Value::Text { text }) | Some(Value::Number { text, .. }) => Ok(text),
        Some(other) => Ok(other.form_text()),
        None => Err("Enter a value to compare with.".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(kind: PropertyKind, ty: PropertyType, choices: &[String]) -> Subject<'_> {
        Subject {
            key: "p",
            kind,
            ty,
            choices,
        }
    }

    fn parse(s: &Subject<'_>, op: &str, raw: &str) -> Result<Condition, String> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        Condition::parse(s, op, raw, today, &|d| {
            d.and_hms_opt(0, 0, 0).unwrap_or_default()
        })
    }

    #[test]
    fn operators_must_fit_the_type() {
        let n = subject(PropertyKind::Custom, PropertyType::Number, &[]);
        assert!(parse(&n, "contains", "5").is_err());
        assert!(parse(&n, "between", "1|3").is_ok());
        assert!(parse(&n, "between", "1").is_err());
        assert!(parse(&n, "greater", "five").is_err());
        let t = subject(PropertyKind::Custom, PropertyType::Text, &[]);
        assert!(parse(&t, "greater", "5").is_err());
        assert!(parse(&t, "empty", "").is_ok());
        assert!(parse(&t, "equals", "").is_err());
    }

    #[test]
    fn choices_and_dates_become_canonical() {
        let choices = vec!["Gold".to_owned(), "Silver".to_owned()];
        let c = subject(PropertyKind::Custom, PropertyType::MultipleChoice, &choices);
        let cond = parse(&c, "has_all", "gold|SILVER").expect("valid");
        assert_eq!(
            cond.test,
            Test::HasAll(vec!["Gold".into(), "Silver".into()])
        );
        assert!(parse(&c, "has_any", "Bronze").is_err());
        let d = subject(PropertyKind::Custom, PropertyType::Date, &[]);
        let within = parse(&d, "within_days", "30").expect("valid");
        assert_eq!(
            within.test,
            Test::Range {
                low: Some((Scalar::Text("2026-10-23".into()), true)),
                high: None
            }
        );
        assert!(parse(&d, "before", "2026-02-30").is_err());
    }

    #[test]
    fn the_url_form_round_trips() {
        assert_eq!(
            split("orders_count:at_least:5"),
            Some(("orders_count", "at_least", "5"))
        );
        assert_eq!(split("t:equals:10:30"), Some(("t", "equals", "10:30")));
        assert_eq!(split("x:empty"), Some(("x", "empty", "")));
    }
}
