//! Which column feeds what: the targets a column can have, guessed from its header.

use std::io::Read;

use crate::db::properties::Property;
use crate::domain::channel::Channel;
use crate::domain::property::PropertyKind;
use crate::domain::search::fold;

/// What a column feeds.
pub mod target {
    pub const SKIP: &str = "";
    pub const CUSTOMER_ID: &str = "customer_id";
    pub const LIFECYCLE: &str = "lifecycle";
    pub const TAGS: &str = "tags";
    pub const IDENTITIES: &str = "identities";
    pub const FIRST_NAME: &str = "first_name";
    pub const LAST_NAME: &str = "last_name";
    /// `property:<key>`.
    pub const PROPERTY: &str = "property:";
    /// `identity:<channel>`.
    pub const IDENTITY: &str = "identity:";
}

/// Common header names from other tools, folded, and what they mean here.
const SYNONYMS: [(&str, &str); 27] = [
    ("full name", "property:name"),
    ("fullname", "property:name"),
    ("customer name", "property:name"),
    ("contact name", "property:name"),
    ("first name", "first_name"),
    ("firstname", "first_name"),
    ("given name", "first_name"),
    ("last name", "last_name"),
    ("lastname", "last_name"),
    ("surname", "last_name"),
    ("family name", "last_name"),
    ("e mail", "property:email"),
    ("email address", "property:email"),
    ("mail", "property:email"),
    ("phone number", "property:phone"),
    ("mobile", "property:phone"),
    ("mobile phone", "property:phone"),
    ("telephone", "property:phone"),
    ("tel", "property:phone"),
    ("organization", "property:company"),
    ("organisation", "property:company"),
    ("company name", "property:company"),
    ("town", "property:city"),
    ("identifier", "customer_id"),
    ("customer id", "customer_id"),
    ("labels", "tags"),
    ("lifecycle stage", "lifecycle"),
];

/// Guesses the target of a header cell: a property's technical name or label, a common
/// name from other tools, a channel name (an identity on it), or nothing.
pub fn guess_target(header: &str, registry: &[Property]) -> String {
    let folded = fold(header);
    let key_like = folded.replace(' ', "_");
    if let Some(p) = registry.iter().find(|p| {
        p.kind != PropertyKind::Computed && (p.key == key_like || fold(&p.label) == folded)
    }) {
        return format!("{}{}", target::PROPERTY, p.key);
    }
    for fixed in [
        target::CUSTOMER_ID,
        target::LIFECYCLE,
        target::TAGS,
        target::IDENTITIES,
    ] {
        if key_like == fixed {
            return fixed.to_owned();
        }
    }
    // "E-mail Address", "email address" and "EmailAddress" are one name.
    let compact = folded.replace(' ', "");
    if let Some((_, found)) = SYNONYMS
        .iter()
        .find(|(name, _)| name.replace(' ', "") == compact)
    {
        return (*found).to_owned();
    }
    if let Ok(channel) = key_like.parse::<Channel>()
        && !matches!(channel.as_str(), "email" | "phone")
    {
        return format!("{}{}", target::IDENTITY, channel.as_str());
    }
    target::SKIP.to_owned()
}

/// Reads the first line of an upload: the field separator (`,` or `;`, whichever the
/// header has more of) and the header cells. A UTF-8 BOM is skipped.
pub fn read_header(path: &std::path::Path) -> Result<(u8, Vec<String>), String> {
    let mut file =
        std::fs::File::open(path).map_err(|_| "The file could not be read.".to_owned())?;
    let mut start = [0_u8; 4096];
    let read = file
        .read(&mut start)
        .map_err(|_| "The file could not be read.".to_owned())?;
    let start = &start[..read];
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let line = start.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| line.iter().filter(|b| **b == c).count();
    let delimiter = if count(b';') > count(b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(start);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        _ => return Err("The first line must name the columns (UTF-8 text).".to_owned()),
    }
    let headers: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
    if headers.iter().all(String::is_empty) {
        return Err("The first line must name the columns.".to_owned());
    }
    Ok((delimiter, headers))
}

/// What a column can feed, for the selects.
pub fn targets(registry: &[Property]) -> Vec<(String, String)> {
    let mut choices = vec![(target::SKIP.to_owned(), "— skip this column —".to_owned())];
    for p in registry.iter().filter(|p| p.kind != PropertyKind::Computed) {
        choices.push((format!("{}{}", target::PROPERTY, p.key), p.label.clone()));
    }
    for (value, label) in [
        (target::FIRST_NAME, "First name (joined into Name)"),
        (target::LAST_NAME, "Last name (joined into Name)"),
        (target::CUSTOMER_ID, "Customer ID (to match)"),
        (target::LIFECYCLE, "Lifecycle stage"),
        (target::TAGS, "Tags (separated by ; or ,)"),
        (target::IDENTITIES, "Identities (channel:id; …)"),
    ] {
        choices.push((value.to_owned(), label.to_owned()));
    }
    for channel in crate::domain::channel::Channel::ALL {
        choices.push((
            format!("{}{}", target::IDENTITY, channel.as_str()),
            format!("{} identity", channel.label()),
        ));
    }
    choices
}
