-- "E-mail contains" and "Phone contains" (and the search box read as either) find their
-- customers through the trigrams of the e-mail and the phone instead of testing every
-- customer. pg_trgm ships with PostgreSQL and is a trusted extension: the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX customers_email_grams_idx ON customers USING gin (lower(email) gin_trgm_ops);
CREATE INDEX customers_phone_grams_idx ON customers USING gin (phone gin_trgm_ops);
