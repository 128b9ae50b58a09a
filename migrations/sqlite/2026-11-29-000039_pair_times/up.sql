-- Each pair term (kind 4) carries its customer's creation time, which never changes: a
-- search of two words orders its matches newest first from the pairs it reads, without
-- reading each match's row. Other terms leave it empty.
ALTER TABLE customer_terms ADD COLUMN created_at TIMESTAMP;
UPDATE customer_terms
SET created_at = (SELECT created_at FROM customers WHERE customers.id = customer_terms.customer_id)
WHERE kind = 4;
