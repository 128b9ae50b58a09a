-- Pairs of customers staff said are not the same person: never suggested again.
-- The lower customer id comes first.
CREATE TABLE duplicate_dismissals (
    customer_a BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    customer_b BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    dismissed_by TEXT NOT NULL,
    dismissed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);
CREATE INDEX duplicate_dismissals_b_idx ON duplicate_dismissals (customer_b);
