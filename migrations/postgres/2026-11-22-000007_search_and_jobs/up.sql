-- Sort keys that are never NULL, so every sort of the Customers page pages by keyset on an
-- index: the folded display name, the last contact in microseconds (0 = never) and the
-- average satisfaction in thousandths (-1 = not rated). Written by the code that changes
-- the values they come from; `search_version` says which folding rules wrote `sort_name`
-- and the search terms (rows below the current version are re-indexed at start-up).
-- "C" collation: the folded keys are ASCII and compare byte by byte, as on SQLite.
ALTER TABLE customers ADD COLUMN sort_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN contact_sort BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN csat_sort BIGINT NOT NULL DEFAULT -1;
ALTER TABLE customers ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;
UPDATE customers SET contact_sort = (EXTRACT(EPOCH FROM last_contact_at) * 1000000)::BIGINT
    WHERE last_contact_at IS NOT NULL;
UPDATE customers SET csat_sort = ROUND(csat_average * 1000)::BIGINT
    WHERE csat_average IS NOT NULL;
CREATE INDEX customers_sort_name_idx ON customers (sort_name, id);
CREATE INDEX customers_contact_sort_idx ON customers (contact_sort, id);
CREATE INDEX customers_csat_sort_idx ON customers (csat_sort, id);
CREATE INDEX customers_conversations_idx ON customers (conversations_count, id);
CREATE INDEX customers_search_version_idx ON customers (search_version);

-- Fuzzy search: every word of a customer's name (kind 0) and every ending of it of two
-- characters or more (kind 1), and the same for the customer ID (kinds 2 and 3), folded to
-- lower-case ASCII. "Contains" is a prefix range on the endings; "one typo" looks up the
-- query word's one-edit variants among whole words. The key is the index.
CREATE TABLE customer_terms (
    kind SMALLINT NOT NULL,
    term TEXT COLLATE "C" NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (kind, term, customer_id)
);

-- Work that runs in the background (bulk changes, imports): what, how far, by whom. The
-- cursor is committed with each batch, so a restart resumes where the last batch ended.
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    label TEXT NOT NULL,
    params TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    processed BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    created_count BIGINT NOT NULL DEFAULT 0,
    refused_count BIGINT NOT NULL DEFAULT 0,
    cursor BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_by BIGINT REFERENCES users (id),
    created_by_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_status_idx ON jobs (status, id);
CREATE INDEX jobs_created_idx ON jobs (created_at, id);
