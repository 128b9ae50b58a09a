//! Finding customers by a value that points at one of them (e-mail, phone, customer ID).

use crate::db::DbConnection;
use crate::db::customers::Backend;
use crate::db::schema::customers;
use crate::db::types::CustomerId;
use crate::domain::customer::MatchKey;
use diesel::prelude::*;

/// The customer holding this key, if exactly one does: two customers with one key are no
/// match at all, so nothing is guessed. Used by inbound auto-link and the import.
pub fn find_by_key(
    conn: &mut DbConnection,
    key: MatchKey,
    value: &str,
) -> QueryResult<Option<CustomerId>> {
    let found: Vec<CustomerId> = holding(key, value)
        .select(customers::id)
        .limit(2)
        .load(conn)?;
    Ok(if found.len() == 1 {
        found.first().copied()
    } else {
        None
    })
}

/// Ids of up to `limit` customers holding this key (several may: a lookup, not a match).
pub fn ids_by_key(
    conn: &mut DbConnection,
    key: MatchKey,
    value: &str,
    limit: i64,
) -> QueryResult<Vec<CustomerId>> {
    holding(key, value)
        .select(customers::id)
        .order(customers::id.desc())
        .limit(limit)
        .load(conn)
}

/// The customers holding this value of a key, compared in the key's lookup form: the one
/// place a key becomes a condition.
pub fn holding(key: MatchKey, value: &str) -> customers::BoxedQuery<'static, Backend> {
    let value = key.lookup_form(value);
    let all = customers::table.into_boxed();
    match key {
        MatchKey::CustomerId => all.filter(customers::public_id.eq(value)),
        MatchKey::Email => all.filter(crate::db::lower(customers::email).eq(value)),
        MatchKey::Phone => all.filter(customers::phone.eq(value)),
    }
}

/// Every (value in lookup form, customer) pair for these values of one key. The values
/// come in batches of thousands, so the query is planned for them on every run.
pub fn list_by_key(
    conn: &mut DbConnection,
    key: MatchKey,
    values: &[String],
) -> QueryResult<Vec<(Option<String>, CustomerId)>> {
    let planned = || customers::table.filter(crate::db::planned_per_run());
    match key {
        MatchKey::CustomerId => planned()
            .filter(customers::public_id.eq_any(values))
            .select((customers::public_id.nullable(), customers::id))
            .load(conn),
        MatchKey::Email => planned()
            .filter(crate::db::lower(customers::email).eq_any(values))
            .select((crate::db::lower(customers::email), customers::id))
            .load(conn),
        MatchKey::Phone => planned()
            .filter(customers::phone.eq_any(values))
            .select((customers::phone, customers::id))
            .load(conn),
    }
}

/// A contact field searched for a piece of its text ("E-mail contains", "Phone contains").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactField {
    /// The e-mail address, lower-cased.
    Email,
    /// The phone number as stored (E.164); the piece is digits.
    Phone,
}

/// The newest customers a piece is first tested on, and how many of them holding it make
/// it common: a page tested row by row then fills at once, while the trigram index would
/// read the long lists of its every trigram (190 ms for "maria." at a million).
const SAMPLE: i64 = 500;
const COMMON_AT: i64 = 12;

/// Fewer holders among the newest than this never make a piece common: one or two could
/// be chance.
const COMMON_FROM: i64 = 3;

/// Whether `piece` is common among the newest customers (under a millisecond: the
/// creation index carries the e-mail on both databases and the phone on PostgreSQL):
/// held by [`COMMON_AT`] of them, or by enough that the whole table would hold more than
/// a list is worth (the break-even of [`crate::db::search::list_at_most`]). "maria." is
/// held by 10 of the newest 500 at 100,000 customers, 2,612 in all: listing them took
/// 16 ms a page, walking the creation index takes about one.
fn common(conn: &mut DbConnection, field: ContactField, piece: &str) -> QueryResult<bool> {
    let held: i64 = NewestHolding {
        field,
        pattern: format!("%{}%", crate::db::like_escaped(piece)),
    }
    .get_result(conn)?;
    // The table's size matters only between the two bounds.
    let everyone = if (COMMON_FROM..COMMON_AT).contains(&held) {
        super::count_everyone(conn)?
    } else {
        0
    };
    Ok(is_common(held, everyone))
}

/// How many of the newest [`SAMPLE`] customers hold a LIKE pattern in a contact field.
/// Its text is the same on every run, so it stays prepared (see [`crate::db::written`]);
/// its plan (the newest rows, then the test) does not depend on the pattern.
struct NewestHolding {
    field: ContactField,
    pattern: String,
}

