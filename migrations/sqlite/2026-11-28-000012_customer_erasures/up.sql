-- Anonymized (erased) customers: who erased them and when. Their personal data is gone;
-- the row stays so counts, ratings and reports still add up.
CREATE TABLE customer_erasures (
    customer_id INTEGER PRIMARY KEY NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    erased_by TEXT NOT NULL,
    erased_at TIMESTAMP NOT NULL
);
