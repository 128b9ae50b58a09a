//! CSV import: reading the header, mapping columns to properties, and applying rows in the
//! background. Each row is all-or-nothing (a savepoint); a refused row is recorded with its
//! row number, column and reason. A dry run is the same work rolled back batch by batch,
//! so its counts are exactly what the import would do. The job's cursor is the byte offset
//! of the next row, committed with each batch: a restart resumes there.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use diesel::QueryResult;

use serde::{Deserialize, Serialize};

use crate::db::customers::{self, Customer};
use crate::db::imports::{self, Import, Refusal};
use crate::db::jobs::{self, Job, Progress};
use crate::db::properties::Property;
use crate::db::tags::{self, Tag};
use crate::db::types::{CustomerId, PropertyId, TagId};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::domain::channel::Channel;
use crate::domain::customer::{Actor, Lifecycle, MatchKey};
use crate::domain::property::{PropertyKind, RawValue, Value};
use crate::domain::search::fold;
use crate::error::AppError;
use crate::services::conversations;
use crate::services::profiles::{self, EditOutcome, Editor, NewProfile, ProfileEdit};

/// Kinds of the import jobs.
pub const DRY_RUN: &str = "import_dry_run";
/// The real import.
pub const RUN: &str = "import";

/// Rows per transaction. SQLite has one writer, which everyone else waits for while a
/// batch commits: short batches (~0.1 s) there. PostgreSQL writers do not wait on each
/// other, and fewer, larger batches cost fewer round trips.
fn batch_rows(conn: &DbConnection) -> usize {
    match conn {
        DbConnection::Sqlite(_) => 500,
        DbConnection::Postgresql(_) => 2_000,
    }
}

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

/// An import job's parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportParams {
    pub import_id: i64,
    pub dry_run: bool,
    pub user_id: i64,
    pub user_name: String,
}

/// What one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Why a row was refused: the column (header) and a reason.
struct Refused(String, String);

/// A refusal or a failure that stops the job.
enum RowError {
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
fn cell_text(cell: &str) -> &str {
    let trimmed = cell.trim();
    match trimmed.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => trimmed,
    }
}

/// An import writes as a supervisor would.
const EDITOR: Editor = Editor::Staff(Role::Supervisor);

/// Everything a batch needs that does not change between rows.
struct Context<'a> {
    import: &'a Import,
    headers: Vec<String>,
    targets: Vec<String>,
    keys: Vec<MatchKey>,
    registry: &'a [Property],
    tags: Vec<Tag>,
    actor: Actor,
}

impl Context<'_> {
    /// The header of the column mapped to a property, or the property's key.
    fn header_of(&self, key: &str) -> String {
        self.headers
            .iter()
            .zip(&self.targets)
            .find(|(_, t)| t.strip_prefix(target::PROPERTY) == Some(key))
            .map_or_else(|| key.to_owned(), |(h, _)| h.clone())
    }

    /// The tag with this name, whatever its case.
    fn tag(&self, name: &str) -> Option<&Tag> {
        self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// A refusal naming the column of the first field the profile service refused.
    fn refusal_of(&self, error: AppError) -> RowError {
        match error {
            AppError::Invalid(errors) => {
                let first = errors.0.first();
                let column = first.map(|e| self.header_of(&e.field)).unwrap_or_default();
                RowError::Refused(Refused(
                    column,
                    first.map_or("Refused.".to_owned(), |e| e.message.clone()),
                ))
            }
            AppError::Forbidden => RowError::Refused(Refused(
                String::new(),
                "A column maps to a property that cannot be imported.".to_owned(),
            )),
            other => RowError::Failed(other),
        }
    }
}

fn refuse<T>(column: &str, reason: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(column.to_owned(), reason.into()))
}

/// A value that identifies a customer: which key (`customer_id`, `email`, `phone`), the
/// column it came from, and the value as stored.
struct Key {
    kind: MatchKey,
    header: String,
    value: String,
}

impl Key {
    /// How the job remembers it: keys compare without case.
    fn stored(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.value.to_lowercase())
    }

    /// The value as the customer lookup compares it.
    fn lookup(&self) -> String {
        self.kind.lookup_form(&self.value)
    }
}

