//! The job around an import: starting a dry run or a run, counting the file's rows, and
//! removing old uploaded files.

use std::collections::HashMap;

use crate::db::imports::{self, Import};
use crate::db::jobs::{self};
use crate::db::{self, DbConnection};
use crate::domain::customer::MatchKey;
use crate::error::AppError;

use super::ImportParams;
use super::file::first_row_offset;
use crate::db::types::{ImportId, JobId, JobKind};

/// How many data rows the file has (a fast pass that does not decode the cells).
pub fn count_rows(import: &Import) -> Result<i64, AppError> {
    let offset = first_row_offset(import)?;
    let mut reader = super::file::reader_at(import, offset)?;
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

/// Whether the import's uploaded file is still there to run, on this instance: when
/// another instance received it, it is copied here from the parts the database keeps.
pub fn file_kept(conn: &mut DbConnection, import: &Import) -> Result<bool, AppError> {
    let path = std::path::Path::new(&import.stored_path);
    if path.is_file() {
        return Ok(true);
    }
    let parts = imports::count_parts(conn, import.id)?;
    if parts == 0 {
        return Ok(false);
    }
    // Written beside, then renamed: a reader never sees half a file.
    let partial = path.with_extension(format!("part-{}", crate::domain::password::random_hex(4)));
    let copied = (|| -> Result<(), AppError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| AppError::Unexpected(e.into()))?;
        }
        let mut file =
            std::fs::File::create(&partial).map_err(|e| AppError::Unexpected(e.into()))?;
        for part in 0..parts {
            let part = i32::try_from(part).unwrap_or(i32::MAX);
            let bytes = imports::get_part(conn, import.id, part)?.ok_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("import file part {part} missing"))
            })?;
            std::io::Write::write_all(&mut file, &bytes)
                .map_err(|e| AppError::Unexpected(e.into()))?;
        }
        file.sync_all()
            .map_err(|e| AppError::Unexpected(e.into()))?;
        std::fs::rename(&partial, path).map_err(|e| AppError::Unexpected(e.into()))
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied.map(|()| true)
}

/// The size of each part of an uploaded file the database keeps.
const PART_BYTES: usize = 1 << 20;

