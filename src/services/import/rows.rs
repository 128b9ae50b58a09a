//! One row: its cells read and checked on their own, before anything is written.

use crate::db::imports::Import;
use crate::db::properties::Property;
use crate::db::tags::Tag;
use crate::domain::Role;
use crate::domain::customer::{Actor, Lifecycle, MatchKey};
use crate::domain::property::RawValue;
use crate::error::AppError;
use crate::services::profiles::{Editor, ProfileEdit};

use super::target;

/// What one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Why a row was refused: the column (header) and a reason.
pub(super) struct Refused(pub(super) String, pub(super) String);

/// A refusal or a failure that stops the job.
pub(super) enum RowError {
    Refused(Refused),
    Failed(AppError),
}

impl From<Refused> for RowError {
    fn from(refused: Refused) -> Self {
        RowError::Refused(refused)
    }
}

impl From<AppError> for RowError {
    fn from(error: AppError) -> Self {
        RowError::Failed(error)
    }
}

impl From<diesel::result::Error> for RowError {
    fn from(error: diesel::result::Error) -> Self {
        RowError::Failed(error.into())
    }
}

/// A cell as written, without the apostrophe an export puts before formula-like text.
pub(super) fn cell_text(cell: &str) -> &str {
    let trimmed = cell.trim();
    match trimmed.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => trimmed,
    }
}

/// An import writes as a supervisor would.
pub(super) const EDITOR: Editor = Editor::Staff(Role::Supervisor);

/// Everything a batch needs that does not change between rows.
pub(super) struct Context<'a> {
    pub(super) import: &'a Import,
    pub(super) headers: Vec<String>,
    pub(super) targets: Vec<String>,
    pub(super) keys: Vec<MatchKey>,
    pub(super) registry: &'a [Property],
    pub(super) tags: Vec<Tag>,
    pub(super) actor: Actor,
}

impl Context<'_> {
    /// The header of the column mapped to a property, or the property's key.
    pub(super) fn header_of(&self, key: &str) -> String {
        self.headers
            .iter()
            .zip(&self.targets)
            .find(|(_, t)| t.strip_prefix(target::PROPERTY) == Some(key))
            .map_or_else(|| key.to_owned(), |(h, _)| h.clone())
    }

    /// The tag with this name, whatever its case.
    pub(super) fn tag(&self, name: &str) -> Option<&Tag> {
        self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// A refusal naming every field the profile service refused.
    pub(super) fn refusal_of(&self, error: AppError) -> RowError {
        match error {
            AppError::Invalid(errors) => {
                let named: Vec<(String, String)> = errors
                    .0
                    .iter()
                    .map(|e| (self.header_of(&e.field), e.message.clone()))
                    .collect();
                RowError::Refused(combined(&named))
            }
            AppError::Forbidden => RowError::Refused(Refused(
                String::new(),
                "A column maps to a property that cannot be imported.".to_owned(),
            )),
            other => RowError::Failed(other),
        }
    }
}

