DROP INDEX channel_identities_external_idx;
DROP TABLE duplicate_checks;
DROP TABLE duplicate_pairs;
DROP TABLE customer_merges;
