-- The creation index carries the search text and the e-mail. A page that walks it (a
-- common name word, e-mail contains) tests each entry on the index alone and reads the
-- table only for the rows it shows: SQLite defers a row's read until a column the index
-- lacks is needed.
DROP INDEX customers_created_idx;
CREATE INDEX customers_created_idx ON customers (created_at, id, search_text, email);
