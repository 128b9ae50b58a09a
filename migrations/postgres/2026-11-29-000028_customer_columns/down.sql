ALTER TABLE users DROP COLUMN customer_columns;
