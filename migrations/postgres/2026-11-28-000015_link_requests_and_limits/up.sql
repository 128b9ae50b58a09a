-- Events counted against limits that must hold across instances: requests for a link by
-- phone number (per number, per address) and links sent (per identity, whether asked for
-- by the keyword or on the page). Rows older than a day are removed by the hourly sweep.
CREATE TABLE limit_events (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX limit_events_subject_idx ON limit_events (scope, subject, at);
CREATE INDEX limit_events_at_idx ON limit_events (at);

-- "Text me my link" requests, so the page a customer reloads says how sending went. The
-- token is random and kept as a hash; message_id is the link's message when one was sent.
CREATE TABLE link_requests (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL,
    message_id BIGINT REFERENCES messages (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX link_requests_token_key ON link_requests (token_hash);
CREATE INDEX link_requests_created_idx ON link_requests (created_at);
