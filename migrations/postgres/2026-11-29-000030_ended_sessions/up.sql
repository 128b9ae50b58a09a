-- Staff sessions that were signed out: a copy of the cookie taken before sign-out must not
-- work again, on any instance. A row is kept until the session would have expired anyway.
CREATE TABLE ended_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);
