ALTER TABLE name_words ADD COLUMN common_above BIGINT;
ALTER TABLE name_words ADD COLUMN common_seen_at TIMESTAMP;
DROP TABLE common_ranges;
