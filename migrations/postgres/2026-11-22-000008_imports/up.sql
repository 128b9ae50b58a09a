-- A CSV import: the uploaded file (kept on disk), its columns and how they map to
-- properties, the keys that match existing customers, and the jobs that dry-run and run it.
CREATE TABLE imports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name TEXT NOT NULL,
    stored_path TEXT NOT NULL,
    delimiter TEXT NOT NULL,
    headers TEXT NOT NULL,
    mapping TEXT NOT NULL,
    match_keys TEXT NOT NULL,
    create_tags BOOLEAN NOT NULL DEFAULT FALSE,
    dry_job_id BIGINT REFERENCES jobs (id),
    run_job_id BIGINT REFERENCES jobs (id),
    created_by BIGINT REFERENCES users (id),
    created_by_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX imports_created_idx ON imports (created_at);

-- Rows an import job refused: which row, which column, why, and the row's cells.
CREATE TABLE import_refusals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    cells TEXT NOT NULL
);
CREATE INDEX import_refusals_job_idx ON import_refusals (job_id, row_number);

-- Keys (customer ID, e-mail, phone) seen by an import job, to refuse a second row with
-- the same key in one file.
CREATE TABLE import_keys (
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    row_number BIGINT NOT NULL,
    PRIMARY KEY (job_id, key)
);
