//! Property values: one parser per type, used by every write path, and how a value reads
//! back in a form or on a page.

use super::{MAX_TEXT, MAX_WORD, PropertyType};
use celes::LookupTable;
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A parsed, valid value. What is stored, recorded in history and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// Text, Word, Single choice, Date (`YYYY-MM-DD`), Time (`HH:MM`), E-mail, Phone (E.164),
    /// Country and Language codes: one canonical string.
    Text {
        /// The canonical form.
        text: String,
    },
    /// A decimal number: the canonical text (exact) and its float (for comparisons).
    Number {
        /// As typed, normalised.
        text: String,
        /// For filtering and sorting.
        number: f64,
    },
    /// The chosen options of a Multiple choice property, in the property's order.
    Choices {
        /// The options.
        choices: Vec<String>,
    },
    /// An address and/or coordinates.
    Location {
        /// Address text (may be empty when coordinates are given).
        address: String,
        /// −90 to 90.
        latitude: Option<f64>,
        /// −180 to 180.
        longitude: Option<f64>,
    },
}

/// What a person or integration submitted for one property, before parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// One text field.
    One(String),
    /// Several selected options.
    Many(Vec<String>),
    /// The three fields of a location.
    Location {
        /// Address text.
        address: String,
        /// Latitude text.
        latitude: String,
        /// Longitude text.
        longitude: String,
    },
}

impl Value {
    /// The value as JSON: text and numbers as themselves, choices as a list, a location
    /// as an object (the API and the per-customer export).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Text { text } => serde_json::json!(text),
            // Whole numbers (counters, most amounts) as integers, not 3.0.
            Value::Number { number, .. } if number.fract() == 0.0 && number.abs() < 9.0e15 => {
                serde_json::json!(*number as i64)
            }
            Value::Number { number, .. } => serde_json::json!(number),
            Value::Choices { choices } => serde_json::json!(choices),
            Value::Location {
                address,
                latitude,
                longitude,
            } => {
                serde_json::json!({"address": address, "latitude": latitude, "longitude": longitude})
            }
        }
    }

    /// The value's text as an input field holds it (parsing it again gives the same value).
    pub fn form_text(&self) -> String {
        match self {
            Value::Text { text } | Value::Number { text, .. } => text.clone(),
            Value::Choices { choices } => choices.join(", "),
            Value::Location { address, .. } => address.clone(),
        }
    }

    /// The value as people read it.
    pub fn display(&self, ty: PropertyType) -> String {
        match (self, ty) {
            (Value::Text { text }, PropertyType::Country) => celes::Country::from_alpha2(text)
                .map(|c| format!("{} ({text})", country_name(&c)))
                .unwrap_or_else(|_| text.clone()),
            (Value::Text { text }, PropertyType::Language) => isolang::Language::from_639_1(text)
                .map(|l| format!("{} ({text})", l.to_name()))
                .unwrap_or_else(|| text.clone()),
            (
                Value::Location {
                    address,
                    latitude,
                    longitude,
                },
                _,
            ) => match (latitude, longitude) {
                (Some(lat), Some(lng)) if address.is_empty() => format!("{lat}, {lng}"),
                (Some(lat), Some(lng)) => format!("{address} ({lat}, {lng})"),
                _ => address.clone(),
            },
            (other, _) => other.form_text(),
        }
    }

    /// A link that opens a location on a map.
    pub fn map_url(&self) -> Option<String> {
        match self {
            Value::Location {
                latitude: Some(lat),
                longitude: Some(lng),
                ..
            } => Some(format!(
                "https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}"
            )),
            Value::Location { address, .. } if !address.is_empty() => Some(format!(
                "https://www.openstreetmap.org/search?query={}",
                percent_encode(address)
            )),
            _ => None,
        }
    }
}

pub(super) fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) fn country_name(country: &celes::Country) -> String {
    country
        .aliases
        .iter()
        .next()
        .map_or_else(|| country.long_name.to_owned(), |a| (*a).to_owned())
}

/// Every ISO 3166-1 country as (alpha-2 code, name), sorted by name, for pickers.
pub fn countries() -> Vec<(&'static str, String)> {
    let mut all: Vec<_> = celes::Country::get_countries()
        .iter()
        .map(|c| (c.alpha2, country_name(c)))
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    all
}

/// Parses one property's submitted value. Empty input means "no value" (`Ok(None)`).
/// `choices` is the property's list (ignored by types without choices).
pub fn parse_value(
    ty: PropertyType,
    choices: &[String],
    raw: &RawValue,
) -> Result<Option<Value>, String> {
    match (ty, raw) {
        (PropertyType::MultipleChoice, RawValue::Many(selected)) => parse_many(choices, selected),
        (PropertyType::MultipleChoice, RawValue::One(one)) => {
            let selected: Vec<String> = one.split(',').map(|s| s.trim().to_owned()).collect();
            parse_many(choices, &selected)
        }
        (
            PropertyType::Location,
            RawValue::Location {
                address,
                latitude,
                longitude,
            },
        ) => parse_location(address, latitude, longitude),
        (PropertyType::Location, RawValue::One(address)) => parse_location(address, "", ""),
        (_, RawValue::One(one)) => {
            let text = one.trim();
            if text.is_empty() {
                return Ok(None);
            }
            parse_one(ty, choices, text).map(Some)
        }
        (_, RawValue::Many(many)) if many.len() == 1 => {
            parse_value(ty, choices, &RawValue::One(many[0].clone()))
        }
        (_, RawValue::Many(many)) if many.iter().all(|m| m.trim().is_empty()) => Ok(None),
        _ => Err(format!("{} takes a single value.", ty.label())),
    }
}

