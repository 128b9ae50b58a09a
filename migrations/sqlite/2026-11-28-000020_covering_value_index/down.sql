CREATE INDEX customer_values_customer_idx ON customer_values (customer_id, property_id);
DROP INDEX customer_values_customer_number_idx;
