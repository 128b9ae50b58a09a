//! How the generator's rows reach the database: literal multi-row INSERTs on SQLite, COPY
//! on PostgreSQL; and the secondary indexes set aside during a large load.

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;

use crate::db::DbConnection;

/// One value of a generated row.
#[derive(Clone, Copy)]
pub(super) enum Lit<'a> {
    Int(i64),
    Real(f64),
    Text(&'a str),
    At(NaiveDateTime),
    Null,
    False,
}

impl Lit<'_> {
    /// As an SQL literal (SQLite's multi-row INSERT).
    fn sql(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Lit::Int(n) => write!(out, "{n}"),
            Lit::Real(x) => write!(out, "{x}"),
            Lit::Text(text) => write!(out, "'{}'", text.replace('\'', "''")),
            Lit::At(at) => write!(out, "'{}'", at.format("%F %T%.f")),
            Lit::Null => write!(out, "NULL"),
            Lit::False => write!(out, "FALSE"),
        };
    }

    /// As a field of PostgreSQL's COPY text format.
    fn copy(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Lit::Int(n) => write!(out, "{n}"),
            Lit::Real(x) => write!(out, "{x}"),
            Lit::Text(text) => {
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
                Ok(())
            }
            Lit::At(at) => write!(out, "{}", at.format("%F %T%.f")),
            Lit::Null => write!(out, "\\N"),
            Lit::False => write!(out, "f"),
        };
    }
}

/// Writes a COPY text body into one table's columns.
pub(super) type Copy = fn(&mut diesel::PgConnection, &[u8]) -> diesel::QueryResult<usize>;

/// One table's rows: one multi-row INSERT on SQLite, one COPY on PostgreSQL (which would
/// spend as long parsing the literals of an INSERT as executing it).
#[derive(Clone)]
pub(super) struct Rows {
    head: String,
    copy: Copy,
    postgres: bool,
    body: String,
    count: usize,
}

/// The rows of `table (columns…)`: its INSERT head and its COPY from one column list.
macro_rules! rows {
    ($postgres:expr, $table:ident ($($column:ident),+ $(,)?)) => {
        Rows::new(
            $postgres,
            format!(
                "INSERT INTO {} ({})",
                stringify!($table),
                [$(stringify!($column)),+].join(", ")
            ),
            |conn, body| {
                use diesel::ExecuteCopyFromDsl;
                use $crate::db::schema::$table;
                diesel::copy_from($table::table)
                    .from_raw_data(($($table::$column,)+), |out: &mut dyn std::io::Write| {
                        out.write_all(body).map_err(|e| {
                            diesel::result::Error::SerializationError(Box::new(e))
                        })
                    })
                    .execute(conn)
            },
        )
    };
}

impl Rows {
    pub(super) fn new(postgres: bool, head: String, copy: Copy) -> Rows {
        Rows {
            head,
            copy,
            postgres,
            body: String::new(),
            count: 0,
        }
    }

    pub(super) fn push(&mut self, values: &[Lit<'_>]) {
        if self.postgres {
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    self.body.push('\t');
                }
                value.copy(&mut self.body);
            }
            self.body.push('\n');
        } else {
            self.body.push_str(if self.count > 0 { ",(" } else { "(" });
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    self.body.push(',');
                }
                value.sql(&mut self.body);
            }
            self.body.push(')');
        }
        self.count += 1;
    }

    pub(super) fn flush(&mut self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        if self.count > 0 {
            match conn {
                DbConnection::Postgresql(c) => {
                    (self.copy)(c, self.body.as_bytes())?;
                }
                DbConnection::Sqlite(_) => {
                    let sql = format!("{} VALUES {}", self.head, self.body);
                    diesel::sql_query(sql).execute(conn)?;
                }
            }
            self.body.clear();
            self.count = 0;
        }
        Ok(())
    }
}

/// What a large load into an empty database sets aside until it ends: the secondary
/// indexes of the tables it fills (not primary keys or unique ones, which constraints may
/// own), and on SQLite the search index's key. Sorting a million keys once costs a
/// fraction of inserting them one by one into random places of a growing tree (on SQLite,
/// 275 s → 222 s at 1M; PostgreSQL, whose COPY costs more than its index upkeep, gained
/// nothing from it and keeps its key). On SQLite the triggers keeping the e-mail and phone
/// trigram index are set aside too, and the index built once at the end. On PostgreSQL the
/// foreign keys are: each row checked its parents with a lookup of its own, about forty per
/// customer, more than half of the load's time (200,000 customers: rows 62.8 s → 27.7 s),
/// where adding a key back checks every row in one join (3.0 s).
pub struct SetAside {
    indexes: Vec<String>,
    foreign_keys: Vec<String>,
    terms_key: bool,
    gram_triggers: Vec<String>,
}

/// Where SQLite keeps the search terms of a load whose key is set aside: a table without a
/// key (the search index is a table `WITHOUT ROWID`, its key is the table).
const STAGED_TERMS: &str = "generate_terms";

impl SetAside {
    /// Nothing set aside: rows go straight into indexed tables.
    pub fn nothing() -> SetAside {
        SetAside {
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            terms_key: false,
            gram_triggers: Vec::new(),
        }
    }

