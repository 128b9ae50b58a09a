DROP TABLE audit_log;
DROP TABLE customer_events;
DROP TABLE customer_notes;
DROP TABLE customer_tags;
DROP TABLE tags;
DROP TABLE customer_values;
DROP TABLE properties;
DROP TABLE customers;
