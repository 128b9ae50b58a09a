DROP TRIGGER open_conversations_status;
DROP TRIGGER open_conversations_delete;
DROP TRIGGER open_conversations_insert;
DROP TABLE open_conversations;