/// A row read and checked on its own, not applied yet.
struct Parsed<'r> {
    row: i64,
    cells: &'r [String],
    edit: ProfileEdit,
    /// (column, tag name).
    tags: Vec<(String, String)>,
    /// (column, channel, external id), as typed.
    identities: Vec<(String, String, String)>,
    /// In the order of [`MatchKey::ALL`].
    keys: Vec<Key>,
}

/// Reads one row's cells into an edit, tags, identities and keys; refuses what can be
/// told wrong from the row alone.
fn parse_row<'r>(ctx: &Context<'_>, row: i64, cells: &'r [String]) -> Result<Parsed<'r>, Refused> {
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
                    None => return refuse(header, format!("{text:?} is not a lifecycle stage.")),
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
                        return refuse(header, format!("{pair:?} is not channel:id."));
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
    // Keys as stored, so "the same key" means the same customer.
    for kind in [MatchKey::Email, MatchKey::Phone] {
        let name = kind.as_str();
        let raw = parsed.edit.values.iter().find(|(k, _)| k == name);
        let property = ctx.registry.iter().find(|p| p.key == name);
        if let (Some((_, raw)), Some(property)) = (raw, property) {
            match crate::domain::property::parse_value(property.ty, &[], raw) {
                Ok(Some(value)) => parsed.keys.push(Key {
                    kind,
                    header: ctx.header_of(name),
                    value: value.form_text(),
                }),
                Ok(None) => {}
                Err(message) => return refuse(&ctx.header_of(name), message),
            }
        }
    }
    Ok(parsed)
}

