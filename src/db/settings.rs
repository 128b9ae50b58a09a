//! Installation-wide key/value settings.

use diesel::prelude::*;

use super::schema::app_settings;
use super::types::Setting;
use super::{DbConnection, now};

/// The value stored under `key`, if any.
pub fn find_setting(conn: &mut DbConnection, key: Setting) -> QueryResult<Option<String>> {
    app_settings::table
        .find(key.as_str())
        .select(app_settings::value)
        .first(conn)
        .optional()
}

/// The values stored under `keys`, in one query; a key with none is left out.
pub fn find_settings(
    conn: &mut DbConnection,
    keys: &[Setting],
) -> QueryResult<std::collections::HashMap<String, String>> {
    let keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let found: Vec<(String, String)> = app_settings::table
        .filter(app_settings::key.eq_any(keys))
        .select((app_settings::key, app_settings::value))
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Stores `value` under `key` unless a value is already there, and returns the value that
/// won. Instances starting at once on one database all end up with the same value.
pub fn insert_setting_if_absent(
    conn: &mut DbConnection,
    key: Setting,
    value: &str,
) -> QueryResult<String> {
    let row = (
        app_settings::key.eq(key.as_str()),
        app_settings::value.eq(value),
        app_settings::updated_at.eq(now()),
    );
    either_backend!(conn, c => diesel::insert_into(app_settings::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c)?);
    app_settings::table
        .find(key.as_str())
        .select(app_settings::value)
        .first(conn)
}

/// Stores `value` under `key`, replacing any earlier value.
pub fn upsert_setting(conn: &mut DbConnection, key: Setting, value: &str) -> QueryResult<()> {
    let row = (
        app_settings::key.eq(key.as_str()),
        app_settings::value.eq(value),
        app_settings::updated_at.eq(now()),
    );
    let changes = (
        app_settings::value.eq(value),
        app_settings::updated_at.eq(now()),
    );
    either_backend!(conn, c => diesel::insert_into(app_settings::table)
        .values(row)
        .on_conflict(app_settings::key)
        .do_update()
        .set(changes)
        .execute(c)?);
    Ok(())
}

/// Whether a boolean setting is on.
pub fn is_enabled(conn: &mut DbConnection, key: Setting) -> QueryResult<bool> {
    Ok(is_on(find_setting(conn, key)?.as_deref()))
}

/// Whether a boolean setting's stored value (if any) is on.
pub fn is_on(value: Option<&str>) -> bool {
    value == Some("on")
}
