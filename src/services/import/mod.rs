//! CSV import: reading the header, mapping columns to properties, and applying rows in the
//! background. Each row is all-or-nothing (a savepoint); a refused row is recorded with its
//! row number, column and reason. A dry run is the same work rolled back batch by batch,
//! so its counts are exactly what the import would do. The job's cursor is the byte offset
//! of the next row, committed with each batch: a restart resumes there.

mod batch;
mod encoding;
mod file;
mod job;
mod mapping;
mod rows;
mod write;

use serde::{Deserialize, Serialize};

use crate::db::types::ImportId;

pub use batch::import_batch;
pub use encoding::store_as_utf8;
pub use file::column_samples;
pub use job::{
    KEEP_FILES_DAYS, MappingChoice, Upload, count_rows, file_kept, gone_message, queue, register,
    remove_old_files, start,
};
pub use mapping::{guess_target, read_header, target, targets};

/// An import job's parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportParams {
    pub import_id: ImportId,
    pub dry_run: bool,
    pub user_id: i64,
    pub user_name: String,
}
