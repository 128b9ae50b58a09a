ALTER TABLE name_words DROP COLUMN common_seen_at;
ALTER TABLE name_words DROP COLUMN common_above;