/// The customers the batch's keys point at, one query per kind of key: by (kind, value as
/// looked up), every customer holding it.
fn find_matches(
    conn: &mut DbConnection,
    kinds: &[MatchKey],
    rows: &[&Parsed<'_>],
) -> QueryResult<HashMap<(MatchKey, String), Vec<CustomerId>>> {
    let mut found: HashMap<(MatchKey, String), Vec<CustomerId>> = HashMap::new();
    for kind in MatchKey::ALL {
        if !kinds.contains(&kind) {
            continue;
        }
        let values: Vec<String> = rows
            .iter()
            .flat_map(|p| p.keys.iter())
            .filter(|key| key.kind == kind)
            .map(Key::lookup)
            .collect();
        for chunk in values.chunks(10_000) {
            for (value, id) in customers::list_by_key(conn, kind, chunk)? {
                if let Some(value) = value {
                    let holders = found.entry((kind, value)).or_default();
                    if !holders.contains(&id) {
                        holders.push(id);
                    }
                }
            }
        }
    }
    Ok(found)
}

/// Applies one row the general way, through the profile service, in its own savepoint:
/// an edit of `matched`, or a new customer; then its tags and identities.
fn apply_one(
    conn: &mut DbConnection,
    ctx: &mut Context<'_>,
    parsed: &Parsed<'_>,
    matched: Option<CustomerId>,
) -> Result<Outcome, RowError> {
    db::transaction(conn, |conn| -> Result<Outcome, RowError> {
        let (customer, mut outcome) = match matched {
            Some(existing) => {
                let result = profiles::edit_customer(
                    conn,
                    existing,
                    ctx.registry,
                    None,
                    &ctx.actor,
                    EDITOR,
                    &parsed.edit,
                )
                .map_err(|e| ctx.refusal_of(e))?;
                let outcome = match result {
                    EditOutcome::Saved(n) if n > 0 => Outcome::Updated,
                    _ => Outcome::Unchanged,
                };
                (existing, outcome)
            }
            None => {
                let created =
                    profiles::create_customer(conn, ctx.registry, &ctx.actor, EDITOR, &parsed.edit)
                        .map_err(|e| ctx.refusal_of(e))?;
                (created.id, Outcome::Created)
            }
        };
        for (header, name) in &parsed.tags {
            let tag = match ctx.tag(name) {
                Some(tag) => tag.clone(),
                None if ctx.import.create_tags => {
                    tags::insert_tag(conn, name, crate::domain::customer::TAG_COLORS[0].0)?;
                    ctx.tags = tags::list_tags(conn)?;
                    ctx.tag(name).cloned().ok_or(AppError::NotFound)?
                }
                None => refuse(header, format!("No tag is called {name:?}."))?,
            };
            if profiles::set_tag(conn, customer, tag.id, true, &ctx.actor)?
                && outcome == Outcome::Unchanged
            {
                outcome = Outcome::Updated;
            }
        }
        for (header, channel, external) in &parsed.identities {
            // Compared as stored; a malformed one is refused by `add_identity` below.
            let (channel_key, external_key) = match conversations::check_identity(channel, external)
            {
                Ok((c, e)) => (c.as_str(), e),
                Err(_) => ("", String::new()),
            };
            let existing = crate::db::identities::find_identity(conn, channel_key, &external_key)?;
            if existing
                .as_ref()
                .is_some_and(|i| i.customer_id == Some(customer))
            {
                continue;
            }
            match conversations::add_identity(conn, customer, channel, external, &ctx.actor) {
                Ok(()) => {
                    if outcome == Outcome::Unchanged {
                        outcome = Outcome::Updated;
                    }
                }
                Err(AppError::Invalid(errors)) => {
                    let message = errors
                        .0
                        .first()
                        .map_or("Refused.".to_owned(), |e| e.message.clone());
                    refuse(header, message)?;
                }
                Err(AppError::Conflict(message)) => refuse(header, message)?,
                Err(other) => return Err(RowError::Failed(other)),
            }
        }
        Ok(outcome)
    })
}

/// What a matched customer holds, read once for the whole batch, so a row that would
/// change nothing is settled without a write.
struct Known {
    customer: Customer,
    custom: HashMap<PropertyId, Value>,
    tags: Vec<TagId>,
    /// (channel, external id).
    identities: Vec<(String, String)>,
}

/// Reads what these customers hold: four queries whatever their number.
fn load_known(
    conn: &mut DbConnection,
    registry: &[Property],
    ids: &[CustomerId],
) -> QueryResult<HashMap<CustomerId, Known>> {
    let mut custom = customers::list_custom_values_for(conn, ids, registry)?;
    let mut held = tags::list_tags_for_customers(conn, ids)?;
    let mut identities: HashMap<CustomerId, Vec<(String, String)>> = HashMap::new();
    for identity in crate::db::identities::list_identities_for(conn, ids)? {
        if let Some(owner) = identity.customer_id {
            identities
                .entry(owner)
                .or_default()
                .push((identity.channel, identity.external_id));
        }
    }
    Ok(customers::list_by_ids(conn, ids)?
        .into_iter()
        .map(|customer| {
            let id = customer.id;
            let known = Known {
                custom: custom.remove(&id).unwrap_or_default(),
                tags: held
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.id)
                    .collect(),
                identities: identities.remove(&id).unwrap_or_default(),
                customer,
            };
            (id, known)
        })
        .collect())
}

/// An identity to link: channel and external id, as stored.
type Link = (&'static str, String);

/// A row that creates a customer, checked, waiting to be written with the others.
struct Pending<'r, 'a> {
    parsed: Parsed<'r>,
    profile: NewProfile<'a>,
    links: Vec<Link>,
}

/// One batch of rows being applied, in file order. Rows that match nobody wait in
/// `pending` and are created together (a few statements for hundreds of customers);
/// anything else — a match, an identity that exists, a write the batch path refuses —
/// goes through [`apply_one`]. Pending rows are written before any row after them is
/// applied, so the outcome is the one row-by-row application would have.
struct Batch<'c, 'a, 'r> {
    ctx: &'c mut Context<'a>,
    progress: Progress,
    refusals: Vec<Refusal>,
    /// Keys from earlier batches, with their rows.
    claimed: HashMap<String, i64>,
    /// Keys of the rows accepted (or pending) in this batch, with their rows.
    accepted: HashMap<String, i64>,
    pending: Vec<Pending<'r, 'a>>,
    /// The identities of the pending rows.
    pending_links: std::collections::HashSet<Link>,
    /// Whether an applied row may have moved an e-mail or a phone from one customer to
    /// another: then the matches found at the start are checked again.
    keys_moved: bool,
    /// Matched customers as read at the start of the batch.
    known: HashMap<CustomerId, Known>,
    /// Matched customers written since (what `known` says of them is stale).
    touched: std::collections::HashSet<CustomerId>,
}