/// Keeps the uploaded file in the database too, in parts, when several instances may
/// share it (PostgreSQL): whichever instance runs the import can read it. An embedded
/// database has one instance, which has the file on its disk.
fn keep_parts(conn: &mut DbConnection, id: ImportId, path: &str) -> Result<(), AppError> {
    if db::has_one_writer(conn) {
        return Ok(());
    }
    let mut file = std::fs::File::open(path).map_err(|e| AppError::Unexpected(e.into()))?;
    let mut buffer = vec![0u8; PART_BYTES];
    for part in 0.. {
        let mut filled = 0;
        while filled < PART_BYTES {
            let read = std::io::Read::read(&mut file, &mut buffer[filled..])
                .map_err(|e| AppError::Unexpected(e.into()))?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        if filled == 0 {
            break;
        }
        imports::insert_part(conn, id, part, &buffer[..filled])?;
        if filled < PART_BYTES {
            break;
        }
    }
    Ok(())
}

/// How long an uploaded file is kept: the import page can run it again until then.
pub const KEEP_FILES_DAYS: i64 = 7;

/// Removes the uploaded files of imports older than [`KEEP_FILES_DAYS`] that no queued or
/// running job reads (from this instance's disk, and the parts the database keeps);
/// returns how many were removed. The imports stay listed, their History entries and
/// refused rows too (those are in the database).
pub fn remove_old_files(conn: &mut DbConnection) -> Result<usize, AppError> {
    let before = crate::db::now() - chrono::TimeDelta::days(KEEP_FILES_DAYS);
    let idle = imports::idle_files_before(conn, before)?;
    let ids: Vec<ImportId> = idle.iter().map(|(id, _)| *id).collect();
    imports::delete_parts(conn, &ids)?;
    let mut removed = 0;
    for (_, path) in idle {
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
) -> Result<JobId, AppError> {
    let encoded = serde_json::to_string(params).map_err(|e| AppError::Unexpected(e.into()))?;
    let label = if params.dry_run {
        format!("Dry run of the import of {}", import.file_name)
    } else {
        format!("Import of {}", import.file_name)
    };
    let job = jobs::insert_job(
        conn,
        jobs::NewJob {
            kind: if params.dry_run {
                JobKind::ImportDryRun
            } else {
                JobKind::Import
            },
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

/// An uploaded file, kept and read as far as its header.
pub struct Upload {
    /// The name it had on the uploader's computer.
    pub file_name: String,
    /// Where it is kept.
    pub stored_path: String,
    /// The column separator found.
    pub delimiter: u8,
    /// The header's cells.
    pub headers: Vec<String>,
    /// The character encoding it was in.
    pub encoding: String,
}

/// Records an upload with a proposed mapping (each column's target guessed from its
/// header, every match key on); returns the import's id.
pub fn register(
    conn: &mut DbConnection,
    upload: &Upload,
    user_id: i64,
    user_name: &str,
) -> Result<ImportId, AppError> {
    let registry = crate::db::properties::list_properties(conn)?;
    let targets: Vec<String> = upload
        .headers
        .iter()
        .map(|h| super::guess_target(h, &registry))
        .collect();
    let keys: Vec<&str> = MatchKey::ALL.iter().map(|k| k.as_str()).collect();
    db::transaction(conn, |conn| {
        let id = imports::insert_import(
            conn,
            imports::NewImport {
                file_name: &upload.file_name,
                stored_path: &upload.stored_path,
                delimiter: &(upload.delimiter as char).to_string(),
                headers: &serde_json::to_string(&upload.headers).unwrap_or_default(),
                mapping: &serde_json::to_string(&targets).unwrap_or_default(),
                match_keys: &serde_json::to_string(&keys).unwrap_or_default(),
                created_by: user_id,
                created_by_name: user_name,
                encoding: &upload.encoding,
            },
        )?;
        keep_parts(conn, id, &upload.stored_path)?;
        Ok(id)
    })
}

/// The mapping as submitted on the mapping page: a target per column index, the keys that
/// match existing customers, and whether unknown tags are created.
pub struct MappingChoice {
    /// Column index → target value.
    pub columns: HashMap<usize, String>,
    /// The keys to match on, in order.
    pub keys: Vec<MatchKey>,
    /// Create tags the file names that do not exist yet.
    pub create_tags: bool,
}

/// Saves a submitted mapping (when given) and queues the dry run or the import. Refused
/// with a message when the file is gone or a job of this file is still running: one job
/// at a time per file (a double submit, another supervisor) — a second one would only
/// repeat the first one's work.
pub fn start(
    conn: &mut DbConnection,
    id: ImportId,
    dry_run: bool,
    mapping: Option<MappingChoice>,
    user_id: i64,
    user_name: String,
) -> Result<Result<JobId, String>, AppError> {
    let import = imports::get_import(conn, id)?.ok_or(AppError::NotFound)?;
    if !file_kept(conn, &import)? {
        return Ok(Err(gone_message()));
    }
    let changed = match mapping {
        Some(choice) => {
            let registry = crate::db::properties::list_properties(conn)?;
            let allowed = super::targets(&registry);
            let mapping: Vec<String> = (0..import.header_cells().len())
                .map(|i| {
                    let chosen = choice.columns.get(&i).cloned().unwrap_or_default();
                    // Only targets the page offers; anything else skips the column.
                    if allowed.iter().any(|(value, _)| *value == chosen) {
                        chosen
                    } else {
                        String::new()
                    }
                })
                .collect();
            let keys: Vec<&str> = choice.keys.iter().map(|k| k.as_str()).collect();
            Some((
                serde_json::to_string(&mapping).unwrap_or_default(),
                serde_json::to_string(&keys).unwrap_or_default(),
                choice.create_tags,
            ))
        }
        None => None,
    };
    // Counted before the transaction: it reads the whole file.
    let rows = count_rows(&import)?;
    db::transaction(conn, |conn| {
        imports::lock_import(conn, id)?;
        let import = imports::get_import(conn, id)?.ok_or(AppError::NotFound)?;
        for job in [import.dry_job_id, import.run_job_id].into_iter().flatten() {
            if jobs::get_job(conn, job)?.is_some_and(|job| !job.finished()) {
                return Ok(Err(format!(
                    "A dry run or import of {} is already running: wait for it to finish.",
                    import.file_name
                )));
            }
        }
        if let Some((mapping, keys, create_tags)) = &changed {
            imports::update_mapping(conn, id, mapping, keys, *create_tags)?;
        }
        let actor = crate::domain::customer::Actor::User {
            id: user_id,
            name: user_name.clone(),
        };
        let what = if dry_run { "dry run" } else { "import" };
        crate::services::audit::record(
            conn,
            &actor,
            crate::db::types::AuditAction::ImportStarted,
            &import.file_name,
            &format!("{what} of {}", crate::page::count_of(rows, "row", "rows")),
        )?;
        let params = ImportParams {
            import_id: id,
            dry_run,
            user_id,
            user_name,
        };
        queue(conn, &import, &params, rows).map(Ok)
    })
}

/// What a person reads when an import's uploaded file was removed.
pub fn gone_message() -> String {
    format!(
        "The uploaded file was removed {KEEP_FILES_DAYS} days after the upload. Upload it again to import it."
    )
}
