//! Values written into a statement's text instead of bound, for statements that must stay
//! prepared. PostgreSQL plans a written value for itself even in a prepared statement's
//! generic plan (a partial index's condition holds for it), where a bound one is guessed.
//! Literal SQL (`diesel::dsl::sql`, `sql_query`) does that too, but Diesel never keeps a
//! statement holding it, so each run is parsed and planned again. Here the statement's
//! text is the same on every run, and Diesel keeps it by that text.

use diesel::backend::Backend as DieselBackend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Integer;

/// An integer written into the statement.
#[derive(Debug, Clone, Copy)]
pub struct WrittenInteger(pub i32);

/// No identity of its own: the statement is kept by its text, which holds the value.
impl QueryId for WrittenInteger {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Expression for WrittenInteger {
    type SqlType = Integer;
}

impl ValidGrouping<()> for WrittenInteger {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<T> AppearsOnTable<T> for WrittenInteger {}

impl<T> SelectableExpression<T> for WrittenInteger {}

impl<DB: DieselBackend> QueryFragment<DB> for WrittenInteger {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(&self.0.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::customers;

    #[test]
    fn each_value_is_its_own_statement() {
        // Kept by text, never by type: a static identity would run the statement prepared
        // for one value with another.
        let below = |n| customers::table.filter(customers::search_version.lt(WrittenInteger(n)));
        fn identity<Q: QueryId>(_: &Q) -> Option<std::any::TypeId> {
            Q::query_id()
        }
        assert!(identity(&below(2)).is_none());
        let text = |n| diesel::debug_query::<diesel::pg::Pg, _>(&below(n)).to_string();
        assert!(text(2).contains("\"search_version\" < 2"), "{}", text(2));
        assert!(text(3).contains("\"search_version\" < 3"));
    }
}
