-- A page filtered on a number property many customers hold tests each row along the sort's
-- index (`probe_values`): with the value in the index, the test never reads the table
-- (score ≥ 99 at 1M: 14 ms → 5 ms a page). Same leading columns, so it serves every use
-- of the index it replaces.
CREATE INDEX customer_values_customer_number_idx ON customer_values (customer_id, property_id, value_number);
DROP INDEX customer_values_customer_idx;
