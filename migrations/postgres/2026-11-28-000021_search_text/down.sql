UPDATE customers SET search_version = 1 WHERE search_version = 2;
ALTER TABLE customers DROP COLUMN search_text;
