-- The Customers page's columns each staff member chose to see (comma-separated names, in
-- the page's order); NULL shows the default set.
ALTER TABLE users ADD COLUMN customer_columns TEXT;
