ALTER TABLE insight_counts DROP CONSTRAINT insight_counts_pkey;
ALTER TABLE insight_counts ADD PRIMARY KEY (slice, week, metric, channel);
