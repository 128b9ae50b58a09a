-- The figures of a slice are read by key, a year of weeks at a time (about 2,000 rows):
-- kept in key order, without a separate row table to look each one up in.
CREATE TABLE insight_counts_by_key (
    slice TEXT NOT NULL,
    week TEXT NOT NULL,
    metric TEXT NOT NULL,
    channel TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (slice, week, metric, channel)
) WITHOUT ROWID;
INSERT INTO insight_counts_by_key (slice, week, metric, channel, value)
SELECT slice, week, metric, channel, value FROM insight_counts;
DROP TABLE insight_counts;
ALTER TABLE insight_counts_by_key RENAME TO insight_counts;
