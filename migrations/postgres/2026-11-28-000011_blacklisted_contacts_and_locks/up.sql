-- An unknown contact (an identity with no customer) can be blacklisted on its own.
ALTER TABLE channel_identities ADD COLUMN blacklist_reason TEXT;
ALTER TABLE channel_identities ADD COLUMN blacklisted_by TEXT;
ALTER TABLE channel_identities ADD COLUMN blacklisted_at TIMESTAMP;

-- A locked profile: channel data no longer changes it. One row per locked customer.
CREATE TABLE customer_locks (
    customer_id BIGINT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    locked_by TEXT NOT NULL,
    locked_at TIMESTAMP NOT NULL
);

-- "Messages received while blacklisted" on a profile.
CREATE INDEX messages_suppressed_idx ON messages (customer_id, sent_at) WHERE suppressed;

-- The per-customer export pages through conversations in id order.
CREATE INDEX conversations_customer_id_idx ON conversations (customer_id, id);
