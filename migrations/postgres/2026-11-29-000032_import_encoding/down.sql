ALTER TABLE imports DROP COLUMN encoding;
