-- Each pair term (kind 4) carries its customer's creation time, which never changes: a
-- search of two words orders its matches newest first from the pairs it reads, without
-- reading each match's row. Other terms leave it empty.
ALTER TABLE customer_terms ADD COLUMN created_at TIMESTAMP;
UPDATE customer_terms
SET created_at = customers.created_at
FROM customers
WHERE customer_terms.kind = 4 AND customers.id = customer_terms.customer_id;

-- A range of pair terms is read from this index alone (SQLite's search index is a table
-- without rowid: its rows hold the time already).
CREATE INDEX customer_pair_times_idx ON customer_terms (term, customer_id) INCLUDE (created_at)
WHERE kind = 4;
