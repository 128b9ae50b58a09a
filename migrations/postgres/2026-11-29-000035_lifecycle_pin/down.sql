ALTER TABLE customers DROP COLUMN lifecycle_pinned;
DELETE FROM app_settings WHERE key = 'lifecycle.rules';
