DROP INDEX customers_created_idx;
CREATE INDEX customers_created_idx ON customers (created_at, id) INCLUDE (sort_name, search_text);
