-- Background work shared by several instances on one database.
-- A job's batch is claimed for a while (a lease); an instance killed mid-batch loses its
-- claim when the lease ends and another resumes from the last committed batch.
ALTER TABLE jobs ADD COLUMN claimed_until TIMESTAMP;

-- Leases for work that is not a job (the search indexer, duplicate suggestions, the
-- hourly sweep): one instance at a time.
CREATE TABLE work_leases (
    name TEXT PRIMARY KEY NOT NULL,
    held_until TIMESTAMP NOT NULL
);

-- An uploaded import file, in parts, so that any instance can run the import (PostgreSQL
-- only keeps them; an embedded database has one instance, which has the file).
CREATE TABLE import_parts (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (import_id, part)
);

