//! Staff account fields: usernames, display names, passwords and time zones.

use std::fmt;

/// A sign-in name: 3–40 of `a-z 0-9 . _ -`, stored lower-cased so it is unique whatever the
/// case it is typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses what a person typed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().to_lowercase();
        if name.len() < 3 || name.len() > 40 {
            return Err("A username has 3 to 40 characters.".to_owned());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(
                "A username uses only letters a–z, digits, dots, dashes and underscores."
                    .to_owned(),
            );
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown to colleagues: 1–80 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses what a person typed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Enter the name colleagues will see.".to_owned());
        }
        if name.chars().count() > 80 {
            return Err("A display name has at most 80 characters.".to_owned());
        }
        if name.chars().any(char::is_control) {
            return Err("A display name cannot contain control characters.".to_owned());
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as typed, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 10 to 128 characters. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Minimum length in characters.
    pub const MIN: usize = 10;
    /// Maximum length in characters (argon2 cost stays bounded).
    pub const MAX: usize = 128;

    /// Checks the policy.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < Self::MIN {
            return Err(format!("A password has at least {} characters.", Self::MIN));
        }
        if length > Self::MAX {
            return Err(format!("A password has at most {} characters.", Self::MAX));
        }
        if raw.trim().is_empty() {
            return Err("A password cannot be only spaces.".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// An IANA time zone name such as `Europe/Zagreb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

/// Every IANA time zone name, for the pickers (a list the browser filters as one types).
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

impl TimeZone {
    /// Parses an IANA name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            "Use a time zone name such as Europe/London or America/New_York.".to_owned()
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_limited() {
        assert_eq!(
            Username::parse(" Ana.Kovac ").unwrap().as_str(),
            "ana.kovac"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("two words").is_err());
        assert!(Username::parse("ümlaut").is_err());
        assert!(Username::parse(&"a".repeat(41)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ana  ").unwrap().as_str(), "Ana");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn passwords_follow_the_policy_and_hide_in_debug() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&" ".repeat(12)).is_err());
        assert!(NewPassword::parse(&"p".repeat(129)).is_err());
        let ok = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{ok:?}").contains("horse"));
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse("Europe/Zagreb").unwrap().name(),
            "Europe/Zagreb"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }
}
