//! The property registry's rules: types, access levels, technical names, and the one parser
//! per type that every write path (profile form, context card, self-service, API, import)
//! goes through.

mod value;

pub use value::{
    RawValue, Value, countries, languages, parse_email, parse_number, parse_phone, parse_value,
};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest Text value, in characters.
pub const MAX_TEXT: usize = 2000;
/// Longest Word value, in characters.
pub const MAX_WORD: usize = 100;
/// Longest label or choice, in characters.
pub const MAX_LABEL: usize = 80;
/// Most choices a choice property may have.
pub const MAX_CHOICES: usize = 100;
/// Longest technical name, in characters.
pub const MAX_KEY: usize = 64;

/// Where a property comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyKind {
    /// Built in, not deletable.
    Standard,
    /// Created by a supervisor.
    Custom,
    /// Kept by the system, read-only everywhere.
    Computed,
}

impl PropertyKind {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyKind::Standard => "standard",
            PropertyKind::Custom => "custom",
            PropertyKind::Computed => "computed",
        }
    }
}

impl FromStr for PropertyKind {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "standard" => Ok(PropertyKind::Standard),
            "custom" => Ok(PropertyKind::Custom),
            "computed" => Ok(PropertyKind::Computed),
            other => Err(format!("unknown property kind {other:?}")),
        }
    }
}

/// A property's value type. The first eight can be chosen for custom properties; the
/// others belong to standard and computed properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    /// A decimal number such as 3.1415926 or 65535.
    Number,
    /// Any text, e.g. a postal address.
    Text,
    /// Letters and digits, no spaces, e.g. ClassOf2023.
    Word,
    /// One option from the property's list.
    SingleChoice,
    /// Any number of options from the property's list.
    MultipleChoice,
    /// Address text plus optional latitude/longitude.
    Location,
    /// A calendar date, no time.
    Date,
    /// Hours and minutes, no seconds.
    Time,
    /// An e-mail address (standard `email`).
    Email,
    /// A phone number stored in E.164 (standard `phone`).
    Phone,
    /// An ISO 3166-1 alpha-2 country code (standard `country`).
    Country,
    /// An ISO 639-1 language code (standard `language`).
    Language,
    /// A moment in time (computed only).
    DateTime,
}

impl PropertyType {
    /// Whether every valid value of this type is safe in a spreadsheet as written: numbers,
    /// E.164 phones, dates, times, codes and single words cannot hold a formula, so an
    /// export writes them without the apostrophe that guards free text.
    pub fn formula_free(self) -> bool {
        matches!(
            self,
            PropertyType::Number
                | PropertyType::Word
                | PropertyType::Date
                | PropertyType::Time
                | PropertyType::Phone
                | PropertyType::Country
                | PropertyType::Language
                | PropertyType::DateTime
        )
    }

    /// The types a supervisor can give a custom property.
    pub const CUSTOM: [PropertyType; 8] = [
        PropertyType::Number,
        PropertyType::Text,
        PropertyType::Word,
        PropertyType::SingleChoice,
        PropertyType::MultipleChoice,
        PropertyType::Location,
        PropertyType::Date,
        PropertyType::Time,
    ];

    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::Number => "number",
            PropertyType::Text => "text",
            PropertyType::Word => "word",
            PropertyType::SingleChoice => "single_choice",
            PropertyType::MultipleChoice => "multiple_choice",
            PropertyType::Location => "location",
            PropertyType::Date => "date",
            PropertyType::Time => "time",
            PropertyType::Email => "email",
            PropertyType::Phone => "phone",
            PropertyType::Country => "country",
            PropertyType::Language => "language",
            PropertyType::DateTime => "datetime",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            PropertyType::Number => "Number",
            PropertyType::Text => "Text",
            PropertyType::Word => "Word",
            PropertyType::SingleChoice => "Single choice",
            PropertyType::MultipleChoice => "Multiple choice",
            PropertyType::Location => "Location",
            PropertyType::Date => "Date",
            PropertyType::Time => "Time",
            PropertyType::Email => "E-mail",
            PropertyType::Phone => "Phone",
            PropertyType::Country => "Country",
            PropertyType::Language => "Language",
            PropertyType::DateTime => "Date and time",
        }
    }

    /// A short description for the property form.
    pub fn hint(self) -> &'static str {
        match self {
            PropertyType::Number => {
                "Digits with an optional decimal point, e.g. 3.1415926 or 65535."
            }
            PropertyType::Text => "Any text up to 2,000 characters, e.g. a postal address.",
            PropertyType::Word => "Letters and digits only, no spaces, e.g. ClassOf2023.",
            PropertyType::SingleChoice => "One option from a list you define.",
            PropertyType::MultipleChoice => "Any number of options from a list you define.",
            PropertyType::Location => "An address, optionally with latitude and longitude.",
            PropertyType::Date => "A date without time, e.g. 2026-03-14.",
            PropertyType::Time => "Hours and minutes, e.g. 09:30.",
            PropertyType::Email => "An e-mail address.",
            PropertyType::Phone => "A phone number in international form.",
            PropertyType::Country => "A country.",
            PropertyType::Language => "A language.",
            PropertyType::DateTime => "A moment in time.",
        }
    }

    /// Whether the type has a list of choices.
    pub fn has_choices(self) -> bool {
        matches!(
            self,
            PropertyType::SingleChoice | PropertyType::MultipleChoice
        )
    }
}

