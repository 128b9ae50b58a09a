-- Staff comments on a conversation: internal, shown with author and time under the
-- agents' replies, never sent to the customer.
CREATE TABLE conversation_comments (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES users (id),
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX conversation_comments_conversation_idx ON conversation_comments (conversation_id, id);
