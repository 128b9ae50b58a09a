DROP INDEX customer_values_number_idx;
CREATE INDEX customer_values_number_idx ON customer_values (property_id, value_number);
DROP INDEX customer_values_text_idx;
CREATE INDEX customer_values_text_idx ON customer_values (property_id, value_text);