impl FromStr for PropertyType {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        const ALL: [PropertyType; 13] = [
            PropertyType::Number,
            PropertyType::Text,
            PropertyType::Word,
            PropertyType::SingleChoice,
            PropertyType::MultipleChoice,
            PropertyType::Location,
            PropertyType::Date,
            PropertyType::Time,
            PropertyType::Email,
            PropertyType::Phone,
            PropertyType::Country,
            PropertyType::Language,
            PropertyType::DateTime,
        ];
        ALL.into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| "Choose one of the listed types.".to_owned())
    }
}

/// How much of a property a role may see: nothing, its value, or its value and an editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Never shown, never sent.
    Hidden,
    /// Shown read-only.
    View,
    /// Shown and editable.
    Edit,
}

impl Access {
    /// All levels, for forms.
    pub const ALL: [Access; 3] = [Access::Hidden, Access::View, Access::Edit];

    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Hidden => "hidden",
            Access::View => "view",
            Access::Edit => "edit",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Access::Hidden => "Hidden",
            Access::View => "View only",
            Access::Edit => "View and edit",
        }
    }
}

impl FromStr for Access {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "hidden" => Ok(Access::Hidden),
            "view" => Ok(Access::View),
            "edit" => Ok(Access::Edit),
            _ => Err("Choose hidden, view only, or view and edit.".to_owned()),
        }
    }
}

/// A custom property's technical name: `^[a-z][a-z0-9_]*$`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechnicalName(String);

