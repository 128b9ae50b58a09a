-- The character encoding an uploaded file was in (it is kept converted to UTF-8).
ALTER TABLE imports ADD COLUMN encoding TEXT NOT NULL DEFAULT 'UTF-8';
