//! CSV import: reading the header, mapping columns to properties, and applying rows in the
//! background. Each row is all-or-nothing (a savepoint); a refused row is recorded with its
//! row number, column and reason. A dry run is the same work rolled back batch by batch,
//! so its counts are exactly what the import would do. The job's cursor is the byte offset
//! of the next row, committed with each batch: a restart resumes there.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use diesel::QueryResult;
use diesel::prelude::*;

use serde::{Deserialize, Serialize};

use crate::db::customers::Customer;
use crate::db::imports::{self, Import, Refusal};
use crate::db::jobs::{self, Job, Progress};
use crate::db::properties::Property;
use crate::db::tags::{self, Tag};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::domain::channel::Channel;
use crate::domain::customer::{Actor, Lifecycle};
use crate::domain::property::{PropertyKind, RawValue};
use crate::domain::search::fold;
use crate::error::AppError;
use crate::services::profiles::{self, EditOutcome, Editor, ProfileEdit};

/// Kinds of the import jobs.
pub const DRY_RUN: &str = "import_dry_run";
/// The real import.
pub const RUN: &str = "import";

/// Rows per transaction.
const BATCH: usize = 500;

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

/// The keys that can match an existing customer, in the order they are tried.
pub const MATCH_KEYS: [(&str, &str); 3] = [
    ("customer_id", "Customer ID"),
    ("email", "E-mail"),
    ("phone", "Phone"),
];

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

/// Everything a batch needs that does not change between rows.
struct Context<'a> {
    import: &'a Import,
    headers: Vec<String>,
    targets: Vec<String>,
    keys: Vec<String>,
    registry: Vec<Property>,
    tags: Vec<Tag>,
    actor: Actor,
    job: i64,
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
}

fn refuse<T>(column: &str, reason: impl Into<String>) -> Result<T, RowError> {
    Err(RowError::Refused(Refused(column.to_owned(), reason.into())))
}

fn find_by_key(conn: &mut DbConnection, key: &str, value: &str) -> QueryResult<Option<Customer>> {
    use crate::db::schema::customers as c;
    let found: Vec<Customer> = match key {
        "customer_id" => c::table
            .filter(c::public_id.eq(value.to_uppercase()))
            .select(Customer::as_select())
            .limit(2)
            .load(conn)?,
        "email" => c::table
            .filter(db::lower(c::email).eq(value.to_lowercase()))
            .select(Customer::as_select())
            .limit(2)
            .load(conn)?,
        _ => c::table
            .filter(c::phone.eq(value))
            .select(Customer::as_select())
            .limit(2)
            .load(conn)?,
    };
    // Two customers with one key is no match at all: nothing is guessed.
    Ok(if found.len() == 1 {
        found.into_iter().next()
    } else {
        None
    })
}

