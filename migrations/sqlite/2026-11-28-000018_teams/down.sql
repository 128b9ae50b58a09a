DROP INDEX channel_identities_customer_channel_idx;
DROP INDEX conversations_scope_idx;
ALTER TABLE conversations DROP COLUMN account;
DROP TABLE team_channels;
DROP TABLE team_members;
DROP TABLE teams;
