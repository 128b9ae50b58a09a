//! Customers: lifecycle stages, who changed what, and the public customer ID.

use std::fmt;
use std::str::FromStr;

/// Where a customer is in their relationship with the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// New contact.
    Prospect,
    /// Made a first purchase.
    Customer,
    /// Regular engagement.
    Active,
    /// Declining activity.
    AtRisk,
    /// No recent activity.
    Churned,
    /// High-value customer.
    Vip,
}

impl Lifecycle {
    /// Every stage, in journey order.
    pub const ALL: [Lifecycle; 6] = [
        Lifecycle::Prospect,
        Lifecycle::Customer,
        Lifecycle::Active,
        Lifecycle::AtRisk,
        Lifecycle::Churned,
        Lifecycle::Vip,
    ];

    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Prospect => "prospect",
            Lifecycle::Customer => "customer",
            Lifecycle::Active => "active",
            Lifecycle::AtRisk => "at_risk",
            Lifecycle::Churned => "churned",
            Lifecycle::Vip => "vip",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Lifecycle::Prospect => "Prospect",
            Lifecycle::Customer => "Customer",
            Lifecycle::Active => "Active",
            Lifecycle::AtRisk => "At Risk",
            Lifecycle::Churned => "Churned",
            Lifecycle::Vip => "VIP",
        }
    }
}

impl FromStr for Lifecycle {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Lifecycle::ALL
            .into_iter()
            .find(|l| l.as_str() == wanted)
            .ok_or_else(|| {
                "Choose one of Prospect, Customer, Active, At Risk, Churned or VIP.".to_owned()
            })
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who made a change, for History.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff member.
    User {
        /// Their account id.
        id: i64,
        /// Their display name at the time.
        name: String,
    },
    /// The customer, through the self-service page.
    Customer,
    /// An API token.
    Integration {
        /// The token's name.
        name: String,
    },
    /// Clientele itself (channels, imports, merges).
    System,
    /// A lifecycle rule (stored as the system, named after the rule).
    Rule {
        /// The rule's name.
        name: String,
    },
}

impl Actor {
    /// Stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::Customer => "customer",
            Actor::Integration { .. } => "integration",
            Actor::System | Actor::Rule { .. } => "system",
        }
    }

    /// Stored user id, for staff.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The name History shows.
    pub fn name(&self) -> String {
        match self {
            Actor::User { name, .. } => name.clone(),
            Actor::Customer => "Customer".to_owned(),
            Actor::Integration { name } => format!("Integration {name}"),
            Actor::System => "Clientele".to_owned(),
            Actor::Rule { name } => format!("rule “{name}”"),
        }
    }
}

/// The public customer ID for an internal row id: `C` and at least seven digits. Rows are
/// never reused (AUTOINCREMENT / identity), so neither is the public ID.
pub fn public_id_for(row_id: i64) -> String {
    format!("C{row_id:07}")
}

/// `text` as a customer ID, when it is written like one (`C` and digits, in either case):
/// upper-cased, as stored.
pub fn typed_public_id(text: &str) -> Option<String> {
    let upper = text.trim().to_uppercase();
    let digits = upper.strip_prefix('C')?;
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then_some(upper)
}

/// Tag colours a supervisor can pick from (readable as a pill with white text).
pub const TAG_COLORS: [(&str, &str); 8] = [
    ("#2456d6", "Blue"),
    ("#1f7a4d", "Green"),
    ("#9a6200", "Amber"),
    ("#c0352b", "Red"),
    ("#7a3db8", "Purple"),
    ("#0f766e", "Teal"),
    ("#be185d", "Pink"),
    ("#4b5563", "Grey"),
];

/// The CSS class of a tag colour (`tag-blue`, …); inline styles are not allowed by the CSP.
pub fn tag_class(color: &str) -> &'static str {
    match TAG_COLORS
        .iter()
        .position(|(hex, _)| hex.eq_ignore_ascii_case(color))
    {
        Some(0) => "tag-blue",
        Some(1) => "tag-green",
        Some(2) => "tag-amber",
        Some(3) => "tag-red",
        Some(4) => "tag-purple",
        Some(5) => "tag-teal",
        Some(6) => "tag-pink",
        _ => "tag-grey",
    }
}

