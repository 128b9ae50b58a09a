ALTER TABLE customer_terms DROP COLUMN created_at;