impl<'a, 'r> Batch<'_, 'a, 'r> {
    fn refuse(&mut self, row: i64, cells: &[String], Refused(column, reason): Refused) {
        self.progress.refused += 1;
        self.refusals.push(Refusal {
            row_number: row,
            column_name: column,
            reason,
            cells: serde_json::to_string(cells).unwrap_or_default(),
        });
        self.accepted.retain(|_, r| *r != row);
    }

    /// Counts what a row did, or records its refusal.
    fn settle(
        &mut self,
        parsed: &Parsed<'_>,
        result: Result<Outcome, RowError>,
    ) -> Result<(), AppError> {
        match result {
            Ok(Outcome::Created) => self.progress.created += 1,
            Ok(Outcome::Updated) => {
                self.progress.changed += 1;
                if parsed
                    .edit
                    .values
                    .iter()
                    .any(|(key, _)| key == "email" || key == "phone")
                {
                    self.keys_moved = true;
                }
            }
            Ok(Outcome::Unchanged) => {}
            Err(RowError::Refused(refused)) => self.refuse(parsed.row, parsed.cells, refused),
            Err(RowError::Failed(error)) => return Err(error),
        }
        Ok(())
    }

    /// Takes one row: refuses it, applies it, or adds it to the pending creations.
    fn take(
        &mut self,
        conn: &mut DbConnection,
        parsed: Parsed<'r>,
        matches: &HashMap<(MatchKey, String), Vec<CustomerId>>,
    ) -> Result<(), AppError> {
        // A second row with the same key in one file is refused, naming the first.
        for key in &parsed.keys {
            let stored = key.stored();
            if let Some(first) = self.claimed.get(&stored).or(self.accepted.get(&stored)) {
                let refused = Refused(
                    key.header.clone(),
                    format!("Same {} as row {first}.", key.kind.as_str()),
                );
                self.refuse(parsed.row, parsed.cells, refused);
                return Ok(());
            }
        }
        for key in &parsed.keys {
            self.accepted.insert(key.stored(), parsed.row);
        }
        let mut matched = None;
        for kind in &self.ctx.keys {
            let Some(key) = parsed.keys.iter().find(|k| k.kind == *kind) else {
                continue;
            };
            let found = if self.keys_moved {
                customers::find_by_key(conn, key.kind, &key.value)?
            } else {
                match matches.get(&(key.kind, key.lookup())) {
                    Some(holders) if holders.len() == 1 => holders.first().copied(),
                    _ => None,
                }
            };
            if found.is_some() {
                matched = found;
                break;
            }
        }
        if let Some(id) = matched {
            let unchanged = !self.touched.contains(&id)
                && self
                    .known
                    .get(&id)
                    .is_some_and(|known| self.changes_nothing(known, &parsed));
            if unchanged {
                return self.settle(&parsed, Ok(Outcome::Unchanged));
            }
            self.flush(conn)?;
            self.touched.insert(id);
            let result = apply_one(conn, self.ctx, &parsed, matched);
            return self.settle(&parsed, result);
        }
        let (profile, links) = match self.check_new(&parsed) {
            Ok(checked) => checked,
            Err(error) => return self.settle(&parsed, Err(error)),
        };
        let taken = links.iter().any(|link| self.pending_links.contains(link));
        if taken {
            // Two new customers with one identity: the second is refused as the general
            // path refuses it, naming the first.
            self.flush(conn)?;
            let result = apply_one(conn, self.ctx, &parsed, None);
            return self.settle(&parsed, result);
        }
        self.pending_links.extend(links.iter().cloned());
        self.pending.push(Pending {
            parsed,
            profile,
            links,
        });
        Ok(())
    }

    /// Whether applying a matched row would leave its customer as it is: the same values,
    /// tags held, identities linked.
    fn changes_nothing(&self, known: &Known, parsed: &Parsed<'_>) -> bool {
        profiles::changes_nothing(
            &known.customer,
            &known.custom,
            self.ctx.registry,
            EDITOR,
            &parsed.edit,
        ) && parsed.tags.iter().all(|(_, name)| {
            self.ctx
                .tag(name)
                .is_some_and(|t| known.tags.contains(&t.id))
        }) && parsed.identities.iter().all(|(_, channel, external)| {
            conversations::check_identity(channel, external).is_ok_and(|(c, e)| {
                known
                    .identities
                    .iter()
                    .any(|(kc, ke)| kc == c.as_str() && *ke == e)
            })
        })
    }

    /// Checks a row that creates a customer as [`apply_one`] would, writing nothing:
    /// its values, tags and identities (these as stored).
    fn check_new(&self, parsed: &Parsed<'_>) -> Result<(NewProfile<'a>, Vec<Link>), RowError> {
        let registry: &'a [Property] = self.ctx.registry;
        let profile = profiles::check_new(registry, EDITOR, &parsed.edit)
            .map_err(|e| self.ctx.refusal_of(e))?;
        for (header, name) in &parsed.tags {
            if self.ctx.tag(name).is_none() && !self.ctx.import.create_tags {
                refuse(header, format!("No tag is called {name:?}."))?;
            }
        }
        let mut links = Vec::with_capacity(parsed.identities.len());
        for (header, channel, external) in &parsed.identities {
            match conversations::check_identity(channel, external) {
                Ok((channel, external)) => {
                    if !links.contains(&(channel.as_str(), external.clone())) {
                        links.push((channel.as_str(), external));
                    }
                }
                Err(errors) => {
                    let message = errors
                        .0
                        .first()
                        .map_or("Refused.".to_owned(), |e| e.message.clone());
                    refuse(header, message)?;
                }
            }
        }
        Ok((profile, links))
    }

    /// Writes the pending creations: together when it can, else one by one.
    fn flush(&mut self, conn: &mut DbConnection) -> Result<(), AppError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_links.clear();
        // An identity that exists already is linked the general way (its conversations
        // move with it, or it is refused when it belongs to someone else).
        let pairs: Vec<(&str, &str)> = pending
            .iter()
            .flat_map(|p| p.links.iter().map(|(c, e)| (*c, e.as_str())))
            .collect();
        let existing = crate::db::identities::find_identities(conn, &pairs)?;
        let known = |p: &Pending<'_, '_>| {
            p.links.iter().any(|(c, e)| {
                existing
                    .iter()
                    .any(|i| i.channel == *c && i.external_id == *e)
            })
        };
        // In file order: runs of rows written together, between rows applied one by one.
        let mut rest = pending;
        while !rest.is_empty() {
            let run_end = rest.iter().position(known).unwrap_or(rest.len());
            let after = rest.split_off(run_end);
            let together = std::mem::replace(&mut rest, after);
            self.write_together(conn, together)?;
            if !rest.is_empty() {
                let single = rest.remove(0);
                let result = apply_one(conn, self.ctx, &single.parsed, None);
                self.settle(&single.parsed, result)?;
            }
        }
        Ok(())
    }

    /// Writes a run of pending rows in a few statements; if that fails (a key taken
    /// meanwhile by another writer, say), applies them one by one instead.
    fn write_together(
        &mut self,
        conn: &mut DbConnection,
        rows: Vec<Pending<'r, 'a>>,
    ) -> Result<(), AppError> {
        if rows.is_empty() {
            return Ok(());
        }
        match db::transaction(conn, |conn| create_together(conn, self.ctx, &rows)) {
            Ok(tags) => {
                if let Some(tags) = tags {
                    self.ctx.tags = tags;
                }
                for pending in &rows {
                    self.settle(&pending.parsed, Ok(Outcome::Created))?;
                }
            }
            Err(error) => {
                tracing::debug!(%error, "writing imported rows together failed; one by one");
                for pending in &rows {
                    let result = apply_one(conn, self.ctx, &pending.parsed, None);
                    self.settle(&pending.parsed, result)?;
                }
            }
        }
        Ok(())
    }
}

