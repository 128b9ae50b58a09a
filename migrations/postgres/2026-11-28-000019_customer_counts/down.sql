DROP TRIGGER customer_counts_stage ON customers;
DROP TRIGGER customer_counts_delete ON customers;
DROP TRIGGER customer_counts_insert ON customers;
DROP FUNCTION customer_counts_moved();
DROP FUNCTION customer_counts_removed();
DROP FUNCTION customer_counts_added();
DROP TABLE customer_counts;