impl TechnicalName {
    /// Checks the rule and says precisely what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Enter a technical name, e.g. loyalty_tier.".to_owned());
        }
        if name.chars().any(char::is_whitespace) {
            return Err(
                "A technical name cannot contain spaces; use an underscore, e.g. loyalty_tier."
                    .to_owned(),
            );
        }
        if name.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(
                "A technical name uses lower-case letters only, e.g. loyalty_tier.".to_owned(),
            );
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("A technical name starts with a letter a–z.".to_owned());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err("A technical name uses only a–z, 0–9 and underscores.".to_owned());
        }
        if name.len() > MAX_KEY {
            return Err(format!(
                "A technical name has at most {MAX_KEY} characters."
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A label people read: 1–80 characters.
pub fn parse_label(raw: &str) -> Result<String, String> {
    let label = raw.trim();
    if label.is_empty() {
        return Err("Enter the label people will see.".to_owned());
    }
    if label.chars().count() > MAX_LABEL {
        return Err(format!("A label has at most {MAX_LABEL} characters."));
    }
    if label.chars().any(char::is_control) {
        return Err("A label cannot contain control characters.".to_owned());
    }
    Ok(label.to_owned())
}

/// The list of choices, one per line; blank lines ignored, duplicates refused.
pub fn parse_choices(raw: &str) -> Result<Vec<String>, String> {
    let mut choices: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().count() > MAX_LABEL {
            return Err(format!(
                "A choice has at most {MAX_LABEL} characters: {line:?} is longer."
            ));
        }
        if choices.iter().any(|c| c.eq_ignore_ascii_case(line)) {
            return Err(format!("The choice {line:?} appears twice."));
        }
        choices.push(line.to_owned());
    }
    if choices.is_empty() {
        return Err("Enter at least one choice, one per line.".to_owned());
    }
    if choices.len() > MAX_CHOICES {
        return Err(format!("A property has at most {MAX_CHOICES} choices."));
    }
    Ok(choices)
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(ty: PropertyType, text: &str) -> Result<Option<Value>, String> {
        parse_value(ty, &[], &RawValue::One(text.to_owned()))
    }

    fn accepted(ty: PropertyType, text: &str) -> Value {
        one(ty, text)
            .unwrap_or_else(|e| panic!("{text:?} should be accepted: {e}"))
            .unwrap()
    }

    /// Every accepted value parses again from its own form text to the same value.
    fn round_trips(ty: PropertyType, choices: &[String], value: &Value) {
        let again = parse_value(ty, choices, &RawValue::One(value.form_text()))
            .unwrap()
            .unwrap();
        assert_eq!(&again, value);
    }

    #[test]
    fn numbers_accept_decimals_and_refuse_junk() {
        for ok in ["3.1415926", "65535", "-2.5", "+7", "0.001"] {
            let value = accepted(PropertyType::Number, ok);
            round_trips(PropertyType::Number, &[], &value);
        }
        assert!(
            matches!(accepted(PropertyType::Number, "65535"), Value::Number { number, .. } if number == 65535.0)
        );
        for bad in [
            "12,5abc", "abc", "1.2.3", "1e5", ".5", "5.", "NaN", "inf", "1 000",
        ] {
            assert!(
                one(PropertyType::Number, bad).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(
            one(PropertyType::Number, "12,5")
                .unwrap_err()
                .contains("dot")
        );
    }

    #[test]
    fn words_have_no_spaces() {
        round_trips(
            PropertyType::Word,
            &[],
            &accepted(PropertyType::Word, "ClassOf2023"),
        );
        assert!(
            one(PropertyType::Word, "two words")
                .unwrap_err()
                .contains("no spaces")
        );
        assert!(one(PropertyType::Word, "dash-ed").is_err());
    }

    #[test]
    fn text_is_bounded() {
        round_trips(
            PropertyType::Text,
            &[],
            &accepted(PropertyType::Text, "Champ de Mars, 5 Av. Anatole France"),
        );
        assert!(
            one(PropertyType::Text, &"x".repeat(MAX_TEXT + 1))
                .unwrap_err()
                .contains("2000")
        );
        assert_eq!(one(PropertyType::Text, "   ").unwrap(), None);
    }

    #[test]
    fn times_are_hours_and_minutes() {
        assert_eq!(accepted(PropertyType::Time, "9:05").form_text(), "09:05");
        round_trips(
            PropertyType::Time,
            &[],
            &accepted(PropertyType::Time, "23:59"),
        );
        assert!(one(PropertyType::Time, "25:61").is_err());
        assert!(
            one(PropertyType::Time, "10:30:15")
                .unwrap_err()
                .contains("without seconds")
        );
        assert!(one(PropertyType::Time, "noon").is_err());
    }

    #[test]
    fn dates_must_exist() {
        round_trips(
            PropertyType::Date,
            &[],
            &accepted(PropertyType::Date, "2024-02-29"),
        );
        assert!(one(PropertyType::Date, "2026-02-30").is_err());
        assert!(one(PropertyType::Date, "14.03.2026").is_err());
    }

    #[test]
    fn choices_must_be_in_the_list() {
        let tiers = vec!["Bronze".to_owned(), "Silver".to_owned(), "Gold".to_owned()];
        let gold = parse_value(
            PropertyType::SingleChoice,
            &tiers,
            &RawValue::One("gold".into()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(gold.form_text(), "Gold");
        round_trips(PropertyType::SingleChoice, &tiers, &gold);
        assert!(
            parse_value(
                PropertyType::SingleChoice,
                &tiers,
                &RawValue::One("Platinum".into())
            )
            .unwrap_err()
            .contains("not one of the choices")
        );

        let many = parse_value(
            PropertyType::MultipleChoice,
            &tiers,
            &RawValue::Many(vec!["Gold".into(), "Bronze".into(), "Gold".into()]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            many,
            Value::Choices {
                choices: vec!["Bronze".into(), "Gold".into()]
            }
        );
        round_trips(PropertyType::MultipleChoice, &tiers, &many);
        assert!(
            parse_value(
                PropertyType::MultipleChoice,
                &tiers,
                &RawValue::Many(vec!["Iron".into()])
            )
            .is_err()
        );
        assert_eq!(
            parse_value(
                PropertyType::MultipleChoice,
                &tiers,
                &RawValue::Many(vec![])
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn locations_check_their_coordinates() {
        let raw = |a: &str, lat: &str, lng: &str| RawValue::Location {
            address: a.into(),
            latitude: lat.into(),
            longitude: lng.into(),
        };
        let eiffel = parse_value(
            PropertyType::Location,
            &[],
            &raw("Champ de Mars, Paris", "48.8584", "2.2945"),
        )
        .unwrap()
        .unwrap();
        assert!(eiffel.map_url().unwrap().contains("mlat=48.8584"));
        assert!(eiffel.display(PropertyType::Location).contains("Paris"));
        assert!(
            parse_value(PropertyType::Location, &[], &raw("", "91", "0"))
                .unwrap_err()
                .contains("-90 and 90")
        );
        assert!(
            parse_value(PropertyType::Location, &[], &raw("", "45", ""))
                .unwrap_err()
                .contains("both")
        );
        assert!(parse_value(PropertyType::Location, &[], &raw("x", "north", "2")).is_err());
        assert_eq!(
            parse_value(PropertyType::Location, &[], &raw("", "", "")).unwrap(),
            None
        );
        let only_address =
            parse_value(PropertyType::Location, &[], &RawValue::One("Zagreb".into()))
                .unwrap()
                .unwrap();
        assert!(
            only_address
                .map_url()
                .unwrap()
                .contains("search?query=Zagreb")
        );
    }

    #[test]
    fn emails_need_a_real_domain() {
        assert_eq!(
            accepted(PropertyType::Email, "Ada@Example.COM").form_text(),
            "Ada@example.com"
        );
        round_trips(
            PropertyType::Email,
            &[],
            &accepted(PropertyType::Email, "john.doe+vip@mail.example.org"),
        );
        for bad in [
            "a@b",
            "plainaddress",
            "@example.com",
            "a@.com",
            "a b@example.com",
            "a@example.c",
        ] {
            assert!(
                one(PropertyType::Email, bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn phones_are_stored_in_e164() {
        assert_eq!(
            accepted(PropertyType::Phone, "+1 (555) 123-4567").form_text(),
            accepted(PropertyType::Phone, "+15551234567").form_text()
        );
        assert_eq!(
            accepted(PropertyType::Phone, "+385 91 234 5678").form_text(),
            "+385912345678"
        );
        assert_eq!(
            accepted(PropertyType::Phone, "00385 91 234 5678").form_text(),
            "+385912345678"
        );
        round_trips(
            PropertyType::Phone,
            &[],
            &accepted(PropertyType::Phone, "+44 20 7946 0958"),
        );
        for bad in ["hello", "12", "555-1234", "+999 123"] {
            assert!(
                one(PropertyType::Phone, bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn phones_are_read_in_the_forms_people_paste_them() {
        for typed in [
            "tel:+4915123456789",
            "TEL:+49-1512-3456789",
            "(+49) 1512 3456789",
            "+٤٩١٥١٢٣٤٥٦٧٨٩",
            "+۴۹۱۵۱۲۳۴۵۶۷۸۹",
            "＋４９ １５１２ ３４５６７８９",
        ] {
            assert_eq!(
                accepted(PropertyType::Phone, typed).form_text(),
                "+4915123456789",
                "{typed}"
            );
        }
        let doubled = one(PropertyType::Phone, "++4915123456789").expect_err("refused");
        assert!(doubled.contains("one +"), "{doubled}");
        let extension = one(PropertyType::Phone, "+1 555 123 4567 ext. 89").expect_err("refused");
        assert!(extension.contains("Extensions"), "{extension}");
    }

    #[test]
    fn countries_and_languages_use_iso_codes() {
        assert_eq!(accepted(PropertyType::Country, "hr").form_text(), "HR");
        assert_eq!(accepted(PropertyType::Country, "Croatia").form_text(), "HR");
        assert!(one(PropertyType::Country, "Atlantis").is_err());
        assert_eq!(accepted(PropertyType::Language, "EN").form_text(), "en");
        assert_eq!(accepted(PropertyType::Language, "German").form_text(), "de");
        assert!(one(PropertyType::Language, "xx").is_err());
        assert!(
            accepted(PropertyType::Language, "fr")
                .display(PropertyType::Language)
                .contains("French")
        );
        assert!(countries().len() > 200);
        assert!(languages().len() > 150);
    }

    #[test]
    fn technical_names_follow_the_rule_and_say_why_not() {
        assert_eq!(
            TechnicalName::parse("loyalty_tier").unwrap().as_str(),
            "loyalty_tier"
        );
        assert!(
            TechnicalName::parse("loyalty tier")
                .unwrap_err()
                .contains("spaces")
        );
        assert!(
            TechnicalName::parse("LoyaltyTier")
                .unwrap_err()
                .contains("lower-case")
        );
        assert!(
            TechnicalName::parse("1tier")
                .unwrap_err()
                .contains("starts with a letter")
        );
        assert!(TechnicalName::parse("tier-1").is_err());
        assert!(TechnicalName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn choice_lists_refuse_duplicates_and_empties() {
        assert_eq!(
            parse_choices("Bronze\n\nSilver\r\nGold\n").unwrap(),
            vec!["Bronze", "Silver", "Gold"]
        );
        assert!(parse_choices("Gold\ngold").unwrap_err().contains("twice"));
        assert!(parse_choices("  \n").is_err());
    }

    #[test]
    fn values_survive_history_serialisation() {
        let value = Value::Location {
            address: "Paris".into(),
            latitude: Some(48.85),
            longitude: Some(2.29),
        };
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), value);
    }
}