/// Creates the customers of pending rows with their tags (creating missing tags) and new
/// identities, in a few statements. Returns the tag list when tags were created.
fn create_together(
    conn: &mut DbConnection,
    ctx: &Context<'_>,
    rows: &[Pending<'_, '_>],
) -> Result<Option<Vec<Tag>>, AppError> {
    let mut missing: Vec<&str> = Vec::new();
    for (_, name) in rows.iter().flat_map(|p| p.parsed.tags.iter()) {
        if ctx.tag(name).is_none() && !missing.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            missing.push(name);
        }
    }
    let mut created_tags = None;
    if !missing.is_empty() {
        for name in &missing {
            tags::insert_tag(conn, name, crate::domain::customer::TAG_COLORS[0].0)?;
        }
        created_tags = Some(tags::list_tags(conn)?);
    }
    let known = created_tags.as_ref().unwrap_or(&ctx.tags);
    let profiles: Vec<&NewProfile<'_>> = rows.iter().map(|p| &p.profile).collect();
    let customers = profiles::create_customers(conn, &ctx.actor, &profiles)?;
    let mut tagged = Vec::new();
    let mut links = Vec::new();
    for (customer, pending) in customers.iter().zip(rows) {
        for (_, name) in &pending.parsed.tags {
            let tag = known
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
                .ok_or(AppError::NotFound)?;
            tagged.push((customer, tag));
        }
        for (channel, external) in &pending.links {
            links.push((customer, *channel, external.as_str()));
        }
    }
    profiles::tag_new_customers(conn, &ctx.actor, &tagged)?;
    conversations::link_new_identities(conn, &ctx.actor, &links)?;
    Ok(created_tags)
}

