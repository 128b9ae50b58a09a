DROP INDEX conversations_started_idx;
DROP TABLE insight_counts;
DROP TABLE insight_slices;
