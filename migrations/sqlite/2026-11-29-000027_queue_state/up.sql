-- What the workspace queue shows of each conversation without reading its messages: the
-- customer's last message (not the self-service keyword, which the application answers
-- by itself), when it came, and since when the customer has waited for an agent's reply
-- (cleared by one). And when each agent last read each conversation, for "unread".
ALTER TABLE conversations ADD COLUMN last_inbound_id BIGINT;
ALTER TABLE conversations ADD COLUMN last_inbound_at TIMESTAMP;
ALTER TABLE conversations ADD COLUMN waiting_since TIMESTAMP;

UPDATE conversations SET
    last_inbound_id = (SELECT MAX(m.id) FROM messages m
                       WHERE m.conversation_id = conversations.id AND m.direction = 'inbound'),
    last_inbound_at = (SELECT MAX(m.sent_at) FROM messages m
                       WHERE m.conversation_id = conversations.id AND m.direction = 'inbound')
WHERE status = 'open';
UPDATE conversations SET waiting_since = last_inbound_at
WHERE status = 'open' AND last_inbound_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM messages m
                  WHERE m.conversation_id = conversations.id AND m.direction = 'outbound'
                    AND m.author_kind = 'agent' AND m.sent_at >= conversations.last_inbound_at);

CREATE TABLE conversation_reads (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
