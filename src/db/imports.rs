//! CSV imports: the uploaded file's description and mapping, the rows a job refused, and
//! the keys it has seen.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::{import_keys, import_parts, import_refusals, imports, jobs};
use super::types::{ImportId, JobId};
use super::{DbConnection, now};
use crate::domain::customer::MatchKey;

/// An import as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = imports)]
pub struct Import {
    pub id: ImportId,
    pub file_name: String,
    pub stored_path: String,
    pub delimiter: String,
    pub headers: String,
    pub mapping: String,
    pub match_keys: String,
    pub create_tags: bool,
    pub dry_job_id: Option<JobId>,
    pub run_job_id: Option<JobId>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    /// The character encoding the upload was in (it is kept as UTF-8).
    pub encoding: String,
}

impl Import {
    /// The header cells.
    pub fn header_cells(&self) -> Vec<String> {
        serde_json::from_str(&self.headers).unwrap_or_default()
    }

    /// The target of each column ("" = skipped).
    pub fn targets(&self) -> Vec<String> {
        serde_json::from_str(&self.mapping).unwrap_or_default()
    }

    /// The keys that match existing customers, in order.
    pub fn keys(&self) -> Vec<MatchKey> {
        serde_json::from_str::<Vec<String>>(&self.match_keys)
            .unwrap_or_default()
            .iter()
            .filter_map(|key| key.parse().ok())
            .collect()
    }

    /// The field separator.
    pub fn delimiter_byte(&self) -> u8 {
        self.delimiter.bytes().next().unwrap_or(b',')
    }
}

/// An uploaded file to record.
pub struct NewImport<'a> {
    pub file_name: &'a str,
    pub stored_path: &'a str,
    pub delimiter: &'a str,
    pub headers: &'a str,
    pub mapping: &'a str,
    pub match_keys: &'a str,
    pub created_by: i64,
    pub created_by_name: &'a str,
    pub encoding: &'a str,
}

/// Records an upload; returns its id.
pub fn insert_import(conn: &mut DbConnection, new: NewImport<'_>) -> QueryResult<ImportId> {
    let at = now();
    diesel::insert_into(imports::table)
        .values((
            imports::file_name.eq(new.file_name),
            imports::stored_path.eq(new.stored_path),
            imports::delimiter.eq(new.delimiter),
            imports::headers.eq(new.headers),
            imports::mapping.eq(new.mapping),
            imports::match_keys.eq(new.match_keys),
            imports::created_by.eq(new.created_by),
            imports::created_by_name.eq(new.created_by_name),
            imports::encoding.eq(new.encoding),
            imports::created_at.eq(at),
        ))
        .execute(conn)?;
    imports::table
        .filter(imports::stored_path.eq(new.stored_path))
        .select(imports::id)
        .first(conn)
}

/// One import.
pub fn get_import(conn: &mut DbConnection, id: ImportId) -> QueryResult<Option<Import>> {
    imports::table
        .find(id)
        .select(Import::as_select())
        .first(conn)
        .optional()
}

/// Saves the supervisor's mapping and options.
pub fn update_mapping(
    conn: &mut DbConnection,
    id: ImportId,
    mapping: &str,
    match_keys: &str,
    create_tags: bool,
) -> QueryResult<usize> {
    kept::update(
        imports::table.find(id),
        (
            imports::mapping.eq(mapping),
            imports::match_keys.eq(match_keys),
            imports::create_tags.eq(create_tags),
        ),
    )
    .execute(conn)
}

/// Links the dry-run or the real job.
pub fn set_job(conn: &mut DbConnection, id: ImportId, job: JobId, dry: bool) -> QueryResult<usize> {
    let target = imports::table.find(id);
    if dry {
        kept::update(target, imports::dry_job_id.eq(job)).execute(conn)
    } else {
        kept::update(target, imports::run_job_id.eq(job)).execute(conn)
    }
}

/// A refused row.
#[derive(Debug, Clone, Queryable)]
pub struct Refusal {
    pub row_number: i64,
    pub column_name: String,
    pub reason: String,
    pub cells: String,
}

