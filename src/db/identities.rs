//! Channel identities: (channel, external id) → at most one customer.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::channel_identities;
use super::types::{CustomerId, IdentityId};
use super::{DbConnection, now};

/// An identity as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = channel_identities)]
pub struct Identity {
    pub id: IdentityId,
    pub channel: String,
    pub external_id: String,
    pub customer_id: Option<CustomerId>,
    pub display_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    /// Why this contact is blacklisted on its own (an unknown contact).
    pub blacklist_reason: Option<String>,
    /// Who blacklisted it.
    pub blacklisted_by: Option<String>,
    /// When; `None` while not blacklisted.
    pub blacklisted_at: Option<NaiveDateTime>,
}

impl Identity {
    /// Whether the contact itself is on the blacklist.
    pub fn blacklisted(&self) -> bool {
        self.blacklisted_at.is_some()
    }
}

/// The identity for (channel, external id), if known.
pub fn find_identity(
    conn: &mut DbConnection,
    channel: &str,
    external_id: &str,
) -> QueryResult<Option<Identity>> {
    channel_identities::table
        .filter(channel_identities::channel.eq(channel))
        .filter(channel_identities::external_id.eq(external_id))
        .select(Identity::as_select())
        .first(conn)
        .optional()
}

/// The identities among these (channel, external id) pairs that exist, in one query.
pub fn find_identities(
    conn: &mut DbConnection,
    pairs: &[(&str, &str)],
) -> QueryResult<Vec<Identity>> {
    let mut channels: Vec<&str> = pairs.iter().map(|(channel, _)| *channel).collect();
    channels.sort_unstable();
    channels.dedup();
    let externals: Vec<&str> = pairs.iter().map(|(_, external)| *external).collect();
    let mut found: Vec<Identity> = Vec::new();
    // Both lists, so the (channel, external id) key answers it; planned for these lists.
    for chunk in externals.chunks(10_000) {
        found.extend(
            channel_identities::table
                .filter(channel_identities::channel.eq_any(&channels))
                .filter(channel_identities::external_id.eq_any(chunk))
                .filter(crate::db::planned_per_run())
                .select(Identity::as_select())
                .load(conn)?,
        );
    }
    found.retain(|identity| {
        pairs
            .iter()
            .any(|(c, e)| *c == identity.channel && *e == identity.external_id)
    });
    Ok(found)
}

/// Writes identities that do not exist yet, each linked to its customer, a few thousand
/// per statement.
pub fn insert_linked(
    conn: &mut DbConnection,
    links: &[(&str, &str, CustomerId)],
) -> QueryResult<()> {
    let at = now();
    let rows: Vec<_> = links
        .iter()
        .map(|(channel, external, customer)| {
            (
                channel_identities::channel.eq(*channel),
                channel_identities::external_id.eq(*external),
                channel_identities::customer_id.eq(Some(*customer)),
                channel_identities::created_at.eq(at),
                channel_identities::last_seen_at.eq(at),
            )
        })
        .collect();
    for chunk in rows.chunks(super::rows_per_insert(5)) {
        either_backend!(&mut *conn, c => diesel::insert_into(channel_identities::table)
            .values(chunk)
            .execute(c)?);
    }
    let owners: Vec<CustomerId> = links.iter().map(|(_, _, customer)| *customer).collect();
    super::duplicate_checks::queue_checks(conn, &owners)
}

/// The identity with this id, or NotFound.
pub fn get_identity(conn: &mut DbConnection, id: IdentityId) -> QueryResult<Identity> {
    channel_identities::table
        .find(id)
        .select(Identity::as_select())
        .first(conn)
}

/// Finds or creates the identity; concurrent first messages from one sender end with
/// one row (the unique key decides, the loser reads the winner's row).
pub fn upsert_identity(
    conn: &mut DbConnection,
    channel: &str,
    external_id: &str,
    display_name: Option<&str>,
) -> QueryResult<Identity> {
    if let Some(found) = find_identity(conn, channel, external_id)? {
        if display_name.is_some() && found.display_name.as_deref() != display_name {
            let changes = (
                channel_identities::display_name.eq(display_name),
                channel_identities::last_seen_at.eq(now()),
            );
            return kept::update(channel_identities::table.find(found.id), changes)
                .returning(Identity::as_returning())
                .get_result(conn);
        }
        return Ok(found);
    }
    let at = now();
    let row = (
        channel_identities::channel.eq(channel),
        channel_identities::external_id.eq(external_id),
        channel_identities::display_name.eq(display_name),
        channel_identities::created_at.eq(at),
        channel_identities::last_seen_at.eq(at),
    );
    let inserted: Option<Identity> = either_backend!(conn, c => diesel::insert_into(channel_identities::table)
            .values(row)
            .on_conflict_do_nothing()
            .returning(Identity::as_returning())
            .get_result(c)
            .optional()?);
    match inserted {
        Some(identity) => Ok(identity),
        // Another request inserted it first.
        None => find_identity(conn, channel, external_id)?.ok_or(diesel::result::Error::NotFound),
    }
}

