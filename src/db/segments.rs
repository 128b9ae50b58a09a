//! Saved filters of the Customers page.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::segments;
use super::types::SegmentId;
use super::{DbConnection, now};

/// A segment as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segments)]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    pub name_key: String,
    pub query: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// Every segment, by name.
pub fn list_segments(conn: &mut DbConnection) -> QueryResult<Vec<Segment>> {
    segments::table
        .order(segments::name_key.asc())
        .select(Segment::as_select())
        .load(conn)
}

/// Whether another segment has this name (in any case).
pub fn name_taken(
    conn: &mut DbConnection,
    name: &str,
    except: Option<SegmentId>,
) -> QueryResult<bool> {
    let mut query = segments::table
        .filter(segments::name_key.eq(name.to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(segments::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Saves a segment.
pub fn insert_segment(
    conn: &mut DbConnection,
    name: &str,
    query: &str,
    created_by: &str,
) -> QueryResult<usize> {
    diesel::insert_into(segments::table)
        .values((
            segments::name.eq(name),
            segments::name_key.eq(name.to_lowercase()),
            segments::query.eq(query),
            segments::created_by.eq(created_by),
            segments::created_at.eq(now()),
        ))
        .execute(conn)
}

/// Renames a segment.
pub fn rename_segment(conn: &mut DbConnection, id: SegmentId, name: &str) -> QueryResult<usize> {
    kept::update(
        segments::table.find(id),
        (
            segments::name.eq(name),
            segments::name_key.eq(name.to_lowercase()),
        ),
    )
    .execute(conn)
}

/// Deletes a segment.
pub fn delete_segment(conn: &mut DbConnection, id: SegmentId) -> QueryResult<usize> {
    diesel::delete(segments::table.find(id)).execute(conn)
}
