-- A queue's count ("999+") walks up to a thousand open conversations on the queue
-- indexes and needs only their ids. With the id in the index the walk stays in the index
-- (an index-only scan) instead of visiting a table page per conversation: 0.6 ms → 0.2 ms
-- for a thousand at two million conversations. The queue's page order (last message,
-- then id) is then whole in the index too.
DROP INDEX conversations_status_idx;
CREATE INDEX conversations_status_idx ON conversations (status, last_message_at, id);
DROP INDEX conversations_channel_queue_idx;
CREATE INDEX conversations_channel_queue_idx ON conversations (status, channel, last_message_at, id);