/// Links (or with `None`, unlinks) an identity; the customer's duplicates are worked out
/// again.
pub fn update_identity_customer(
    conn: &mut DbConnection,
    id: IdentityId,
    customer: Option<CustomerId>,
) -> QueryResult<usize> {
    let changed = kept::update(
        channel_identities::table.find(id),
        channel_identities::customer_id.eq(customer),
    )
    .execute(conn)?;
    if let Some(customer) = customer {
        super::duplicate_checks::queue_checks(conn, &[customer])?;
    }
    Ok(changed)
}

/// The identities of a customer.
pub fn list_customer_identities(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> QueryResult<Vec<Identity>> {
    channel_identities::table
        .filter(channel_identities::customer_id.eq(customer))
        .order((
            channel_identities::channel.asc(),
            channel_identities::id.asc(),
        ))
        .select(Identity::as_select())
        .load(conn)
}

/// The identities of several customers (one query for a page of API results).
pub fn list_identities_for(
    conn: &mut DbConnection,
    customers: &[CustomerId],
) -> QueryResult<Vec<Identity>> {
    among_backend!(
        conn,
        channel_identities::customer_id.assume_not_null(),
        customers,
        |c, among| channel_identities::table
            .filter(among)
            .order((
                channel_identities::channel.asc(),
                channel_identities::id.asc(),
            ))
            .select(Identity::as_select())
            .load(c)
    )
}

/// Several identities by id (one query).
pub fn list_by_ids(conn: &mut DbConnection, ids: &[IdentityId]) -> QueryResult<Vec<Identity>> {
    channel_identities::table
        .filter(channel_identities::id.eq_any(ids))
        .select(Identity::as_select())
        .load(conn)
}

/// How each of several contacts is shown: its display name, else its external id.
pub fn list_labels(
    conn: &mut DbConnection,
    ids: &[IdentityId],
) -> QueryResult<Vec<(IdentityId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(IdentityId, Option<String>, String)> = channel_identities::table
        .filter(channel_identities::id.eq_any(ids))
        .select((
            channel_identities::id,
            channel_identities::display_name,
            channel_identities::external_id,
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|(id, name, external_id)| (id, name.unwrap_or(external_id)))
        .collect())
}

/// Puts a contact on the blacklist (with a reason and who did it) or takes it off.
pub fn update_blacklist(
    conn: &mut DbConnection,
    id: IdentityId,
    reason: Option<&str>,
    by: Option<String>,
) -> QueryResult<usize> {
    let on = reason.is_some();
    kept::update(
        channel_identities::table.find(id),
        (
            channel_identities::blacklist_reason.eq(reason),
            channel_identities::blacklisted_by.eq(by),
            channel_identities::blacklisted_at.eq(on.then(now)),
        ),
    )
    .execute(conn)
}

/// The identities on these channels with this external id that belong to a customer.
pub fn list_linked_with_id(
    conn: &mut DbConnection,
    channels: &[&str],
    external_id: &str,
) -> QueryResult<Vec<Identity>> {
    channel_identities::table
        .filter(channel_identities::channel.eq_any(channels))
        .filter(channel_identities::external_id.eq(external_id))
        .filter(channel_identities::customer_id.is_not_null())
        .select(Identity::as_select())
        .load(conn)
}

/// Ids of up to `limit` customers holding an identity whose id starts with `prefix`
/// (lower-case), through the index on the lower-cased id.
pub fn list_customers_by_id_prefix(
    conn: &mut DbConnection,
    prefix: &str,
    limit: i64,
) -> QueryResult<Vec<CustomerId>> {
    let lowered = super::lower(channel_identities::external_id.nullable());
    match conn {
        // A range on the expression index (SQLite's LIKE would not use it).
        DbConnection::Sqlite(c) => channel_identities::table
            .filter(lowered.ge(prefix))
            .filter(
                super::lower(channel_identities::external_id.nullable())
                    .lt(format!("{prefix}\u{7f}")),
            )
            .filter(channel_identities::customer_id.is_not_null())
            .select(channel_identities::customer_id.assume_not_null())
            .distinct()
            .limit(limit)
            .load(c),
        // LIKE on the text_pattern_ops index, right whatever the database's collation.
        DbConnection::Postgresql(c) => channel_identities::table
            .filter(lowered.like(prefix_pattern(prefix)).escape('\\'))
            .filter(channel_identities::customer_id.is_not_null())
            .select(channel_identities::customer_id.assume_not_null())
            .distinct()
            .limit(limit)
            .load(c),
    }
}

/// A LIKE pattern matching what starts with `prefix`.
pub fn prefix_pattern(prefix: &str) -> String {
    format!("{}%", super::like_escaped(prefix))
}
