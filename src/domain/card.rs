//! The customer context card's rules.

/// At most this many attributes are shown at once (the rest go under "See more").
pub const MAX_BASIC: usize = 5;

/// Where an attribute sits on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Shown at once.
    Basic,
    /// Under "See more".
    Additional,
}

impl Section {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Basic => "basic",
            Section::Additional => "additional",
        }
    }

    /// Parses a stored or submitted value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "basic" => Ok(Section::Basic),
            "additional" => Ok(Section::Additional),
            _ => Err("Choose basic or additional.".to_owned()),
        }
    }
}

/// Whether agents may edit an attribute on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read-only.
    View,
    /// Editable in place.
    Edit,
}

impl Mode {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::View => "view",
            Mode::Edit => "edit",
        }
    }

    /// Parses a stored or submitted value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "view" => Ok(Mode::View),
            "edit" => Ok(Mode::Edit),
            _ => Err("Choose view or edit.".to_owned()),
        }
    }
}

impl TryFrom<String> for Section {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Section::parse(&raw)
    }
}

impl TryFrom<String> for Mode {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Mode::parse(&raw)
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks the number of basic attributes.
pub fn check_basic_count(basic: usize) -> Result<(), String> {
    if basic > MAX_BASIC {
        Err(format!(
            "At most {MAX_BASIC} attributes can be basic (shown at once); you chose {basic}. Make the others additional — they appear under \"See more\"."
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_five_basic_attributes() {
        assert!(check_basic_count(5).is_ok());
        assert!(check_basic_count(6).unwrap_err().contains("you chose 6"));
        assert_eq!(Section::parse("basic"), Ok(Section::Basic));
        assert!(Mode::parse("write").is_err());
    }
}
