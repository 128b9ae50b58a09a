-- The figures of a slice are read by key, a year of weeks at a time (about 2,000 rows):
-- the key's index holds the value too, so pages the vacuum has marked visible are read
-- from the index alone.
ALTER TABLE insight_counts DROP CONSTRAINT insight_counts_pkey;
ALTER TABLE insight_counts ADD PRIMARY KEY (slice, week, metric, channel) INCLUDE (value);