/// Records refused rows, a few thousand per statement.
pub fn insert_refusals(
    conn: &mut DbConnection,
    job: JobId,
    refusals: &[Refusal],
) -> QueryResult<()> {
    let rows: Vec<_> = refusals
        .iter()
        .map(|refusal| {
            (
                import_refusals::job_id.eq(job),
                import_refusals::row_number.eq(refusal.row_number),
                import_refusals::column_name.eq(&refusal.column_name),
                import_refusals::reason.eq(&refusal.reason),
                import_refusals::cells.eq(&refusal.cells),
            )
        })
        .collect();
    for chunk in rows.chunks(super::rows_per_insert(5)) {
        either_backend!(&mut *conn, c => diesel::insert_into(import_refusals::table)
            .values(chunk)
            .execute(c)?);
    }
    Ok(())
}

/// A job's refused rows in row order, after `after`, at most `limit`.
pub fn list_refusals(
    conn: &mut DbConnection,
    job: JobId,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<Refusal>> {
    import_refusals::table
        .filter(import_refusals::job_id.eq(job))
        .filter(import_refusals::row_number.gt(after))
        .order(import_refusals::row_number.asc())
        .limit(limit)
        .select((
            import_refusals::row_number,
            import_refusals::column_name,
            import_refusals::reason,
            import_refusals::cells,
        ))
        .load(conn)
}

/// Locks an import's row until the transaction ends, so that two requests starting jobs
/// on it take turns (on SQLite the write transaction already does).
pub fn lock_import(conn: &mut DbConnection, id: ImportId) -> QueryResult<usize> {
    kept::update(
        imports::table.find(id),
        imports::created_at.eq(imports::created_at),
    )
    .execute(conn)
}

/// The stored files of imports uploaded before `before` that no queued or running job
/// reads.
pub fn idle_files_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<Vec<(ImportId, String)>> {
    let busy = jobs::table
        .filter(jobs::status.eq_any(super::jobs::UNFINISHED))
        .filter(
            jobs::id
                .nullable()
                .eq(imports::dry_job_id)
                .or(jobs::id.nullable().eq(imports::run_job_id)),
        );
    imports::table
        .filter(imports::created_at.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(busy)))
        .select((imports::id, imports::stored_path))
        .load(conn)
}

/// The rows that first had these keys in this job, by key (keys not seen are left out).
pub fn key_rows(
    conn: &mut DbConnection,
    job: JobId,
    keys: &[String],
) -> QueryResult<HashMap<String, i64>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(10_000) {
        let rows: Vec<(String, i64)> = import_keys::table
            .filter(import_keys::job_id.eq(job))
            .filter(import_keys::key.eq_any(chunk))
            .filter(crate::db::planned_per_run())
            .select((import_keys::key, import_keys::row_number))
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Remembers which row had each key.
pub fn insert_keys(conn: &mut DbConnection, job: JobId, keys: &[(String, i64)]) -> QueryResult<()> {
    let rows: Vec<_> = keys
        .iter()
        .map(|(key, row)| {
            (
                import_keys::job_id.eq(job),
                import_keys::key.eq(key),
                import_keys::row_number.eq(*row),
            )
        })
        .collect();
    for chunk in rows.chunks(super::rows_per_insert(3)) {
        either_backend!(&mut *conn, c => diesel::insert_into(import_keys::table)
            .values(chunk)
            .execute(c)?);
    }
    Ok(())
}

/// Keeps part `part` of an import's uploaded file.
pub fn insert_part(
    conn: &mut DbConnection,
    import: ImportId,
    part: i32,
    bytes: &[u8],
) -> QueryResult<usize> {
    diesel::insert_into(import_parts::table)
        .values((
            import_parts::import_id.eq(import.0),
            import_parts::part.eq(part),
            import_parts::bytes.eq(bytes),
        ))
        .execute(conn)
}

/// How many parts of an import's file are kept (0: none, the file is only on disk).
pub fn count_parts(conn: &mut DbConnection, import: ImportId) -> QueryResult<i64> {
    import_parts::table
        .filter(import_parts::import_id.eq(import.0))
        .count()
        .get_result(conn)
}

/// Part `part` of an import's file, if kept.
pub fn get_part(
    conn: &mut DbConnection,
    import: ImportId,
    part: i32,
) -> QueryResult<Option<Vec<u8>>> {
    import_parts::table
        .find((import.0, part))
        .select(import_parts::bytes)
        .first(conn)
        .optional()
}

/// Forgets the kept parts of these imports' files.
pub fn delete_parts(conn: &mut DbConnection, ids: &[ImportId]) -> QueryResult<usize> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    diesel::delete(import_parts::table.filter(import_parts::import_id.eq_any(ids))).execute(conn)
}
