DROP INDEX customer_value_times_idx;
ALTER TABLE customer_values DROP COLUMN created_at;
