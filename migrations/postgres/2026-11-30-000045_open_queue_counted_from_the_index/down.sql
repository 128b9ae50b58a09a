DROP INDEX conversations_channel_queue_idx;
CREATE INDEX conversations_channel_queue_idx ON conversations (status, channel, last_message_at);
DROP INDEX conversations_status_idx;
CREATE INDEX conversations_status_idx ON conversations (status, last_message_at);
