DROP TABLE import_parts;
DROP TABLE work_leases;
ALTER TABLE jobs DROP COLUMN claimed_until;
