CREATE INDEX conversations_identity_idx ON conversations (identity_id, status);
DROP INDEX conversations_identity_open_idx;
