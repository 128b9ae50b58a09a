-- Finding customers by the start of any of their channel ids, whatever its letter case
-- (an openid, a Telegram id, an Instagram handle, an e-mail, a phone).
CREATE INDEX channel_identities_external_lower_idx ON channel_identities (lower(external_id) text_pattern_ops);
