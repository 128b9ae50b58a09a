//! Reading the uploaded file from a byte offset, batch by batch, so a job resumes where
//! its last committed batch ended.

use std::io::{Read, Seek, SeekFrom};

use crate::db::imports::Import;
use crate::error::AppError;

/// The uploaded file's records from byte `offset` on.
pub(super) type FileReader = csv::Reader<std::io::BufReader<std::fs::File>>;

fn open(import: &Import) -> Result<std::fs::File, AppError> {
    std::fs::File::open(&import.stored_path)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("import file missing: {e}")))
}

/// A reader of the file's records from byte `offset` on (offsets it reports are relative
/// to `offset`).
pub(super) fn reader_at(import: &Import, offset: u64) -> Result<FileReader, AppError> {
    let mut file = open(import)?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AppError::Unexpected(e.into()))?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(import.delimiter_byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file)))
}

/// A record's cells, or why it cannot be read.
pub(super) type Record = Result<Vec<String>, String>;

/// Reads up to `rows` records from the file at `offset`; returns them with their end
/// offsets.
pub(super) fn read_batch(
    import: &Import,
    offset: u64,
    rows: usize,
) -> Result<Vec<(Record, u64)>, AppError> {
    let mut reader = reader_at(import, offset)?;
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    while records.len() < rows {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let cells: Result<Vec<String>, String> = record
                    .iter()
                    .map(|cell| {
                        // Control characters other than tab and newline are left out, as
                        // from every form: the same on both databases.
                        std::str::from_utf8(cell)
                            .map(|text| crate::middleware::clean_text(text).into_owned())
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

/// Up to `count` values of each column, from the file's first rows (blank cells left out):
/// what the mapping page shows beside each column.
pub fn column_samples(import: &Import, count: usize) -> Result<Vec<Vec<String>>, AppError> {
    let start = first_row_offset(import)?;
    let width = import.header_cells().len();
    let mut samples = vec![Vec::new(); width];
    for (record, _) in read_batch(import, start, 50)? {
        let Ok(cells) = record else { continue };
        for (column, cell) in samples.iter_mut().zip(&cells) {
            let text = super::rows::cell_text(cell);
            if column.len() < count && !text.is_empty() {
                column.push(text.chars().take(60).collect());
            }
        }
        if samples.iter().all(|c| c.len() >= count) {
            break;
        }
    }
    Ok(samples)
}

/// The byte offset of the first data row (after the BOM and the header).
pub(super) fn first_row_offset(import: &Import) -> Result<u64, AppError> {
    let mut file = open(import)?;
    let mut bom = [0_u8; 3];
    let read = file
        .read(&mut bom)
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let skip = if read == 3 && bom == *b"\xEF\xBB\xBF" {
        3
    } else {
        0
    };
    let mut reader = reader_at(import, skip)?;
    let mut header = csv::ByteRecord::new();
    let _ = reader.read_byte_record(&mut header);
    Ok(skip + reader.position().byte())
}
