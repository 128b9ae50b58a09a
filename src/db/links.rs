//! Self-service links, and the requests for one made on the "text me my link" page.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::{link_requests, self_service_links};
use super::types::{CustomerId, MessageId};
use super::{DbConnection, now};

/// A link as stored (never the token itself).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = self_service_links)]
pub struct Link {
    pub id: i64,
    pub customer_id: CustomerId,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a new link.
pub fn insert_link(
    conn: &mut DbConnection,
    customer: CustomerId,
    hash: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(self_service_links::table)
        .values((
            self_service_links::customer_id.eq(customer),
            self_service_links::token_hash.eq(hash),
            self_service_links::created_at.eq(now()),
            self_service_links::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// The link with this token hash, if any.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Link>> {
    self_service_links::table
        .filter(self_service_links::token_hash.eq(hash))
        .select(Link::as_select())
        .first(conn)
        .optional()
}

/// The link with this id, if any.
pub fn find_link(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Link>> {
    self_service_links::table
        .find(id)
        .select(Link::as_select())
        .first(conn)
        .optional()
}

/// Marks a link opened, if it was not yet; false when someone opened it first.
pub fn mark_opened(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let changed = kept::update(
        self_service_links::table
            .find(id)
            .filter(self_service_links::opened_at.is_null()),
        self_service_links::opened_at.eq(now()),
    )
    .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes every link (and so every self-service session) of a customer.
pub fn revoke_all(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<usize> {
    kept::update(
        self_service_links::table
            .filter(self_service_links::customer_id.eq(customer))
            .filter(self_service_links::revoked_at.is_null()),
        self_service_links::revoked_at.eq(now()),
    )
    .execute(conn)
}

/// Records a "text me my link" request under its token's hash, with the message that
/// carried the link when one was sent.
pub fn insert_request(
    conn: &mut DbConnection,
    hash: &str,
    message: Option<MessageId>,
) -> QueryResult<usize> {
    diesel::insert_into(link_requests::table)
        .values((
            link_requests::token_hash.eq(hash),
            link_requests::message_id.eq(message),
            link_requests::created_at.eq(now()),
        ))
        .execute(conn)
}

/// A request by its token's hash: `Some(message)` when it exists (the message may be
/// `None`: nothing was sent, and the page must not say so).
pub fn find_request(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Option<MessageId>>> {
    link_requests::table
        .filter(link_requests::token_hash.eq(hash))
        .select(link_requests::message_id)
        .first(conn)
        .optional()
}

/// Removes requests older than `before`.
pub fn delete_requests_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(link_requests::table.filter(link_requests::created_at.lt(before))).execute(conn)
}
