//! Tags and which customers carry them. `tags.customers_count` is kept with every change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::kept;
use super::schema::{customer_tags, tags};
use super::types::{CustomerId, TagId};
use super::{DbConnection, now};

/// A tag as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tags)]
pub struct Tag {
    pub id: TagId,
    pub name: String,
    pub name_key: String,
    pub color: String,
    pub customers_count: i64,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
}

impl Tag {
    /// The CSS class of the tag's colour.
    pub fn css_class(&self) -> &'static str {
        crate::domain::customer::tag_class(&self.color)
    }
}

/// Every tag, by name.
pub fn list_tags(conn: &mut DbConnection) -> QueryResult<Vec<Tag>> {
    tags::table
        .select(Tag::as_select())
        .order(tags::name_key.asc())
        .load(conn)
}

/// The tag with this id, or NotFound.
pub fn get_tag(conn: &mut DbConnection, id: TagId) -> QueryResult<Tag> {
    tags::table.find(id).select(Tag::as_select()).first(conn)
}

/// Whether another tag already has this name (in any case).
pub fn name_taken(conn: &mut DbConnection, name: &str, except: Option<TagId>) -> QueryResult<bool> {
    let mut query = tags::table
        .filter(tags::name_key.eq(name.to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(tags::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Creates a tag.
pub fn insert_tag(conn: &mut DbConnection, name: &str, color: &str) -> QueryResult<usize> {
    diesel::insert_into(tags::table)
        .values((
            tags::name.eq(name),
            tags::name_key.eq(name.to_lowercase()),
            tags::color.eq(color),
            tags::created_at.eq(now()),
        ))
        .execute(conn)
}

/// Renames or recolours a tag.
pub fn update_tag(
    conn: &mut DbConnection,
    id: TagId,
    name: &str,
    color: &str,
) -> QueryResult<usize> {
    kept::update(
        tags::table.find(id),
        (
            tags::name.eq(name),
            tags::name_key.eq(name.to_lowercase()),
            tags::color.eq(color),
        ),
    )
    .execute(conn)
}

/// Deletes a tag (and, by cascade, its assignments).
pub fn delete_tag(conn: &mut DbConnection, id: TagId) -> QueryResult<usize> {
    diesel::delete(tags::table.find(id)).execute(conn)
}

/// The tags of one customer, by name.
pub fn list_customer_tags(conn: &mut DbConnection, customer: CustomerId) -> QueryResult<Vec<Tag>> {
    either_backend!(conn, c => customer_tags::table
        .inner_join(tags::table)
        .filter(customer_tags::customer_id.eq(customer))
        .order(tags::name_key.asc())
        .select(Tag::as_select())
        .load(c))
}

/// Tags customers who do not hold these tags yet (new ones), a few thousand pairs per
/// statement, and moves each tag's counter once.
pub fn insert_customer_tags(
    conn: &mut DbConnection,
    pairs: &[(CustomerId, TagId)],
) -> QueryResult<()> {
    let at = now();
    let rows: Vec<_> = pairs
        .iter()
        .map(|(customer, tag)| {
            (
                customer_tags::customer_id.eq(*customer),
                customer_tags::tag_id.eq(*tag),
                customer_tags::created_at.eq(at),
            )
        })
        .collect();
    for chunk in rows.chunks(super::rows_per_insert(3)) {
        either_backend!(&mut *conn, c => diesel::insert_into(customer_tags::table)
            .values(chunk)
            .execute(c)?);
    }
    let mut added: std::collections::BTreeMap<TagId, i64> = std::collections::BTreeMap::new();
    for (_, tag) in pairs {
        *added.entry(*tag).or_default() += 1;
    }
    for (tag, count) in added {
        kept::update(
            tags::table.find(tag),
            tags::customers_count.eq(tags::customers_count + count),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Tags a customer; `false` when the tag was already there.
pub fn add_customer_tag(
    conn: &mut DbConnection,
    customer: CustomerId,
    tag: TagId,
) -> QueryResult<bool> {
    let exists: i64 = customer_tags::table
        .filter(customer_tags::customer_id.eq(customer))
        .filter(customer_tags::tag_id.eq(tag))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(customer_tags::table)
        .values((
            customer_tags::customer_id.eq(customer),
            customer_tags::tag_id.eq(tag),
            customer_tags::created_at.eq(now()),
        ))
        .execute(conn)?;
    kept::update(
        tags::table.find(tag),
        tags::customers_count.eq(tags::customers_count + 1),
    )
    .execute(conn)?;
    Ok(true)
}

/// Untags a customer; `false` when the tag was not there.
pub fn remove_customer_tag(
    conn: &mut DbConnection,
    customer: CustomerId,
    tag: TagId,
) -> QueryResult<bool> {
    let removed = diesel::delete(
        customer_tags::table
            .filter(customer_tags::customer_id.eq(customer))
            .filter(customer_tags::tag_id.eq(tag)),
    )
    .execute(conn)?;
    if removed == 0 {
        return Ok(false);
    }
    kept::update(
        tags::table.find(tag),
        tags::customers_count.eq(tags::customers_count - 1),
    )
    .execute(conn)?;
    Ok(true)
}

/// The tags of several customers at once (for list pages: one query, not one per row).
pub fn list_tags_for_customers(
    conn: &mut DbConnection,
    customers: &[CustomerId],
) -> QueryResult<std::collections::HashMap<CustomerId, Vec<Tag>>> {
    if customers.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(CustomerId, Tag)> =
        among_backend!(conn, customer_tags::customer_id, customers, |c, among| {
            customer_tags::table
                .inner_join(tags::table)
                .filter(among)
                .order(tags::name_key.asc())
                .select((customer_tags::customer_id, Tag::as_select()))
                .load(c)
        })?;
    let mut by_customer: std::collections::HashMap<CustomerId, Vec<Tag>> =
        std::collections::HashMap::new();
    for (customer, tag) in rows {
        by_customer.entry(customer).or_default().push(tag);
    }
    Ok(by_customer)
}