pub(super) fn text_value(text: impl Into<String>) -> Value {
    Value::Text { text: text.into() }
}

pub(super) fn parse_one(ty: PropertyType, choices: &[String], text: &str) -> Result<Value, String> {
    match ty {
        PropertyType::Number => parse_number(text),
        PropertyType::Text => {
            if text.chars().count() > MAX_TEXT {
                return Err(format!("Text has at most {MAX_TEXT} characters."));
            }
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                return Err("Text cannot contain control characters.".to_owned());
            }
            Ok(text_value(text))
        }
        PropertyType::Word => {
            if text.chars().count() > MAX_WORD {
                return Err(format!("A word has at most {MAX_WORD} characters."));
            }
            if !text.chars().all(char::is_alphanumeric) {
                return Err("A word has only letters and digits, no spaces or punctuation (e.g. ClassOf2023).".to_owned());
            }
            Ok(text_value(text))
        }
        PropertyType::SingleChoice => choices
            .iter()
            .find(|c| c.as_str() == text || c.eq_ignore_ascii_case(text))
            .map(|c| text_value(c.clone()))
            .ok_or_else(|| {
                format!(
                    "{text:?} is not one of the choices: {}.",
                    choices.join(", ")
                )
            }),
        PropertyType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| text_value(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| "Enter a real date as YYYY-MM-DD, e.g. 2026-03-14.".to_owned()),
        PropertyType::Time => parse_time(text),
        PropertyType::Email => parse_email(text),
        PropertyType::Phone => parse_phone(text),
        PropertyType::Country => parse_country(text),
        PropertyType::Language => parse_language(text),
        PropertyType::MultipleChoice | PropertyType::Location => {
            Err(format!("{} needs its own fields.", ty.label()))
        }
        PropertyType::DateTime => Err("This value is computed and cannot be set.".to_owned()),
    }
}

/// A decimal: optional sign, digits, optional `.` and digits. No thousands separators.
pub fn parse_number(text: &str) -> Result<Value, String> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty());
    if !well_formed {
        return Err(if text.contains(',') && !text.contains('.') {
            "Enter a number with a dot as the decimal separator, e.g. 12.5.".to_owned()
        } else {
            "Enter a number: digits with an optional decimal point, e.g. 3.1415926 or 65535."
                .to_owned()
        });
    }
    if whole.len() + fraction.len() > 30 {
        return Err("A number has at most 30 digits.".to_owned());
    }
    let number: f64 = text
        .parse()
        .map_err(|_| "Enter a number, e.g. 65535.".to_owned())?;
    let canonical = text.strip_prefix('+').unwrap_or(text).to_owned();
    Ok(Value::Number {
        text: canonical,
        number,
    })
}

pub(super) fn parse_time(text: &str) -> Result<Value, String> {
    if text.matches(':').count() > 1 {
        return Err("Enter hours and minutes only, without seconds, e.g. 09:30.".to_owned());
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .map(|t| text_value(t.format("%H:%M").to_string()))
        .map_err(|_| "Enter a time as HH:MM between 00:00 and 23:59, e.g. 09:30.".to_owned())
}

/// An e-mail address with a dotted domain, stored with the domain lower-cased.
pub fn parse_email(text: &str) -> Result<Value, String> {
    let message = || "Enter an e-mail address such as name@example.com.".to_owned();
    if text.len() > 254 {
        return Err("An e-mail address has at most 254 characters.".to_owned());
    }
    let address = email_address::EmailAddress::from_str(text).map_err(|_| message())?;
    let domain = address.domain();
    let dotted = domain.rsplit_once('.').is_some_and(|(host, tld)| {
        !host.is_empty() && tld.len() >= 2 && tld.chars().all(char::is_alphanumeric)
    });
    if !dotted || domain.starts_with('[') {
        return Err(message());
    }
    Ok(text_value(format!(
        "{}@{}",
        address.local_part(),
        domain.to_lowercase()
    )))
}

/// A phone number in international form, stored as E.164.
pub fn parse_phone(text: &str) -> Result<Value, String> {
    let message = "Enter a phone number in international form, starting with + and the country code, e.g. +1 555 123 4567.";
    let cleaned = phone_text(text);
    if cleaned.starts_with("++") {
        return Err("Write the number with one + before the country code.".to_owned());
    }
    let with_plus = match cleaned.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => cleaned,
    };
    let number = phonenumber::parse(None, &with_plus).map_err(|_| message.to_owned())?;
    if number.extension().is_some() {
        return Err(
            "Extensions are not kept with a phone number: enter the number without it (put the extension in a note)."
                .to_owned(),
        );
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    // Fictional ranges such as +1 555 are in daily use in contact centers' test traffic,
    // so a number passes when it parses and has a plausible length, not only when the
    // numbering plan lists its range.
    let digits = e164.chars().filter(char::is_ascii_digit).count();
    if !(8..=15).contains(&digits) || !phonenumber::is_viable(&with_plus) {
        return Err("This phone number is too short or too long for its country code.".to_owned());
    }
    Ok(text_value(e164))
}

/// A typed phone as the parser reads it: a `tel:` link's number, digits of any script
/// (Arabic-Indic, Persian, full-width) as ASCII digits, a full-width plus as `+`, and a
/// country code written in parentheses (`(+49) 1512…`) without them.
fn phone_text(text: &str) -> String {
    let trimmed = text.trim();
    let trimmed = match trimmed.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => &trimmed[4..],
        _ => trimmed,
    };
    let mut ascii: String = trimmed
        .chars()
        .map(|c| match c {
            '\u{660}'..='\u{669}' => digit_at(c, '\u{660}'),
            '\u{6F0}'..='\u{6F9}' => digit_at(c, '\u{6F0}'),
            '\u{FF10}'..='\u{FF19}' => digit_at(c, '\u{FF10}'),
            '\u{FF0B}' => '+',
            other => other,
        })
        .collect();
    if let Some(rest) = ascii.strip_prefix("(+")
        && let Some(close) = rest.find(')')
    {
        ascii = format!("+{}{}", &rest[..close], &rest[close + 1..]);
    }
    ascii
}

