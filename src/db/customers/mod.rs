//! Customers, their standard columns, and their custom property values.

mod counters;
mod keys;
mod values;

pub use counters::{count_new_conversation, count_on_customer, recount_customer};
pub use keys::{ContactField, find_by_key, ids_by_key, ids_containing, list_by_key};
pub use values::{
    insert_custom_values, list_custom_values, list_custom_values_for, replace_custom_value,
};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::customers;
use super::types::CustomerId;
use super::{DbConnection, kept, now};
use crate::domain::customer::public_id_for;

/// A customer as stored. Field order is the table's column order.
#[derive(
    Debug,
    Clone,
    Queryable,
    Selectable,
    Identifiable,
    Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = customers)]
pub struct Customer {
    pub id: CustomerId,
    pub public_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub gender: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub company: Option<String>,
    pub nickname: Option<String>,
    pub lifecycle: String,
    pub conversations_count: i64,
    pub messages_count: i64,
    #[diesel(deserialize_as = super::stamp::MaybeStamp)]
    pub last_contact_at: Option<NaiveDateTime>,
    pub csat_sum: i64,
    pub csat_count: i64,
    pub csat_average: Option<f64>,
    pub orders_count: i64,
    pub version: i64,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
    pub blacklisted: bool,
    pub blacklist_reason: Option<String>,
    pub blacklisted_by: Option<String>,
    #[diesel(deserialize_as = super::stamp::MaybeStamp)]
    pub blacklisted_at: Option<NaiveDateTime>,
    /// The folded display name (the name sort's key).
    pub sort_name: String,
    /// The last contact in microseconds, 0 when never (the last-contact sort's key).
    pub contact_sort: i64,
    /// The average satisfaction in thousandths, -1 when unrated (the satisfaction sort's key).
    pub csat_sort: i64,
    /// The search rules that indexed this row.
    pub search_version: i32,
    /// The folded words of the name and nickname, each between spaces (see
    /// `domain::search::search_text`); merge snapshots from before it read as empty.
    #[serde(default)]
    pub search_text: String,
    /// Whether lifecycle rules leave the stage alone (set by hand and pinned).
    #[serde(default)]
    pub lifecycle_pinned: bool,
}

/// Applies `$body` to the column of a standard property, by key; `$default` for others.
macro_rules! with_standard_column {
    ($key:expr, $col:ident => $body:expr, _ => $default:expr) => {
        match $key {
            "name" => {
                let $col = customers::name;
                $body
            }
            "email" => {
                let $col = customers::email;
                $body
            }
            "phone" => {
                let $col = customers::phone;
                $body
            }
            "gender" => {
                let $col = customers::gender;
                $body
            }
            "city" => {
                let $col = customers::city;
                $body
            }
            "country" => {
                let $col = customers::country;
                $body
            }
            "language" => {
                let $col = customers::language;
                $body
            }
            "company" => {
                let $col = customers::company;
                $body
            }
            "nickname" => {
                let $col = customers::nickname;
                $body
            }
            _ => $default,
        }
    };
}

impl Customer {
    /// The stored text of a standard property.
    pub fn standard_text(&self, key: &str) -> Option<&str> {
        let value = match key {
            "name" => &self.name,
            "email" => &self.email,
            "phone" => &self.phone,
            "gender" => &self.gender,
            "city" => &self.city,
            "country" => &self.country,
            "language" => &self.language,
            "company" => &self.company,
            "nickname" => &self.nickname,
            _ => return None,
        };
        value.as_deref()
    }

    /// Sets the stored text of a standard property (unknown keys are ignored).
    pub fn set_standard_text(&mut self, key: &str, text: Option<String>) {
        let slot = match key {
            "name" => &mut self.name,
            "email" => &mut self.email,
            "phone" => &mut self.phone,
            "gender" => &mut self.gender,
            "city" => &mut self.city,
            "country" => &mut self.country,
            "language" => &mut self.language,
            "company" => &mut self.company,
            "nickname" => &mut self.nickname,
            _ => return,
        };
        *slot = text;
    }

    /// The name to show: the name, else the nickname, else the e-mail or phone, else the ID.
    pub fn display_name(&self) -> String {
        let shown = [&self.name, &self.nickname, &self.email, &self.phone];
        shown_name(shown, &self.public_id)
    }
}

/// Ids for `count` new customers, in ascending order, that no other writer can be given.
/// Call it inside [`super::transaction`] and insert the rows in that same transaction: on
/// SQLite the transaction's write lock keeps the ids free until the rows are in (a given id
/// moves the table's counter past it); PostgreSQL takes them from the sequence.
pub fn reserve_ids(conn: &mut DbConnection, count: usize) -> QueryResult<Vec<CustomerId>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    if count == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    match conn {
        DbConnection::Sqlite(c) => {
            let last = diesel::sql_query(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'customers'), 0), \
                 COALESCE((SELECT MAX(id) FROM customers), 0)) AS id",
            )
            .get_result::<Id>(c)?
            .id;
            Ok((last + 1..=last + count).map(CustomerId).collect())
        }
        DbConnection::Postgresql(c) => Ok(diesel::sql_query(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) AS id \
             FROM generate_series(1, $1) ORDER BY 1",
        )
        .bind::<diesel::sql_types::BigInt, _>(count)
        .load::<Id>(c)?
        .into_iter()
        .map(|row| CustomerId(row.id))
        .collect()),
    }
}

