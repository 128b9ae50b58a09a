DROP TABLE conversation_reads;
ALTER TABLE conversations DROP COLUMN waiting_since;
ALTER TABLE conversations DROP COLUMN last_inbound_at;
ALTER TABLE conversations DROP COLUMN last_inbound_id;
