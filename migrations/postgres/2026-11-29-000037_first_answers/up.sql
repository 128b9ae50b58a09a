-- When staff first wrote in a conversation, set with that message (the insights' time to a
-- first answer reads it instead of every message of a week's conversations).
ALTER TABLE conversations ADD COLUMN first_answer_at TIMESTAMP;
UPDATE conversations SET first_answer_at = (
    SELECT MIN(m.sent_at) FROM messages m
    WHERE m.conversation_id = conversations.id
      AND m.direction = 'outbound' AND m.author_kind = 'agent'
)
WHERE EXISTS (
    SELECT 1 FROM messages m
    WHERE m.conversation_id = conversations.id
      AND m.direction = 'outbound' AND m.author_kind = 'agent'
);