/// What a batch did: its counters and cursor, its refused rows, and the keys of the
/// rows it accepted (with their row numbers).
struct Applied {
    progress: Progress,
    refusals: Vec<Refusal>,
    keys: Vec<(String, i64)>,
}

impl Applied {
    /// Records it on the job.
    fn record(&self, conn: &mut DbConnection, job: i64) -> Result<(), AppError> {
        imports::insert_refusals(conn, job, &self.refusals)?;
        imports::insert_keys(conn, job, &self.keys)?;
        jobs::record_progress(conn, job, self.progress)?;
        Ok(())
    }
}

/// Applies a batch of records within the caller's transaction.
fn apply_batch(
    conn: &mut DbConnection,
    ctx: &mut Context<'_>,
    job: &Job,
    records: &[(Record, u64)],
) -> Result<Applied, AppError> {
    let mut progress = Progress::default();
    let mut refusals = Vec::new();
    let mut parsed = Vec::with_capacity(records.len());
    for (i, (record, end)) in records.iter().enumerate() {
        let row = job.processed + i as i64 + 1;
        progress.processed += 1;
        progress.cursor = i64::try_from(*end).unwrap_or(i64::MAX);
        let refused = match record {
            Ok(cells) => match parse_row(ctx, row, cells) {
                Ok(row) => {
                    parsed.push(row);
                    continue;
                }
                Err(refused) => (refused, serde_json::to_string(cells).unwrap_or_default()),
            },
            Err(reason) => (Refused(String::new(), reason.clone()), "[]".to_owned()),
        };
        let (Refused(column, reason), cells) = refused;
        progress.refused += 1;
        refusals.push(Refusal {
            row_number: row,
            column_name: column,
            reason,
            cells,
        });
    }
    let stored: Vec<String> = parsed
        .iter()
        .flat_map(|p| p.keys.iter().map(Key::stored))
        .collect();
    let claimed = imports::key_rows(conn, job.id, &stored)?;
    let all: Vec<&Parsed<'_>> = parsed.iter().collect();
    let matches = find_matches(conn, &ctx.keys, &all)?;
    let mut ids: Vec<CustomerId> = matches
        .values()
        .filter(|holders| holders.len() == 1)
        .flatten()
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let known = load_known(conn, ctx.registry, &ids)?;
    let mut batch = Batch {
        ctx,
        progress,
        refusals,
        claimed,
        accepted: HashMap::new(),
        pending: Vec::new(),
        pending_links: std::collections::HashSet::new(),
        keys_moved: false,
        known,
        touched: std::collections::HashSet::new(),
    };
    for row in parsed {
        batch.take(conn, row, &matches)?;
    }
    batch.flush(conn)?;
    let mut keys: Vec<(String, i64)> = batch.accepted.into_iter().collect();
    keys.sort_by_key(|(_, row)| *row);
    let mut refusals = batch.refusals;
    refusals.sort_by_key(|r| r.row_number);
    Ok(Applied {
        progress: batch.progress,
        refusals,
        keys,
    })
}