/// One refusal for every problem of a row: their columns, and each column's reason
/// ("email: …; phone: …" when there are several).
pub(super) fn combined(problems: &[(String, String)]) -> Refused {
    match problems {
        [] => Refused(String::new(), "Refused.".to_owned()),
        [(column, message)] => Refused(column.clone(), message.clone()),
        several => {
            let mut columns: Vec<&str> = several.iter().map(|(c, _)| c.as_str()).collect();
            columns.dedup();
            Refused(
                columns.join(", "),
                several
                    .iter()
                    .map(|(c, m)| format!("{c}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        }
    }
}

pub(super) fn refuse<T>(column: &str, reason: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(column.to_owned(), reason.into()))
}

/// A value that identifies a customer: which key (`customer_id`, `email`, `phone`), the
/// column it came from, and the value as stored.
pub(super) struct Key {
    pub(super) kind: MatchKey,
    pub(super) header: String,
    pub(super) value: String,
}

impl Key {
    /// How the job remembers it: keys compare without case.
    pub(super) fn stored(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.value.to_lowercase())
    }

    /// The value as the customer lookup compares it.
    pub(super) fn lookup(&self) -> String {
        self.kind.lookup_form(&self.value)
    }
}

/// A row read and checked on its own, not applied yet.
pub(super) struct Parsed<'r> {
    pub(super) row: i64,
    pub(super) cells: &'r [String],
    pub(super) edit: ProfileEdit,
    /// (column, tag name).
    pub(super) tags: Vec<(String, String)>,
    /// (column, channel, external id), as typed.
    pub(super) identities: Vec<(String, String, String)>,
    /// In the order of [`MatchKey::ALL`].
    pub(super) keys: Vec<Key>,
}

/// Reads one row's cells into an edit, tags, identities and keys; refuses what can be
/// told wrong from the row alone.
pub(super) fn parse_row<'r>(
    ctx: &Context<'_>,
    row: i64,
    cells: &'r [String],
) -> Result<Parsed<'r>, Refused> {
    if cells.len() != ctx.headers.len() {
        return refuse(
            "",
            format!(
                "The row has {} cells; the header has {}.",
                cells.len(),
                ctx.headers.len()
            ),
        );
    }
    let mut parsed = Parsed {
        row,
        cells,
        edit: ProfileEdit::default(),
        tags: Vec::new(),
        identities: Vec::new(),
        keys: Vec::new(),
    };
    // Every problem of the row is reported at once, so one round of fixes is enough.
    let mut problems: Vec<(String, String)> = Vec::new();
    let (mut first, mut last) = (None, None);
    for ((header, target), cell) in ctx.headers.iter().zip(&ctx.targets).zip(cells) {
        let text = cell_text(cell);
        if text.is_empty() {
            continue;
        }
        match target.as_str() {
            target::SKIP => {}
            target::CUSTOMER_ID => parsed.keys.push(Key {
                kind: MatchKey::CustomerId,
                header: header.clone(),
                value: text.to_uppercase(),
            }),
            target::LIFECYCLE => {
                let stage = Lifecycle::ALL
                    .into_iter()
                    .find(|l| l.as_str() == text || l.label().eq_ignore_ascii_case(text));
                match stage {
                    Some(stage) => parsed.edit.lifecycle = Some(stage.as_str().to_owned()),
                    None => problems.push((
                        header.clone(),
                        format!("{text:?} is not a lifecycle stage."),
                    )),
                }
            }
            target::TAGS => {
                for name in text
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                {
                    parsed.tags.push((header.clone(), name.to_owned()));
                }
            }
            target::IDENTITIES => {
                for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let Some((channel, id)) = pair.split_once(':') else {
                        problems.push((header.clone(), format!("{pair:?} is not channel:id.")));
                        continue;
                    };
                    parsed.identities.push((
                        header.clone(),
                        channel.trim().to_owned(),
                        id.trim().to_owned(),
                    ));
                }
            }
            target::FIRST_NAME => first = Some(text.to_owned()),
            target::LAST_NAME => last = Some(text.to_owned()),
            other => {
                if let Some(channel) = other.strip_prefix(target::IDENTITY) {
                    parsed
                        .identities
                        .push((header.clone(), channel.to_owned(), text.to_owned()));
                } else if let Some(key) = other.strip_prefix(target::PROPERTY) {
                    parsed
                        .edit
                        .values
                        .push((key.to_owned(), RawValue::One(text.to_owned())));
                }
            }
        }
    }
    if first.is_some() || last.is_some() {
        let name = [first, last]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        parsed
            .edit
            .values
            .push(("name".to_owned(), RawValue::One(name)));
    }
    // Each value read by its type here, so a row's every bad value is named together.
    for (key, raw) in &parsed.edit.values {
        if let Some(property) = ctx.registry.iter().find(|p| &p.key == key)
            && let Err(message) =
                crate::domain::property::parse_value(property.ty, &property.choices, raw)
        {
            problems.push((ctx.header_of(key), message));
        }
    }
    if !problems.is_empty() {
        return Err(combined(&problems));
    }
    // Keys as stored, so "the same key" means the same customer.
    for kind in [MatchKey::Email, MatchKey::Phone] {
        let name = kind.as_str();
        let raw = parsed.edit.values.iter().find(|(k, _)| k == name);
        let property = ctx.registry.iter().find(|p| p.key == name);
        if let (Some((_, raw)), Some(property)) = (raw, property)
            && let Ok(Some(value)) = crate::domain::property::parse_value(property.ty, &[], raw)
        {
            parsed.keys.push(Key {
                kind,
                header: ctx.header_of(name),
                value: value.form_text(),
            });
        }
    }
    Ok(parsed)
}
