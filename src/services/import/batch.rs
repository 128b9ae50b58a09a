//! A batch of rows applied in one transaction: matched by key, created together when
//! they match nobody, refused one by one with their reason.

use super::rows::{Context, EDITOR, Key, Outcome, Parsed, Refused, RowError, parse_row, refuse};
use super::write::{Known, apply_one, create_together, load_known};
use std::collections::HashMap;

use diesel::QueryResult;

use crate::db::customers::{self};
use crate::db::imports::{self, Refusal};
use crate::db::jobs::{self, Job, Progress};
use crate::db::properties::Property;
use crate::db::tags::{self};
use crate::db::types::CustomerId;
use crate::db::{self, DbConnection};
use crate::domain::customer::{Actor, MatchKey};
use crate::error::AppError;
use crate::services::conversations;
use crate::services::profiles::{self, NewProfile};

use super::ImportParams;
use super::file::{Record, first_row_offset, read_batch};

/// Rows per transaction. SQLite has one writer, which everyone else waits for while a
/// batch commits: short batches (~0.1 s) there. PostgreSQL writers do not wait on each
/// other, and fewer, larger batches cost fewer round trips.
fn batch_rows(conn: &DbConnection) -> usize {
    if db::has_one_writer(conn) { 500 } else { 2_000 }
}

/// The customers the batch's keys point at, one query per kind of key: by (kind, value as
/// looked up), every customer holding it.
pub(super) fn find_matches(
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

/// An identity to link: channel and external id, as stored.
pub(super) type Link = (&'static str, String);

/// A row that creates a customer, checked, waiting to be written with the others.
pub(super) struct Pending<'r, 'a> {
    pub(super) parsed: Parsed<'r>,
    pub(super) profile: NewProfile<'a>,
    pub(super) links: Vec<Link>,
}

/// One batch of rows being applied, in file order. Rows that match nobody wait in
/// `pending` and are created together (a few statements for hundreds of customers);
/// anything else — a match, an identity that exists, a write the batch path refuses —
/// goes through [`apply_one`]. Pending rows are written before any row after them is
/// applied, so the outcome is the one row-by-row application would have.
pub(super) struct Batch<'c, 'a, 'r> {
    pub(super) ctx: &'c mut Context<'a>,
    pub(super) progress: Progress,
    pub(super) refusals: Vec<Refusal>,
    /// Keys from earlier batches, with their rows.
    pub(super) claimed: HashMap<String, i64>,
    /// Keys of the rows accepted (or pending) in this batch, with their rows.
    pub(super) accepted: HashMap<String, i64>,
    pub(super) pending: Vec<Pending<'r, 'a>>,
    /// The identities of the pending rows.
    pub(super) pending_links: std::collections::HashSet<Link>,
    /// Whether an applied row may have moved an e-mail or a phone from one customer to
    /// another: then the matches found at the start are checked again.
    pub(super) keys_moved: bool,
    /// Matched customers as read at the start of the batch.
    pub(super) known: HashMap<CustomerId, Known>,
    /// Matched customers written since (what `known` says of them is stale).
    pub(super) touched: std::collections::HashSet<CustomerId>,
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
                tracing::warn!(%error, "writing imported rows together failed; one by one");
                for pending in &rows {
                    let result = apply_one(conn, self.ctx, &pending.parsed, None);
                    self.settle(&pending.parsed, result)?;
                }
            }
        }
        Ok(())
    }
}

/// What a batch did: its counters and cursor, its refused rows, and the keys of the
/// rows it accepted (with their row numbers).
pub(super) struct Applied {
    pub(super) progress: Progress,
    pub(super) refusals: Vec<Refusal>,
    pub(super) keys: Vec<(String, i64)>,
}

impl Applied {
    /// Records it on the job.
    fn record(&self, conn: &mut DbConnection, job: &Job) -> Result<(), AppError> {
        imports::insert_refusals(conn, job.id, &self.refusals)?;
        imports::insert_keys(conn, job.id, &self.keys)?;
        jobs::record_progress(conn, job, self.progress)?;
        Ok(())
    }
}

/// Applies a batch of records within the caller's transaction.
pub(super) fn apply_batch(
    conn: &mut DbConnection,
    ctx: &mut Context<'_>,
    job: &Job,
    records: &[(Record, u64)],
) -> Result<Applied, AppError> {
    let mut progress = Progress::default();
    let mut refusals = Vec::new();
    let mut parsed = Vec::with_capacity(records.len());
    for (i, (record, end)) in records.iter().enumerate() {
        // Numbered as a spreadsheet shows the file: the header is row 1.
        let row = job.processed + i as i64 + 2;
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

/// Runs one batch of an import job; returns whether the job is finished.
pub fn import_batch(
    conn: &mut DbConnection,
    job: &Job,
    params: &ImportParams,
) -> Result<bool, AppError> {
    let import = imports::get_import(conn, params.import_id)?.ok_or(AppError::NotFound)?;
    if !super::file_kept(conn, &import)? {
        return Err(AppError::Conflict(super::gone_message()));
    }
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
        applied.record(conn, job)?;
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
            db::transaction(conn, |conn| applied.record(conn, job))?;
            Ok(false)
        }
        Err(BatchError::Failed(error)) => Err(error),
    }
}

/// Whether going from `before` to `after` rows done about doubles what was done (true
/// after batches 1, 3, 7, 15, 31…).
pub(super) fn doubled(before: i64, after: i64, batch: usize) -> bool {
    let batches = |rows: i64| (rows / batch as i64 + 1).ilog2();
    batches(after) > batches(before)
}

/// How a batch ends early: a failure, or a dry run rolling its writes back on purpose
/// (carrying what it found).
pub(super) enum BatchError {
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
