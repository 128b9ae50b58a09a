-- The conversation page reads the conversations beside the one it shows, a few at a
-- time in order of their start: a customer's on (customer_id, started_at), an unknown
-- contact's on this one, so neither reads the whole history of a contact who writes
-- every day.
CREATE INDEX conversations_identity_started_idx ON conversations (identity_id, started_at);
