-- Self-service links: a random token (stored as a hash) bound to one customer, expiring,
-- single-use (opening it starts a short customer-only session), revocable by staff.
CREATE TABLE self_service_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX self_service_links_hash_key ON self_service_links (token_hash);
CREATE INDEX self_service_links_customer_idx ON self_service_links (customer_id);