    /// Drops the secondary indexes and, on PostgreSQL, the foreign keys; on SQLite, sets the
    /// search index's key aside.
    pub fn take(conn: &mut DbConnection) -> diesel::QueryResult<SetAside> {
        #[derive(diesel::QueryableByName)]
        struct Index {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            definition: String,
        }
        const TABLES: &str = "'customers', 'customer_terms', 'channel_identities', \
            'conversations', 'messages', 'customer_tags', 'customer_values', 'customer_events'";
        let sqlite = matches!(conn, DbConnection::Sqlite(_));
        let sql = if sqlite {
            format!(
                "SELECT name, sql AS definition FROM sqlite_schema WHERE type = 'index' \
                 AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({TABLES})"
            )
        } else {
            format!(
                "SELECT indexname AS name, indexdef AS definition FROM pg_indexes \
                 WHERE schemaname = current_schema() AND indexdef NOT LIKE 'CREATE UNIQUE%' \
                 AND tablename IN ({TABLES})"
            )
        };
        let indexes: Vec<Index> = diesel::sql_query(sql).load(conn)?;
        for index in &indexes {
            diesel::sql_query(format!("DROP INDEX \"{}\"", index.name)).execute(conn)?;
        }
        let mut foreign_keys = Vec::new();
        if !sqlite {
            #[derive(diesel::QueryableByName)]
            struct Key {
                #[diesel(sql_type = diesel::sql_types::Text)]
                drop: String,
                #[diesel(sql_type = diesel::sql_types::Text)]
                add: String,
            }
            let keys: Vec<Key> = diesel::sql_query(format!(
                "SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, c.conname) AS drop, \
                 format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname, \
                 pg_get_constraintdef(c.oid)) AS add \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                 WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace \
                 AND t.relname IN ({TABLES})"
            ))
            .load(conn)?;
            for key in keys {
                diesel::sql_query(key.drop).execute(conn)?;
                foreign_keys.push(key.add);
            }
        }
        let mut gram_triggers = Vec::new();
        if sqlite {
            diesel::sql_query(format!(
                "CREATE TEMP TABLE {STAGED_TERMS} \
                 (kind INTEGER NOT NULL, term TEXT NOT NULL, customer_id INTEGER NOT NULL, \
                 created_at TEXT)"
            ))
            .execute(conn)?;
            let triggers: Vec<Index> = diesel::sql_query(
                "SELECT name, sql AS definition FROM sqlite_schema \
                 WHERE type = 'trigger' AND name LIKE 'customer_contact_grams%'",
            )
            .load(conn)?;
            for trigger in triggers {
                diesel::sql_query(format!("DROP TRIGGER \"{}\"", trigger.name)).execute(conn)?;
                gram_triggers.push(trigger.definition);
            }
        }
        Ok(SetAside {
            indexes: indexes.into_iter().map(|i| i.definition).collect(),
            foreign_keys,
            terms_key: sqlite,
            gram_triggers,
        })
    }

    /// The definitions of the indexes set aside.
    pub fn indexes(&self) -> &[String] {
        &self.indexes
    }

    /// The foreign keys set aside, as the statements adding them back.
    pub fn foreign_keys(&self) -> &[String] {
        &self.foreign_keys
    }

    /// Where the load writes search terms.
    pub(super) fn terms_rows(&self, postgres: bool) -> Rows {
        let mut rows = rows!(
            postgres,
            customer_terms(kind, term, customer_id, created_at)
        );
        if self.terms_key {
            rows.head = format!("INSERT INTO {STAGED_TERMS} (kind, term, customer_id, created_at)");
        }
        rows
    }

    /// Builds what [`SetAside::take`] set aside: the search index first (its terms in key
    /// order), then the indexes and foreign keys, then the trigram index and its triggers.
    pub fn restore(self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        if let DbConnection::Postgresql(_) = conn {
            diesel::sql_query("SET maintenance_work_mem = '256MB'").execute(conn)?;
        }
        if self.terms_key {
            diesel::sql_query(format!(
                "INSERT INTO customer_terms (kind, term, customer_id, created_at) \
                 SELECT kind, term, customer_id, created_at FROM {STAGED_TERMS} \
                 ORDER BY kind, term, customer_id"
            ))
            .execute(conn)?;
            diesel::sql_query(format!("DROP TABLE {STAGED_TERMS}")).execute(conn)?;
        }
        for definition in self.indexes.iter().chain(&self.foreign_keys) {
            diesel::sql_query(definition.as_str()).execute(conn)?;
        }
        if !self.gram_triggers.is_empty() {
            diesel::sql_query(
                "INSERT INTO customer_contact_grams (customer_contact_grams) VALUES ('rebuild')",
            )
            .execute(conn)?;
        }
        for definition in &self.gram_triggers {
            diesel::sql_query(definition.as_str()).execute(conn)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_fields_escape_what_the_text_format_reads_specially() {
        let mut out = String::new();
        Lit::Text("a\\b\tc\nd\re'f").copy(&mut out);
        assert_eq!(out, "a\\\\b\\tc\\nd\\re'f");
        let mut out = String::new();
        Lit::Null.copy(&mut out);
        assert_eq!(out, "\\N");
        let mut out = String::new();
        Lit::Text("O'Brien").sql(&mut out);
        assert_eq!(out, "'O''Brien'");
    }
}
