//! A column among a list of values (customer ids, words), passed so the statement's
//! text does not change with the list's length. On SQLite the list is one bound JSON
//! array read by `json_each`: a statement of hundreds of placeholders is parsed and
//! planned again on every request (it cost more than running it: a third of a fuzzy
//! search's time at a million customers), where one placeholder keeps it prepared.
//! PostgreSQL already binds a list as one array (`= ANY($1)`).

use diesel::backend::Backend as DieselBackend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Text};

use super::DbConnection;
use super::customers::Backend;
use super::schema::customers;
use super::types::CustomerId;

/// A condition on `customers`.
pub type Condition = Box<dyn BoxableExpression<customers::table, Backend, SqlType = Bool>>;

/// `customers.id` among `ids`, written for the connection's backend.
pub fn customer_among(ids: &[CustomerId], sqlite: bool) -> Condition {
    if sqlite {
        let list: Vec<i64> = ids.iter().map(|id| id.0).collect();
        Box::new(Among::new(customers::id, &list))
    } else {
        Box::new(customers::id.eq_any(ids.to_vec()))
    }
}

/// Whether a connection is to SQLite.
pub fn is_sqlite(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Sqlite(_))
}

/// `column IN (SELECT value FROM json_each(?))`: SQLite only.
#[derive(Debug, Clone, QueryId)]
pub struct Among<C> {
    column: C,
    json: String,
}

impl<C> Among<C> {
    /// `column` among `values`.
    pub fn new<V: serde::Serialize>(column: C, values: &[V]) -> Self {
        Among {
            column,
            json: serde_json::to_string(values).unwrap_or_else(|_| "[]".into()),
        }
    }
}

impl<C> Expression for Among<C> {
    type SqlType = Bool;
}

impl<C: ValidGrouping<()>> ValidGrouping<()> for Among<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C: AppearsOnTable<T>, T> AppearsOnTable<T> for Among<C> {}

impl<C: SelectableExpression<T>, T> SelectableExpression<T> for Among<C> {}

impl<C, DB> QueryFragment<DB> for Among<C>
where
    C: QueryFragment<DB>,
    DB: DieselBackend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}
