DROP TABLE import_keys;
DROP TABLE import_refusals;
DROP TABLE imports;
