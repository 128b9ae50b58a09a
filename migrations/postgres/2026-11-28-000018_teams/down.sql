DROP INDEX channel_identities_customer_channel_idx;
DROP INDEX conversations_channel_queue_idx;
ALTER TABLE conversations DROP COLUMN account;
DROP TABLE team_channels;
DROP TABLE team_members;
DROP TABLE teams;
