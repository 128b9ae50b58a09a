ALTER TABLE conversations DROP COLUMN first_answer_at;
