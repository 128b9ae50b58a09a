-- A customer merged into another. The row outlives the duplicate's customer row, so the
-- duplicate's public ID keeps resolving to the survivor (and, ids coming from a counter
-- that never goes back, is never given again). `snapshot` holds what an undo needs (the
-- duplicate as it was, and where each of its rows went); it is dropped after 30 days,
-- when the merge is undone, or when the survivor is anonymized.
CREATE TABLE customer_merges (
    id BIGSERIAL PRIMARY KEY,
    duplicate_id BIGINT NOT NULL,
    duplicate_public_id TEXT NOT NULL,
    survivor_id BIGINT NOT NULL,
    merged_by TEXT NOT NULL,
    merged_at TIMESTAMP NOT NULL,
    snapshot TEXT,
    undone_at TIMESTAMP,
    undone_by TEXT
);
CREATE INDEX customer_merges_duplicate_idx ON customer_merges (duplicate_public_id, id);
CREATE INDEX customer_merges_survivor_idx ON customer_merges (survivor_id, id);
CREATE INDEX customer_merges_snapshot_idx ON customer_merges (merged_at) WHERE snapshot IS NOT NULL;

-- Suggested duplicates, kept current in the background from duplicate_checks: each pair
-- once (the lower id first), how strong, and why (comma-separated reason codes). The
-- score index serves the list strongest first in keyset pages.
CREATE TABLE duplicate_pairs (
    customer_a BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    customer_b BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    score INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    found_at TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_a, customer_b)
);
CREATE INDEX duplicate_pairs_score_idx ON duplicate_pairs (score, customer_a, customer_b);
CREATE INDEX duplicate_pairs_b_idx ON duplicate_pairs (customer_b);

-- Customers whose name, contacts or identities changed since their pairs were last worked
-- out. Written with the change; drained by the background worker.
CREATE TABLE duplicate_checks (
    customer_id BIGINT PRIMARY KEY,
    queued_at TIMESTAMP NOT NULL
);
INSERT INTO duplicate_checks (customer_id, queued_at) SELECT id, now() AT TIME ZONE 'UTC' FROM customers;

-- Identity values (a phone, an e-mail) matched against other customers' contacts.
CREATE INDEX channel_identities_external_idx ON channel_identities (external_id);
