DROP TRIGGER customer_counts_stage;
DROP TRIGGER customer_counts_delete;
DROP TRIGGER customer_counts_insert;
DROP TABLE customer_counts;
