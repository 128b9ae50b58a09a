-- The value indexes carry the customer: a condition's holders are collected from the
-- index alone (a set walked against, or a list), not by reading each value's row. At a
-- million customers, collecting the 10,000 holders of "score ≥ 99" read 10,000 rows.
DROP INDEX customer_values_number_idx;
CREATE INDEX customer_values_number_idx ON customer_values (property_id, value_number, customer_id);
DROP INDEX customer_values_text_idx;
CREATE INDEX customer_values_text_idx ON customer_values (property_id, value_text, customer_id);
