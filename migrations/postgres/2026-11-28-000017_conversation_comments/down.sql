DROP TABLE conversation_comments;
