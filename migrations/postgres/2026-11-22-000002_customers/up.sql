-- Customers. Standard properties are typed columns (indexed for filters and sorts);
-- computed properties are counters kept here by the code that changes them, in the same
-- transaction, so lists never count per row. `version` protects against lost updates.
CREATE TABLE customers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id TEXT NOT NULL,
    name TEXT,
    email TEXT,
    phone TEXT,
    gender TEXT,
    city TEXT,
    country TEXT,
    language TEXT,
    company TEXT,
    nickname TEXT,
    lifecycle TEXT NOT NULL DEFAULT 'prospect'
        CHECK (lifecycle IN ('prospect', 'customer', 'active', 'at_risk', 'churned', 'vip')),
    conversations_count BIGINT NOT NULL DEFAULT 0,
    messages_count BIGINT NOT NULL DEFAULT 0,
    last_contact_at TIMESTAMP,
    csat_sum BIGINT NOT NULL DEFAULT 0,
    csat_count BIGINT NOT NULL DEFAULT 0,
    csat_average DOUBLE PRECISION,
    orders_count BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customers_public_id_key ON customers (public_id);
CREATE INDEX customers_created_idx ON customers (created_at, id);
CREATE INDEX customers_updated_idx ON customers (updated_at, id);
CREATE INDEX customers_name_idx ON customers (name, id);
CREATE INDEX customers_email_idx ON customers (email);
CREATE INDEX customers_phone_idx ON customers (phone);
CREATE INDEX customers_lifecycle_idx ON customers (lifecycle, created_at);
CREATE INDEX customers_last_contact_idx ON customers (last_contact_at, id);

-- The property registry: standard, custom and computed. `key` is the immutable technical name.
CREATE TABLE properties (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('standard', 'custom', 'computed')),
    value_type TEXT NOT NULL,
    choices TEXT NOT NULL DEFAULT '[]',
    agent_access TEXT NOT NULL DEFAULT 'edit' CHECK (agent_access IN ('hidden', 'view', 'edit')),
    customer_access TEXT NOT NULL DEFAULT 'hidden' CHECK (customer_access IN ('hidden', 'view', 'edit')),
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX properties_key_key ON properties (key);
CREATE INDEX properties_position_idx ON properties (kind, position);

-- Values of custom properties, typed: text (canonical; ISO dates and HH:MM times sort as
-- text), number (numbers, latitude), number2 (longitude). A Multiple choice value is one
-- row per chosen option, so "has any of / all of" filters use the index.
CREATE TABLE customer_values (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    property_id BIGINT NOT NULL REFERENCES properties (id) ON DELETE CASCADE,
    value_text TEXT,
    value_number DOUBLE PRECISION,
    value_number2 DOUBLE PRECISION
);
CREATE INDEX customer_values_customer_idx ON customer_values (customer_id, property_id);
CREATE INDEX customer_values_text_idx ON customer_values (property_id, value_text);
CREATE INDEX customer_values_number_idx ON customer_values (property_id, value_number);

-- Tags (labels) with a colour; names unique whatever their case.
CREATE TABLE tags (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    color TEXT NOT NULL,
    customers_count BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tags_name_key ON tags (name_key);

CREATE TABLE customer_tags (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, tag_id)
);
CREATE INDEX customer_tags_tag_idx ON customer_tags (tag_id, customer_id);

-- Notes (comments) by staff.
CREATE TABLE customer_notes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES users (id),
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX customer_notes_customer_idx ON customer_notes (customer_id, created_at);

-- Every change to a customer: who (user, customer, integration, system), when, what, old
-- and new value (as JSON of the typed value, so a change can be reverted exactly).
CREATE TABLE customer_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'customer', 'integration', 'system')),
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    property_key TEXT,
    old_value TEXT,
    new_value TEXT,
    reverts_event_id BIGINT,
    customer_version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX customer_events_customer_idx ON customer_events (customer_id, id);

-- Staff actions outside one customer (settings, properties, tags, users).
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);

-- The built-in registry. Standard properties are columns of customers; computed ones are
-- counters kept on customers by the code that changes them.
INSERT INTO properties (key, label, kind, value_type, choices, agent_access, customer_access, position, created_at, updated_at) VALUES
  ('name', 'Name', 'standard', 'text', '[]', 'edit', 'edit', 10, timezone('UTC', now()), timezone('UTC', now())),
  ('email', 'E-mail', 'standard', 'email', '[]', 'edit', 'edit', 20, timezone('UTC', now()), timezone('UTC', now())),
  ('phone', 'Phone', 'standard', 'phone', '[]', 'edit', 'view', 30, timezone('UTC', now()), timezone('UTC', now())),
  ('gender', 'Gender', 'standard', 'single_choice', '["Female","Male","Non-binary","Prefer not to say"]', 'edit', 'hidden', 40, timezone('UTC', now()), timezone('UTC', now())),
  ('city', 'City', 'standard', 'text', '[]', 'edit', 'hidden', 50, timezone('UTC', now()), timezone('UTC', now())),
  ('country', 'Country', 'standard', 'country', '[]', 'edit', 'hidden', 60, timezone('UTC', now()), timezone('UTC', now())),
  ('language', 'Language', 'standard', 'language', '[]', 'edit', 'edit', 70, timezone('UTC', now()), timezone('UTC', now())),
  ('company', 'Company', 'standard', 'text', '[]', 'edit', 'hidden', 80, timezone('UTC', now()), timezone('UTC', now())),
  ('nickname', 'Nickname', 'standard', 'text', '[]', 'edit', 'hidden', 90, timezone('UTC', now()), timezone('UTC', now())),
  ('created_at', 'Created', 'computed', 'datetime', '[]', 'view', 'hidden', 1000, timezone('UTC', now()), timezone('UTC', now())),
  ('conversations_count', 'Conversations', 'computed', 'number', '[]', 'view', 'hidden', 1010, timezone('UTC', now()), timezone('UTC', now())),
  ('messages_count', 'Messages', 'computed', 'number', '[]', 'view', 'hidden', 1020, timezone('UTC', now()), timezone('UTC', now())),
  ('last_contact_at', 'Last contact', 'computed', 'datetime', '[]', 'view', 'hidden', 1030, timezone('UTC', now()), timezone('UTC', now())),
  ('csat_average', 'Average satisfaction', 'computed', 'number', '[]', 'view', 'hidden', 1040, timezone('UTC', now()), timezone('UTC', now())),
  ('orders_count', 'Orders', 'computed', 'number', '[]', 'view', 'hidden', 1050, timezone('UTC', now()), timezone('UTC', now()));