/// The ASCII digit of `c`, in a script whose zero is `zero`.
fn digit_at(c: char, zero: char) -> char {
    char::from_digit(u32::from(c) - u32::from(zero), 10).unwrap_or(c)
}

pub(super) fn parse_country(text: &str) -> Result<Value, String> {
    if let Ok(country) = celes::Country::from_alpha2(text) {
        return Ok(text_value(country.alpha2));
    }
    celes::Country::get_countries()
        .iter()
        .find(|c| {
            c.long_name.eq_ignore_ascii_case(text)
                || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(text))
        })
        .map(|c| text_value(c.alpha2))
        .ok_or_else(|| {
            "Choose a country from the list (or its two-letter ISO code, e.g. HR).".to_owned()
        })
}

pub(super) fn parse_language(text: &str) -> Result<Value, String> {
    let code = text.to_ascii_lowercase();
    if let Some(language) = isolang::Language::from_639_1(&code) {
        return Ok(text_value(language.to_639_1().unwrap_or(&code)));
    }
    languages()
        .into_iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(text))
        .map(|(code, _)| text_value(code))
        .ok_or_else(|| {
            "Choose a language from the list (or its two-letter ISO 639-1 code, e.g. en)."
                .to_owned()
        })
}

/// Every ISO 639-1 language as (code, English name), sorted by name, for pickers.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = isolang::languages()
        .filter_map(|l| l.to_639_1().map(|code| (code, l.to_name())))
        .collect();
    all.sort_by(|a, b| a.1.cmp(b.1));
    all
}

pub(super) fn parse_many(choices: &[String], selected: &[String]) -> Result<Option<Value>, String> {
    let mut picked = Vec::new();
    for raw in selected.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let Some(choice) = choices
            .iter()
            .find(|c| c.as_str() == raw || c.eq_ignore_ascii_case(raw))
        else {
            return Err(format!(
                "{raw:?} is not one of the choices: {}.",
                choices.join(", ")
            ));
        };
        if !picked.contains(choice) {
            picked.push(choice.clone());
        }
    }
    if picked.is_empty() {
        return Ok(None);
    }
    // Keep the property's own order, so equal selections compare equal.
    let ordered: Vec<String> = choices
        .iter()
        .filter(|c| picked.contains(c))
        .cloned()
        .collect();
    Ok(Some(Value::Choices { choices: ordered }))
}

pub(super) fn parse_location(
    address: &str,
    latitude: &str,
    longitude: &str,
) -> Result<Option<Value>, String> {
    let address = address.trim();
    let (latitude, longitude) = (latitude.trim(), longitude.trim());
    if address.chars().count() > MAX_TEXT {
        return Err(format!("An address has at most {MAX_TEXT} characters."));
    }
    let coordinate = |raw: &str, name: &str, limit: f64| -> Result<Option<f64>, String> {
        if raw.is_empty() {
            return Ok(None);
        }
        let value: f64 = raw
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("The {name} is a number such as 45.8150."))?;
        if value.abs() > limit {
            return Err(format!("The {name} lies between -{limit} and {limit}."));
        }
        Ok(Some(value))
    };
    let lat = coordinate(latitude, "latitude", 90.0)?;
    let lng = coordinate(longitude, "longitude", 180.0)?;
    if lat.is_some() != lng.is_some() {
        return Err("Give both latitude and longitude, or neither.".to_owned());
    }
    if address.is_empty() && lat.is_none() {
        return Ok(None);
    }
    Ok(Some(Value::Location {
        address: address.to_owned(),
        latitude: lat,
        longitude: lng,
    }))
}
