//! Updates kept prepared. Diesel marks every `UPDATE` it builds as unsafe to keep (a
//! changeset of optional fields may leave a column out), so each run is parsed and planned
//! again: on PostgreSQL that is a round of parsing for every message counted on its
//! conversation. The statement here is written the same way, `UPDATE table SET changes
//! WHERE filter`, but only its parts decide whether it is kept: an `IN` list that varies
//! in length still says so, a fixed changeset does not. Diesel keeps it by its text, so a
//! changeset that leaves a column out is simply another statement.

use diesel::associations::HasTable;
use diesel::backend::Backend as DieselBackend;
use diesel::prelude::*;
use diesel::query_builder::{
    AsChangeset, AstPass, IntoUpdateTarget, Query, QueryFragment, QueryId,
};

/// `UPDATE table SET changes WHERE filter`, kept prepared by its text; with `R`, the
/// `RETURNING` clause that `returning` adds.
#[derive(Debug, Clone)]
pub struct KeptUpdate<T: Table, W, V, R = NoReturning> {
    from: T::FromClause,
    filter: W,
    changes: V,
    returning: R,
}

/// No `RETURNING` clause: the statement is only executed.
#[derive(Debug, Clone, Copy)]
pub struct NoReturning;

/// `RETURNING expression`.
#[derive(Debug, Clone, Copy)]
pub struct Returning<E>(E);

impl<T: Table, W, V> KeptUpdate<T, W, V> {
    /// The statement, giving back `expression` of each row it changed.
    pub fn returning<E>(self, expression: E) -> KeptUpdate<T, W, V, Returning<E>>
    where
        E: SelectableExpression<T>,
    {
        KeptUpdate {
            from: self.from,
            filter: self.filter,
            changes: self.changes,
            returning: Returning(expression),
        }
    }
}

/// Like `diesel::update(target).set(changes)`, kept prepared. `changes` always sets at
/// least one column.
pub fn update<T, V>(
    target: T,
    changes: V,
) -> KeptUpdate<<T as HasTable>::Table, <T as IntoUpdateTarget>::WhereClause, V::Changeset>
where
    T: IntoUpdateTarget,
    V: AsChangeset<Target = <T as HasTable>::Table>,
{
    let target = target.into_update_target();
    KeptUpdate {
        from: target.table.from_clause(),
        filter: target.where_clause,
        changes: changes.as_changeset(),
        returning: NoReturning,
    }
}

/// No identity of its own: kept by its text.
impl<T: Table, W, V, R> QueryId for KeptUpdate<T, W, V, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<T: Table, W, V, R, Conn> RunQueryDsl<Conn> for KeptUpdate<T, W, V, R> {}

impl<T: Table, W, V, E: Expression> Query for KeptUpdate<T, W, V, Returning<E>> {
    type SqlType = E::SqlType;
}

impl<T, W, V, R, DB> QueryFragment<DB> for KeptUpdate<T, W, V, R>
where
    DB: DieselBackend,
    T: Table,
    T::FromClause: QueryFragment<DB>,
    W: QueryFragment<DB>,
    V: QueryFragment<DB>,
    R: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changes.walk_ast(out.reborrow())?;
        self.filter.walk_ast(out.reborrow())?;
        self.returning.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<DB: DieselBackend> QueryFragment<DB> for NoReturning {
    fn walk_ast<'b>(&'b self, _: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Ok(())
    }
}

impl<E: QueryFragment<DB>, DB: DieselBackend> QueryFragment<DB> for Returning<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" RETURNING ");
        self.0.walk_ast(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::conversations;

    fn text<Q: QueryFragment<diesel::pg::Pg>>(query: &Q) -> String {
        diesel::debug_query::<diesel::pg::Pg, _>(query).to_string()
    }

    #[test]
    fn writes_the_statement_diesel_writes_and_may_be_kept() {
        let changes = (
            conversations::messages_count.eq(conversations::messages_count + 1),
            conversations::rating.eq(Some(4)),
        );
        let kept = update(conversations::table.find(7), changes);
        let diesel = diesel::update(conversations::table.find(7)).set(changes);
        assert_eq!(text(&kept), text(&diesel));
        let backend = diesel::pg::Pg;
        assert!(kept.is_safe_to_cache_prepared(&backend).unwrap());
        assert!(!diesel.is_safe_to_cache_prepared(&backend).unwrap());
    }

    #[test]
    fn returns_what_diesel_returns() {
        let changes = conversations::messages_count.eq(conversations::messages_count + 1);
        let kept =
            update(conversations::table.find(7), changes).returning(conversations::messages_count);
        let diesel = diesel::update(conversations::table.find(7))
            .set(changes)
            .returning(conversations::messages_count);
        assert_eq!(text(&kept), text(&diesel));
    }

    #[test]
    fn a_list_of_varying_length_still_says_so() {
        let target = conversations::table.filter(conversations::id.eq_any(vec![1, 2, 3]));
        let kept = update(target, conversations::rating.eq(None::<i32>));
        let backend = diesel::sqlite::Sqlite;
        assert!(!kept.is_safe_to_cache_prepared(&backend).unwrap());
    }
}
