CREATE TABLE insight_counts_with_rowid (
    slice TEXT NOT NULL,
    week TEXT NOT NULL,
    metric TEXT NOT NULL,
    channel TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (slice, week, metric, channel)
);
INSERT INTO insight_counts_with_rowid (slice, week, metric, channel, value)
SELECT slice, week, metric, channel, value FROM insight_counts;
DROP TABLE insight_counts;
ALTER TABLE insight_counts_with_rowid RENAME TO insight_counts;