/// A record's cells, or why it cannot be read.
type Record = Result<Vec<String>, String>;

/// Reads up to `rows` records from the file at `offset`; returns them with their end
/// offsets.
fn read_batch(import: &Import, offset: u64, rows: usize) -> Result<Vec<(Record, u64)>, AppError> {
    let mut file = std::fs::File::open(&import.stored_path)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("import file missing: {e}")))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(import.delimiter_byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    while records.len() < rows {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let cells: Result<Vec<String>, String> = record
                    .iter()
                    .map(|cell| {
                        std::str::from_utf8(cell)
                            .map(str::to_owned)
                            .map_err(|_| "The row is not valid UTF-8 text.".to_owned())
                    })
                    .collect();
                records.push((cells, offset + reader.position().byte()));
            }
            Err(error) => {
                // A malformed record: refuse it and go on after it.
                let end = offset + reader.position().byte();
                records.push((Err(format!("The row cannot be read as CSV: {error}")), end));
                if records.len() > 1 && records[records.len() - 2].1 == end {
                    break;
                }
            }
        }
    }
    Ok(records)
}

/// The byte offset of the first data row (after the BOM and the header).
fn first_row_offset(import: &Import) -> Result<u64, AppError> {
    let mut file = std::fs::File::open(&import.stored_path)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("import file missing: {e}")))?;
    let mut bom = [0_u8; 3];
    let read = file
        .read(&mut bom)
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let skip = if read == 3 && bom == *b"\xEF\xBB\xBF" {
        3
    } else {
        0
    };
    file.seek(SeekFrom::Start(skip))
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(import.delimiter_byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut header = csv::ByteRecord::new();
    let _ = reader.read_byte_record(&mut header);
    Ok(skip + reader.position().byte())
}

/// Runs one batch of an import job; returns whether the job is finished.
pub fn import_batch(
    conn: &mut DbConnection,
    job: &Job,
    params: &ImportParams,
) -> Result<bool, AppError> {
    let import = imports::get_import(conn, params.import_id)?.ok_or(AppError::NotFound)?;
    let offset = if job.cursor == 0 {
        first_row_offset(&import)?
    } else {
        u64::try_from(job.cursor).unwrap_or(0)
    };
    let rows = batch_rows(conn);
    let records = read_batch(&import, offset, rows)?;
    if records.is_empty() {
        jobs::finish_job(conn, job.id, None)?;
        return Ok(true);
    }
    let registry = crate::db::properties::list_properties(conn)?;
    let name = format!(
        "{} (import #{} of {})",
        params.user_name, import.id, import.file_name
    );
    let mut ctx = Context {
        import: &import,
        headers: import.header_cells(),
        targets: import.targets(),
        keys: import.keys(),
        registry: &registry,
        tags: tags::list_tags(conn)?,
        actor: Actor::User {
            id: params.user_id,
            name,
        },
    };
    let outcome = db::transaction(conn, |conn| -> Result<(), BatchError> {
        let applied = apply_batch(conn, &mut ctx, job, &records)?;
        if params.dry_run {
            // Undo the batch on purpose; what it found is recorded afterwards.
            return Err(BatchError::DryRun(applied));
        }
        applied.record(conn, job.id)?;
        Ok(())
    });
    let done = job.processed + i64::try_from(records.len()).unwrap_or(0);
    if doubled(job.processed, done, rows) {
        // The batch lookups are planned from statistics, which lag far behind tables an
        // import is filling: refreshed each time the import has doubled its rows.
        db::refresh_statistics(conn, &["customers", "channel_identities", "import_keys"])?;
    }
    match outcome {
        Ok(()) => Ok(false),
        Err(BatchError::DryRun(applied)) => {
            // Keys of accepted rows outlive the rollback (duplicates span batches).
            db::transaction(conn, |conn| applied.record(conn, job.id))?;
            Ok(false)
        }
        Err(BatchError::Failed(error)) => Err(error),
    }
}