/// Applies one row (inside the caller's savepoint).
fn apply_row(
    conn: &mut DbConnection,
    ctx: &mut Context<'_>,
    row: i64,
    cells: &[String],
) -> Result<Outcome, RowError> {
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
    let mut edit = ProfileEdit::default();
    let (mut first, mut last) = (None, None);
    let mut tag_names: Vec<(String, String)> = Vec::new();
    let mut identities: Vec<(String, String, String)> = Vec::new();
    let mut keys: HashMap<&str, (String, String)> = HashMap::new();
    for ((header, target), cell) in ctx.headers.iter().zip(&ctx.targets).zip(cells) {
        let text = cell_text(cell);
        if text.is_empty() {
            continue;
        }
        match target.as_str() {
            target::SKIP => {}
            target::CUSTOMER_ID => {
                keys.insert("customer_id", (header.clone(), text.to_uppercase()));
            }
            target::LIFECYCLE => {
                let stage = Lifecycle::ALL
                    .into_iter()
                    .find(|l| l.as_str() == text || l.label().eq_ignore_ascii_case(text));
                match stage {
                    Some(stage) => edit.lifecycle = Some(stage.as_str().to_owned()),
                    None => return refuse(header, format!("{text:?} is not a lifecycle stage.")),
                }
            }
            target::TAGS => {
                for name in text
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                {
                    tag_names.push((header.clone(), name.to_owned()));
                }
            }
            target::IDENTITIES => {
                for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let Some((channel, id)) = pair.split_once(':') else {
                        return refuse(header, format!("{pair:?} is not channel:id."));
                    };
                    identities.push((
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
                    identities.push((header.clone(), channel.to_owned(), text.to_owned()));
                } else if let Some(key) = other.strip_prefix(target::PROPERTY) {
                    edit.values
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
        edit.values.push(("name".to_owned(), RawValue::One(name)));
    }
    // Keys as stored, so "the same key" means the same customer.
    for key in ["email", "phone"] {
        if let Some((_, RawValue::One(raw))) = edit.values.iter().find(|(k, _)| k == key) {
            let property = ctx.registry.iter().find(|p| p.key == key);
            if let Some(property) = property {
                match crate::domain::property::parse_value(
                    property.ty,
                    &[],
                    &RawValue::One(raw.clone()),
                ) {
                    Ok(Some(value)) => {
                        keys.insert(key, (ctx.header_of(key), value.form_text()));
                    }
                    Ok(None) => {}
                    Err(message) => return refuse(&ctx.header_of(key), message),
                }
            }
        }
    }
    // A second row with the same key in one file is refused, naming the first.
    for (key, (header, value)) in &keys {
        let stored = format!("{key}:{}", value.to_lowercase());
        if let Some(first_row) = imports::key_row(conn, ctx.job, &stored)? {
            return refuse(header, format!("Same {key} as row {first_row}."));
        }
    }
    for (key, (_, value)) in &keys {
        imports::insert_key(
            conn,
            ctx.job,
            &format!("{key}:{}", value.to_lowercase()),
            row,
        )?;
    }
    let mut matched = None;
    for key in ctx.keys.clone() {
        if let Some((_, value)) = keys.get(key.as_str())
            && let Some(customer) = find_by_key(conn, &key, value)?
        {
            matched = Some(customer);
            break;
        }
    }
    let editor = Editor::Staff(Role::Supervisor);
    let refused_field = |error: AppError| -> RowError {
        match error {
            AppError::Invalid(errors) => {
                let first = errors.0.first();
                let column = first.map(|e| ctx.header_of(&e.field)).unwrap_or_default();
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
    };
    let (customer, mut outcome) = match matched {
        Some(existing) => {
            let result = profiles::edit_customer(
                conn,
                existing.id,
                &ctx.registry,
                None,
                &ctx.actor,
                editor,
                &edit,
            )
            .map_err(refused_field)?;
            let outcome = match result {
                EditOutcome::Saved(n) if n > 0 => Outcome::Updated,
                _ => Outcome::Unchanged,
            };
            (existing.id, outcome)
        }
        None => {
            let created = profiles::create_customer(conn, &ctx.registry, &ctx.actor, editor, &edit)
                .map_err(refused_field)?;
            (created.id, Outcome::Created)
        }
    };
    for (header, name) in tag_names {
        let known = ctx
            .tags
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&name))
            .cloned();
        let tag = match known {
            Some(tag) => tag,
            None if ctx.import.create_tags => {
                tags::insert_tag(conn, &name, crate::domain::customer::TAG_COLORS[0].0)?;
                let tag = tags::list_tags(conn)?
                    .into_iter()
                    .find(|t| t.name.eq_ignore_ascii_case(&name))
                    .ok_or(AppError::NotFound)?;
                ctx.tags.push(tag.clone());
                tag
            }
            None => return refuse(&header, format!("No tag is called {name:?}.")),
        };
        if profiles::set_tag(conn, customer, tag.id, true, &ctx.actor)?
            && matches!(outcome, Outcome::Unchanged)
        {
            outcome = Outcome::Updated;
        }
    }
    for (header, channel, external) in identities {
        let existing = crate::db::identities::find_identity(conn, &channel, &external)?;
        if existing
            .as_ref()
            .is_some_and(|i| i.customer_id == Some(customer))
        {
            continue;
        }
        match crate::services::conversations::add_identity(
            conn, customer, &channel, &external, &ctx.actor,
        ) {
            Ok(()) => {
                if matches!(outcome, Outcome::Unchanged) {
                    outcome = Outcome::Updated;
                }
            }
            Err(AppError::Invalid(errors)) => {
                let message = errors
                    .0
                    .first()
                    .map_or("Refused.".to_owned(), |e| e.message.clone());
                return refuse(&header, message);
            }
            Err(AppError::Conflict(message)) => return refuse(&header, message),
            Err(other) => return Err(RowError::Failed(other)),
        }
    }
    Ok(outcome)
}

/// Reads up to one batch of records from the file at `offset`; returns them with their
/// end offsets, or the refusal of an unreadable record.
type Record = Result<Vec<String>, String>;

fn read_batch(import: &Import, offset: u64) -> Result<Vec<(Record, u64)>, AppError> {
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
    while records.len() < BATCH {
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
    let records = read_batch(&import, offset)?;
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
        registry,
        tags: tags::list_tags(conn)?,
        actor: Actor::User {
            id: params.user_id,
            name,
        },
        job: job.id,
    };
    let dry = params.dry_run;
    let outcome = db::transaction(conn, |conn| -> Result<(), BatchError> {
        let mut refusals = Vec::new();
        let mut batch = Progress::default();
        let mut keys_seen: Vec<(String, i64)> = Vec::new();
        for (i, (record, end)) in records.iter().enumerate() {
            let row = job.processed + i as i64 + 1;
            batch.processed += 1;
            batch.cursor = i64::try_from(*end).unwrap_or(i64::MAX);
            let cells = match record {
                Ok(cells) => cells,
                Err(reason) => {
                    refusals.push(Refusal {
                        row_number: row,
                        column_name: String::new(),
                        reason: reason.clone(),
                        cells: "[]".to_owned(),
                    });
                    batch.refused += 1;
                    continue;
                }
            };
            let applied = db::transaction(conn, |conn| -> Result<Outcome, RowError> {
                apply_row(conn, &mut ctx, row, cells)
            });
            match applied {
                Ok(Outcome::Created) => batch.created += 1,
                Ok(Outcome::Updated) => batch.changed += 1,
                Ok(Outcome::Unchanged) => {}
                Err(RowError::Refused(Refused(column, reason))) => {
                    batch.refused += 1;
                    refusals.push(Refusal {
                        row_number: row,
                        column_name: column,
                        reason,
                        cells: serde_json::to_string(cells).unwrap_or_default(),
                    });
                }
                Err(RowError::Failed(error)) => return Err(BatchError::Failed(error)),
            }
            if dry {
                // Keys of accepted rows outlive the rollback (duplicates span batches).
                use crate::db::schema::import_keys as k;
                let keys: Vec<String> = k::table
                    .filter(k::job_id.eq(job.id))
                    .filter(k::row_number.eq(row))
                    .select(k::key)
                    .load(conn)?;
                keys_seen.extend(keys.into_iter().map(|key| (key, row)));
            }
        }
        if dry {
            // Undo the batch on purpose; what it found is written afterwards.
            return Err(BatchError::DryRun(refusals, batch, keys_seen));
        }
        for refusal in &refusals {
            imports::insert_refusal(conn, job.id, refusal)?;
        }
        jobs::record_progress(conn, job.id, batch)?;
        Ok(())
    });
    match outcome {
        Ok(()) => Ok(false),
        Err(BatchError::DryRun(refusals, batch, keys)) => {
            db::transaction(conn, |conn| -> Result<(), AppError> {
                for refusal in &refusals {
                    imports::insert_refusal(conn, job.id, refusal)?;
                }
                for (key, row) in &keys {
                    imports::insert_key(conn, job.id, key, *row)?;
                }
                jobs::record_progress(conn, job.id, batch)?;
                Ok(())
            })?;
            Ok(false)
        }
        Err(BatchError::Failed(error)) => Err(error),
    }
}

/// How a batch ends early: a failure, or a dry run rolling its writes back on purpose
/// (carrying what it found: refusals, counters, keys seen).
enum BatchError {
    Failed(AppError),
    DryRun(Vec<Refusal>, Progress, Vec<(String, i64)>),
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

/// Queues a dry run or the import itself; returns the job id.
pub fn queue(
    conn: &mut DbConnection,
    import: &Import,
    params: &ImportParams,
) -> Result<i64, AppError> {
    let encoded = serde_json::to_string(params).map_err(|e| AppError::Unexpected(e.into()))?;
    let rows = count_rows(import)?;
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
