-- A sender's open conversation is found by its identity, its state and, newest first, its
-- id, all from this index. Statistics taken while no conversation was open (a fresh
-- import, generated data) cost "open" as rare, and the shorter index (identity, state)
-- then tied with the queue's own: PostgreSQL found a sender's conversation by walking
-- every open conversation (1.9 ms and 9,500 buffers a message at 13,000 open, 2026-12-01,
-- more with each new sender). Ordered by id as well, this one needs no sort and wins.
CREATE INDEX conversations_identity_open_idx ON conversations (identity_id, status, id);
DROP INDEX conversations_identity_idx;
