CREATE INDEX customers_email_grams_idx ON customers USING gin (lower(email) gin_trgm_ops);
DROP INDEX customers_email_marks_idx;
