DROP TRIGGER open_conversations_status ON conversations;
DROP TRIGGER open_conversations_delete ON conversations;
DROP TRIGGER open_conversations_insert ON conversations;
DROP FUNCTION open_conversations_moved();
DROP FUNCTION open_conversations_removed();
DROP FUNCTION open_conversations_added();
DROP TABLE open_conversations;
