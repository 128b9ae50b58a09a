-- A lifecycle stage set by hand can be pinned: lifecycle rules leave it alone. The rules
-- themselves are one setting (lifecycle.rules, JSON), read whole and replaced whole.
ALTER TABLE customers ADD COLUMN lifecycle_pinned BOOLEAN NOT NULL DEFAULT FALSE;
