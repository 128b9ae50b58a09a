DROP INDEX conversations_customer_id_idx;
DROP INDEX messages_suppressed_idx;
DROP TABLE customer_locks;
ALTER TABLE channel_identities DROP COLUMN blacklisted_at;
ALTER TABLE channel_identities DROP COLUMN blacklisted_by;
ALTER TABLE channel_identities DROP COLUMN blacklist_reason;