/// Whether going from `before` to `after` rows done about doubles what was done (true
/// after batches 1, 3, 7, 15, 31…).
fn doubled(before: i64, after: i64, batch: usize) -> bool {
    let batches = |rows: i64| (rows / batch as i64 + 1).ilog2();
    batches(after) > batches(before)
}

/// How a batch ends early: a failure, or a dry run rolling its writes back on purpose
/// (carrying what it found).
enum BatchError {
    Failed(AppError),
    DryRun(Applied),
}

impl From<diesel::result::Error> for BatchError {
    fn from(error: diesel::result::Error) -> Self {
        BatchError::Failed(error.into())
    }
}

impl From<AppError> for BatchError {
    fn from(error: AppError) -> Self {
        BatchError::Failed(error)
    }
}

/// How many data rows the file has (a fast pass that does not decode the cells).
pub fn count_rows(import: &Import) -> Result<i64, AppError> {
    let offset = first_row_offset(import)?;
    let mut file = std::fs::File::open(&import.stored_path)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("import file missing: {e}")))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(import.delimiter_byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut record = csv::ByteRecord::new();
    let mut rows = 0_i64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => break,
            Err(_) => rows += 1,
        }
        if rows > 50_000_000 {
            break;
        }
    }
    Ok(rows)
}

/// How long an uploaded file is kept: the import page can run it again until then.
pub const KEEP_FILES_DAYS: i64 = 7;

/// Whether the import's uploaded file is still there to run.
pub fn file_kept(import: &Import) -> bool {
    std::path::Path::new(&import.stored_path).is_file()
}

/// Removes the uploaded files of imports older than [`KEEP_FILES_DAYS`] that no queued or
/// running job reads; returns how many were removed. The imports stay listed, their
/// History entries and refused rows too (those are in the database).
pub fn remove_old_files(conn: &mut DbConnection) -> Result<usize, AppError> {
    let before = crate::db::now() - chrono::TimeDelta::days(KEEP_FILES_DAYS);
    let mut removed = 0;
    for path in imports::idle_files_before(conn, before)? {
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path, error = %e, "an old import file was not removed"),
        }
    }
    Ok(removed)
}

/// Queues a dry run or the import itself over the file's `rows` ([`count_rows`], counted
/// before the caller's transaction: it reads the whole file); returns the job id.
pub fn queue(
    conn: &mut DbConnection,
    import: &Import,
    params: &ImportParams,
    rows: i64,
) -> Result<i64, AppError> {
    let encoded = serde_json::to_string(params).map_err(|e| AppError::Unexpected(e.into()))?;
    let label = if params.dry_run {
        format!("Dry run of the import of {}", import.file_name)
    } else {
        format!("Import of {}", import.file_name)
    };
    let job = jobs::insert_job(
        conn,
        jobs::NewJob {
            kind: if params.dry_run { DRY_RUN } else { RUN },
            label: &label,
            params: &encoded,
            total: rows,
            created_by: Some(params.user_id),
            created_by_name: &params.user_name,
        },
    )?;
    imports::set_job(conn, import.id, job, params.dry_run)?;
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_refreshed_as_the_import_doubles() {
        let b = 500;
        let refreshed: Vec<i64> = (0..40)
            .filter(|n| doubled(n * b, (n + 1) * b, 500))
            .map(|n| n + 1)
            .collect();
        assert_eq!(refreshed, [1, 3, 7, 15, 31]);
        assert!(
            !doubled(5 * b, 5 * b, 500),
            "a batch of nothing refreshes nothing"
        );
    }
}