/// Writes new customers as built in memory, ids from [`reserve_ids`], a few hundred rows
/// per statement. The caller writes their search terms ([`super::search::index_new`]).
pub fn insert_customers(conn: &mut DbConnection, rows: &[Customer]) -> QueryResult<()> {
    for chunk in rows.chunks(super::rows_per_insert(31)) {
        either_backend!(&mut *conn, c => diesel::insert_into(customers::table)
            .values(chunk)
            .execute(c)?);
    }
    Ok(())
}

/// A new customer's row before it is written: no values, no contacts, version 1.
pub fn blank(id: CustomerId, lifecycle: &str, at: NaiveDateTime) -> Customer {
    Customer {
        id,
        public_id: public_id_for(id.0),
        name: None,
        email: None,
        phone: None,
        gender: None,
        city: None,
        country: None,
        language: None,
        company: None,
        nickname: None,
        lifecycle: lifecycle.to_owned(),
        conversations_count: 0,
        messages_count: 0,
        last_contact_at: None,
        csat_sum: 0,
        csat_count: 0,
        csat_average: None,
        orders_count: 0,
        version: 1,
        created_at: at,
        updated_at: at,
        blacklisted: false,
        blacklist_reason: None,
        blacklisted_by: None,
        blacklisted_at: None,
        sort_name: String::new(),
        contact_sort: 0,
        csat_sort: -1,
        search_version: 0,
        search_text: String::new(),
        lifecycle_pinned: false,
    }
}

/// How many customers there are, from the counters kept per lifecycle stage.
pub fn count_everyone(conn: &mut DbConnection) -> QueryResult<i64> {
    use super::schema::customer_counts;
    let counts: Vec<i64> = either_backend!(conn, c => customer_counts::table
        .select(customer_counts::customers)
        .load(c))?;
    Ok(counts.iter().sum::<i64>().max(0))
}

/// The customer with this public ID, if any.
pub fn find_customer_by_public_id(
    conn: &mut DbConnection,
    public_id: &str,
) -> QueryResult<Option<Customer>> {
    either_backend!(conn, c => customers::table
        .filter(customers::public_id.eq(public_id))
        .select(Customer::as_select())
        .first(c)
        .optional())
}

/// The customer with this id, or NotFound.
pub fn get_customer(conn: &mut DbConnection, id: CustomerId) -> QueryResult<Customer> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
}

