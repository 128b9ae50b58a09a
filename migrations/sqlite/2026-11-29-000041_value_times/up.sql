-- Each custom value carries its customer's creation time, which never changes: a number
-- condition on the Customers page's default sort (newest first) walks the property's
-- values in that order and tests each one on the index, instead of collecting every
-- holder and walking the customers against the set. The default is only for the rows
-- this statement fills.
ALTER TABLE customer_values ADD COLUMN created_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE customer_values
SET created_at = (SELECT created_at FROM customers WHERE customers.id = customer_values.customer_id);

-- Read alone for a number test; texts stay out of it.
CREATE INDEX customer_value_times_idx ON customer_values (property_id, created_at, customer_id, value_number);
