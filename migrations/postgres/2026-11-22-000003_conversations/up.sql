-- Blacklist: messages from a blacklisted customer are stored but open no conversation.
ALTER TABLE customers ADD COLUMN blacklisted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN blacklist_reason TEXT;
ALTER TABLE customers ADD COLUMN blacklisted_by TEXT;
ALTER TABLE customers ADD COLUMN blacklisted_at TIMESTAMP;
CREATE INDEX customers_blacklisted_idx ON customers (blacklisted, created_at);

-- A channel identity: (channel, external id) belongs to at most one customer.
CREATE TABLE channel_identities (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    display_name TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX channel_identities_key ON channel_identities (channel, external_id);
CREATE INDEX channel_identities_customer_idx ON channel_identities (customer_id);

-- Conversations on one identity; customer_id follows the identity's link.
CREATE TABLE conversations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identity_id BIGINT NOT NULL REFERENCES channel_identities (id) ON DELETE CASCADE,
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    last_message_at TIMESTAMP NOT NULL,
    messages_count BIGINT NOT NULL DEFAULT 0,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    rated_at TIMESTAMP,
    web_ip TEXT,
    web_region TEXT,
    web_user_agent TEXT,
    web_source TEXT
);
CREATE INDEX conversations_identity_idx ON conversations (identity_id, status);
CREATE INDEX conversations_customer_idx ON conversations (customer_id, started_at);
CREATE INDEX conversations_status_idx ON conversations (status, last_message_at);

CREATE TABLE conversation_agents (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_agents_user_idx ON conversation_agents (user_id);

-- Messages. A blacklisted customer's message has no conversation (suppressed).
-- client_message_id makes a channel's retry idempotent.
CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT REFERENCES conversations (id) ON DELETE CASCADE,
    identity_id BIGINT NOT NULL REFERENCES channel_identities (id) ON DELETE CASCADE,
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    author_kind TEXT NOT NULL CHECK (author_kind IN ('customer', 'agent', 'system')),
    author_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    author_name TEXT,
    body TEXT NOT NULL,
    client_message_id TEXT,
    suppressed BOOLEAN NOT NULL DEFAULT FALSE,
    sent_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX messages_client_id_key ON messages (identity_id, client_message_id) WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);
CREATE INDEX messages_customer_idx ON messages (customer_id, id);

-- Outbound messages waiting for (or done with) delivery to the webhook.
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX outbox_message_key ON outbox (message_id);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

-- API tokens, stored as SHA-256 hashes; the secret is shown once.
CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    token_prefix TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_name_key ON api_tokens (name);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);

-- Orders from a connected shop, idempotent by (customer, order_ref).
CREATE TABLE orders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    order_ref TEXT NOT NULL,
    placed_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    total TEXT NOT NULL,
    currency TEXT NOT NULL,
    items_summary TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX orders_ref_key ON orders (customer_id, order_ref);
CREATE INDEX orders_placed_idx ON orders (customer_id, placed_at);
