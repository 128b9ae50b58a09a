//! How many rows a query yields, counted where the rows are: `SELECT COUNT(*) FROM
//! (query)`. A bounded count ("up to 1,000 open conversations") written as the query with
//! its limit would otherwise send every row it counts to the server, to be read and
//! thrown away.

use diesel::backend::Backend as DieselBackend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;

use super::DbConnection;

/// The number of rows `query` yields (its limit included).
pub fn rows_of<Q>(conn: &mut DbConnection, query: Q) -> QueryResult<i64>
where
    CountOf<Q>: diesel::query_dsl::LoadQuery<'static, DbConnection, i64>,
{
    CountOf(query).get_result(conn)
}

/// `SELECT COUNT(*) FROM (query)`.
#[derive(Debug, Clone, QueryId)]
pub struct CountOf<Q>(Q);

impl<Q> Query for CountOf<Q> {
    type SqlType = BigInt;
}

impl<Q, Conn> RunQueryDsl<Conn> for CountOf<Q> {}

impl<Q, DB> QueryFragment<DB> for CountOf<Q>
where
    Q: QueryFragment<DB>,
    DB: DieselBackend,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT COUNT(*) FROM (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") AS counted");
        Ok(())
    }
}