impl diesel::query_builder::QueryId for NewestHolding {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for NewestHolding {
    type SqlType = diesel::sql_types::BigInt;
}

impl<Conn> RunQueryDsl<Conn> for NewestHolding {}

impl<DB> diesel::query_builder::QueryFragment<DB> for NewestHolding
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql(match self.field {
            ContactField::Email => "SELECT COUNT(*) FROM (SELECT lower(email) AS v",
            ContactField::Phone => "SELECT COUNT(*) FROM (SELECT phone AS v",
        });
        out.push_sql(&format!(
            " FROM customers ORDER BY created_at DESC, id DESC LIMIT {SAMPLE}) newest \
             WHERE v LIKE "
        ));
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.pattern)?;
        out.push_sql(" ESCAPE '\\'");
        Ok(())
    }
}

/// Whether a piece `held` by that many of the newest [`SAMPLE`] customers, among
/// `everyone`, is common (see [`common`]).
fn is_common(held: i64, everyone: i64) -> bool {
    held >= COMMON_AT
        || (held >= COMMON_FROM
            && held * everyone / SAMPLE > crate::db::search::list_at_most(everyone) as i64)
}

/// The e-mail as PostgreSQL's trigram index holds it (migration 000038): pg_trgm reads
/// only letters and digits, so the punctuation an address is told by becomes digits.
const EMAIL_MARKS: &str = "translate(lower(customers.email), '@.-_+', '01234')";

/// A piece of an e-mail turned as [`EMAIL_MARKS`] turns the address.
fn email_marks(piece: &str) -> String {
    piece
        .chars()
        .map(|c| match c {
            '@' => '0',
            '.' => '1',
            '-' => '2',
            '_' => '3',
            '+' => '4',
            c => c,
        })
        .collect()
}

/// Ids of the customers whose e-mail (lower-cased) or phone contains `piece`, read from
/// the trigram index (`customer_contact_grams` on SQLite, pg_trgm on PostgreSQL), when at
/// most `limit` do. `None` when more do, when the piece is common among the newest
/// customers, or when it has no three characters in a row for the index to look up: the
/// caller then tests each customer instead. On SQLite
/// the index cannot honour an escape character, so `%` and `_` in the piece are read as
/// one-character wildcards there: the ids are a superset that the caller's exact
/// condition narrows.
pub fn ids_containing(
    conn: &mut DbConnection,
    field: ContactField,
    piece: &str,
    limit: i64,
) -> QueryResult<Option<Vec<CustomerId>>> {
    if !crate::domain::search::has_trigram(piece) || common(conn, field, piece)? {
        return Ok(None);
    }
    let found: Vec<CustomerId> = match conn {
        DbConnection::Sqlite(c) => {
            #[derive(QueryableByName)]
            struct Found {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            let column = match field {
                ContactField::Email => "email",
                ContactField::Phone => "phone",
            };
            let pattern = format!("%{}%", piece.replace('%', "_"));
            diesel::sql_query(format!(
                "SELECT rowid AS id FROM customer_contact_grams WHERE {column} LIKE ? LIMIT ?"
            ))
            .bind::<diesel::sql_types::Text, _>(pattern)
            .bind::<diesel::sql_types::BigInt, _>(limit + 1)
            .load::<Found>(c)?
            .into_iter()
            .map(|f| CustomerId(f.id))
            .collect()
        }
        DbConnection::Postgresql(c) => {
            let pattern = format!("%{}%", crate::db::like_escaped(piece));
            let query = customers::table.select(customers::id).limit(limit + 1);
            match field {
                // Looked up as the index holds it (punctuation as digits, written as
                // SQL so that it matches the index's expression), then rechecked as typed.
                ContactField::Email => query
                    .filter(
                        diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                            EMAIL_MARKS,
                        )
                        .like(format!(
                            "%{}%",
                            crate::db::like_escaped(&email_marks(piece))
                        ))
                        .escape('\\'),
                    )
                    .filter(
                        crate::db::lower(customers::email)
                            .like(pattern)
                            .escape('\\'),
                    )
                    .load(c)?,
                ContactField::Phone => query
                    .filter(customers::phone.like(pattern).escape('\\'))
                    .load(c)?,
            }
        }
    };
    Ok((found.len() as i64 <= limit).then_some(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_is_common_when_the_table_would_hold_more_than_a_list_is_worth() {
        // Twelve of the newest 500 are common at any size.
        assert!(is_common(12, 40));
        // "maria." at 100,000: 10 of 500, about 2,000 in all against a break-even of 1,612.
        assert!(is_common(10, 100_000));
        // … but rare at 10,000 (about 200 in all, listed at once).
        assert!(!is_common(10, 10_000));
        // At a million, three of 500 mean about 6,000 holders (break-even 5,099); two
        // could be chance.
        assert!(is_common(3, 1_000_000));
        assert!(!is_common(2, 1_000_000));
        assert!(!is_common(0, 1_000_000));
    }

    #[test]
    fn an_email_piece_is_turned_as_the_index_turns_the_address() {
        assert_eq!(
            email_marks("maria.garcia@mail-box.example"),
            "maria1garcia0mail2box1example"
        );
        assert_eq!(email_marks("bob_builder+news"), "bob3builder4news");
        assert_eq!(email_marks("100%"), "100%");
    }
}
