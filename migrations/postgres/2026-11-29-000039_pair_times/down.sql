DROP INDEX customer_pair_times_idx;
ALTER TABLE customer_terms DROP COLUMN created_at;