/// A tag name: 1–40 characters.
pub fn parse_tag_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a tag name.".to_owned());
    }
    if name.chars().count() > 40 {
        return Err("A tag name has at most 40 characters.".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("A tag name cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// A colour from [`TAG_COLORS`].
pub fn parse_tag_color(raw: &str) -> Result<String, String> {
    TAG_COLORS
        .iter()
        .find(|(hex, _)| hex.eq_ignore_ascii_case(raw.trim()))
        .map(|(hex, _)| (*hex).to_owned())
        .ok_or_else(|| "Choose one of the listed colours.".to_owned())
}

/// A note: 1–5,000 characters.
pub fn parse_note(raw: &str) -> Result<String, String> {
    let body = raw.trim();
    if body.is_empty() {
        return Err("Write something before adding the note.".to_owned());
    }
    if body.chars().count() > 5000 {
        return Err("A note has at most 5,000 characters.".to_owned());
    }
    Ok(body.to_owned())
}

/// A value that points at one customer, when exactly one holds it: what an import row
/// matches on, and how a new channel contact is linked automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKey {
    /// The public customer ID.
    CustomerId,
    /// The e-mail address, compared without case.
    Email,
    /// The phone number in E.164.
    Phone,
}

impl MatchKey {
    /// Every key, in the order an import tries them.
    pub const ALL: [MatchKey; 3] = [MatchKey::CustomerId, MatchKey::Email, MatchKey::Phone];

    /// The stored name (an import's chosen keys).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKey::CustomerId => "customer_id",
            MatchKey::Email => "email",
            MatchKey::Phone => "phone",
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            MatchKey::CustomerId => "Customer ID",
            MatchKey::Email => "E-mail",
            MatchKey::Phone => "Phone",
        }
    }

    /// The key a contact on this channel can be linked by: its phone or e-mail.
    pub fn of_channel(channel: super::channel::Channel) -> Option<MatchKey> {
        if channel.is_phone() {
            Some(MatchKey::Phone)
        } else if channel == super::channel::Channel::Email {
            Some(MatchKey::Email)
        } else {
            None
        }
    }

    /// The value as lookups compare it: e-mails without case, the rest as stored.
    pub fn lookup_form(self, value: &str) -> String {
        match self {
            MatchKey::Email => value.to_lowercase(),
            MatchKey::CustomerId | MatchKey::Phone => value.to_owned(),
        }
    }
}

impl std::str::FromStr for MatchKey {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        MatchKey::ALL
            .into_iter()
            .find(|key| key.as_str() == raw)
            .ok_or_else(|| format!("unknown match key {raw:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_stages_parse_from_labels_and_codes() {
        assert_eq!("At Risk".parse::<Lifecycle>(), Ok(Lifecycle::AtRisk));
        assert_eq!("vip".parse::<Lifecycle>(), Ok(Lifecycle::Vip));
        for stage in Lifecycle::ALL {
            assert_eq!(stage.as_str().parse::<Lifecycle>(), Ok(stage));
        }
        assert!("lead".parse::<Lifecycle>().is_err());
    }

    #[test]
    fn public_ids_are_padded_and_grow() {
        assert_eq!(public_id_for(12), "C0000012");
        assert_eq!(public_id_for(123_456_789), "C123456789");
    }

    #[test]
    fn tags_and_notes_are_bounded() {
        assert!(parse_tag_name(" ").is_err());
        assert!(parse_tag_name(&"x".repeat(41)).is_err());
        assert_eq!(parse_tag_color("#2456D6").unwrap(), "#2456d6");
        assert!(parse_tag_color("#000000").is_err());
        assert!(parse_note("").is_err());
        assert!(parse_note(&"n".repeat(5001)).is_err());
    }
}
