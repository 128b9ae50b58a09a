//! Segments: filters of the Customers page saved under a name and shared with the team.

use crate::db::types::SegmentId;
use crate::db::{self, DbConnection, segments};
use crate::error::AppError;

/// A segment's name, trimmed: 1 to 60 characters.
pub fn parse_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err("Give the segment a name of 1 to 60 characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// Saves a filter (its query string) under a name. `false` when the name is taken.
pub fn save_segment(
    conn: &mut DbConnection,
    name: &str,
    query: &str,
    author: &str,
) -> Result<bool, AppError> {
    db::transaction(conn, |conn| {
        if segments::name_taken(conn, name, None)? {
            return Ok(false);
        }
        segments::insert_segment(conn, name, query, author)?;
        Ok(true)
    })
}

/// Renames a segment. `false` when the name is taken or the segment is gone.
pub fn rename_segment(
    conn: &mut DbConnection,
    id: SegmentId,
    name: &str,
) -> Result<bool, AppError> {
    db::transaction(conn, |conn| {
        if segments::name_taken(conn, name, Some(id))? {
            return Ok(false);
        }
        Ok(segments::rename_segment(conn, id, name)? == 1)
    })
}

/// Deletes a segment.
pub fn delete_segment(conn: &mut DbConnection, id: SegmentId) -> Result<(), AppError> {
    db::transaction(conn, |conn| segments::delete_segment(conn, id))?;
    Ok(())
}