/// A page of customers, newest first, after the keyset cursor `(created_at, id)`.
pub fn list_customers(
    conn: &mut DbConnection,
    after: Option<(NaiveDateTime, CustomerId)>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let mut query = customers::table
        .select(Customer::as_select())
        .order((customers::created_at.desc(), customers::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            customers::created_at
                .lt(at)
                .or(customers::created_at.eq(at).and(customers::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Claims the next version of a customer if it is still at `expected`. `Ok(None)` means
/// somebody else saved in between.
pub fn bump_version(
    conn: &mut DbConnection,
    id: CustomerId,
    expected: Option<i64>,
) -> QueryResult<Option<i64>> {
    let changes = (
        customers::version.eq(customers::version + 1),
        customers::updated_at.eq(now()),
    );
    let target = customers::table.find(id);
    match expected {
        Some(version) => kept::update(target.filter(customers::version.eq(version)), changes)
            .returning(customers::version)
            .get_result(conn)
            .optional(),
        None => kept::update(target, changes)
            .returning(customers::version)
            .get_result(conn)
            .optional(),
    }
}

/// New texts of standard property columns; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = customers)]
struct StandardChanges<'a> {
    name: Option<Option<&'a str>>,
    email: Option<Option<&'a str>>,
    phone: Option<Option<&'a str>>,
    gender: Option<Option<&'a str>>,
    city: Option<Option<&'a str>>,
    country: Option<Option<&'a str>>,
    language: Option<Option<&'a str>>,
    company: Option<Option<&'a str>>,
    nickname: Option<Option<&'a str>>,
}

/// Sets standard property columns of `before` (the row as it is now) in one statement,
/// and re-indexes its search terms and sort name once if the display name may have moved.
/// An unknown key is refused as NotFound, before anything is written.
pub fn update_standard(
    conn: &mut DbConnection,
    before: &Customer,
    texts: &[(&str, Option<&str>)],
) -> QueryResult<()> {
    let mut changes = StandardChanges::default();
    for (key, text) in texts {
        let slot = match *key {
            "name" => &mut changes.name,
            "email" => &mut changes.email,
            "phone" => &mut changes.phone,
            "gender" => &mut changes.gender,
            "city" => &mut changes.city,
            "country" => &mut changes.country,
            "language" => &mut changes.language,
            "company" => &mut changes.company,
            "nickname" => &mut changes.nickname,
            _ => return Err(diesel::result::Error::NotFound),
        };
        *slot = Some(*text);
    }
    if texts.is_empty() {
        return Ok(());
    }
    // Kept by its text: one statement per set of columns a form saves.
    let after: Customer = kept::update(customers::table.find(before.id), &changes)
        .returning(customers::all_columns)
        .get_result(conn)?;
    if texts
        .iter()
        .any(|(key, _)| super::search::feeds_display_name(key))
    {
        super::search::index_customer(conn, Some(before), &after)?;
    }
    if texts.iter().any(|(key, _)| feeds_duplicates(key)) {
        super::duplicate_checks::queue_checks(conn, &[before.id])?;
    }
    Ok(())
}

/// Whether a standard property is compared when looking for duplicates.
fn feeds_duplicates(key: &str) -> bool {
    matches!(
        key,
        "name" | "email" | "phone" | "city" | "company" | "country"
    )
}

/// How many customers have a value in a standard property's column.
pub fn count_standard_set(conn: &mut DbConnection, key: &str) -> QueryResult<i64> {
    with_standard_column!(key, column => customers::table.filter(column.is_not_null()).count().get_result(conn),
        _ => Ok(0))
}

/// Sets the lifecycle stage.
pub fn update_lifecycle(
    conn: &mut DbConnection,
    id: CustomerId,
    lifecycle: &str,
) -> QueryResult<usize> {
    kept::update(
        customers::table.find(id),
        customers::lifecycle.eq(lifecycle),
    )
    .execute(conn)
}

/// A page of customers changed at or after `since`, oldest change first, after the keyset
/// cursor `(updated_at, id)` (the API's sync feed).
pub fn list_customers_updated(
    conn: &mut DbConnection,
    since: Option<NaiveDateTime>,
    after: Option<(NaiveDateTime, CustomerId)>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let mut query = customers::table
        .select(Customer::as_select())
        .order((customers::updated_at.asc(), customers::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(customers::updated_at.ge(since));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            customers::updated_at
                .gt(at)
                .or(customers::updated_at.eq(at).and(customers::id.gt(id))),
        );
    }
    query.load(conn)
}

/// The first of a customer's name, nickname, e-mail and phone that is there, else their ID.
fn shown_name(texts: [&Option<String>; 4], public_id: &str) -> String {
    texts
        .into_iter()
        .find_map(Option::as_deref)
        .map_or_else(|| format!("Customer {public_id}"), str::to_owned)
}

/// The names to show for several customers ([`Customer::display_name`]), reading only
/// what a name is made of (one query; none for no ids).
pub fn list_display_names(
    conn: &mut DbConnection,
    ids: &[CustomerId],
) -> QueryResult<Vec<(CustomerId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    type Parts = (
        CustomerId,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let found: Vec<Parts> = customers::table
        .filter(customers::id.eq_any(ids))
        .select((
            customers::id,
            customers::name,
            customers::nickname,
            customers::email,
            customers::phone,
            customers::public_id,
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|(id, name, nickname, email, phone, public_id)| {
            (
                id,
                shown_name([&name, &nickname, &email, &phone], &public_id),
            )
        })
        .collect())
}

/// Several customers by id (one query; none for no ids).
pub fn list_by_ids(conn: &mut DbConnection, ids: &[CustomerId]) -> QueryResult<Vec<Customer>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    among_backend!(conn, customers::id, ids, |c, among| customers::table
        .filter(among)
        .select(Customer::as_select())
        .load(c))
}

/// Which of these customers still exist (one index-only query; none for no ids).
pub fn list_present(conn: &mut DbConnection, ids: &[CustomerId]) -> QueryResult<Vec<CustomerId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    among_backend!(conn, customers::id, ids, |c, among| customers::table
        .filter(among)
        .select(customers::id)
        .load(c))
}

/// The ids of the customers with these public IDs (unknown ones are left out), in one query.
pub fn ids_for_public_ids(
    conn: &mut DbConnection,
    public_ids: &[String],
) -> QueryResult<Vec<CustomerId>> {
    customers::table
        .filter(customers::public_id.eq_any(public_ids))
        .select(customers::id)
        .load(conn)
}

/// The backend type of the connection enum, for boxed queries built in pieces.
pub type Backend = <DbConnection as diesel::Connection>::Backend;

/// Puts a customer on the blacklist (with a reason and who did it) or takes them off.
pub fn update_blacklist(
    conn: &mut DbConnection,
    id: CustomerId,
    reason: Option<&str>,
    by: Option<String>,
) -> QueryResult<usize> {
    let on = reason.is_some();
    kept::update(
        customers::table.find(id),
        (
            customers::blacklisted.eq(on),
            customers::blacklist_reason.eq(reason),
            customers::blacklisted_by.eq(by),
            customers::blacklisted_at.eq(on.then(now)),
        ),
    )
    .execute(conn)
}
