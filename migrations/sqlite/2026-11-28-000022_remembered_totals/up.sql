-- A total estimated from a sample (`db::listing::total`) is remembered for a minute per
-- filter: the next page, a refresh, or another agent on the same view reads it back
-- instead of sampling again, and "About 33,000" stays put while paging. In the database,
-- so every instance shares it.
CREATE TABLE remembered_totals (
    filter_key TEXT PRIMARY KEY NOT NULL,
    total BIGINT NOT NULL,
    more_than BOOLEAN NOT NULL,
    computed_at TIMESTAMP NOT NULL
);
CREATE INDEX remembered_totals_computed_idx ON remembered_totals (computed_at);
