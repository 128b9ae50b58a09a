-- How many customers are in each lifecycle stage, kept by triggers on every write of
-- `customers` whatever the path (staff, API, import, merge, generator): the Customers
-- page's total for "everyone" and for one stage without counting a million rows.
-- Inserts and deletes count per statement: a batch of rows changes each stage's row once.
CREATE TABLE customer_counts (
    lifecycle TEXT PRIMARY KEY,
    customers BIGINT NOT NULL
);
INSERT INTO customer_counts (lifecycle, customers)
    SELECT lifecycle, COUNT(*) FROM customers GROUP BY lifecycle;

CREATE FUNCTION customer_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_counts (lifecycle, customers)
        SELECT lifecycle, COUNT(*) FROM added GROUP BY lifecycle ORDER BY lifecycle
        ON CONFLICT (lifecycle) DO UPDATE SET customers = customer_counts.customers + EXCLUDED.customers;
    RETURN NULL;
END $$;

CREATE FUNCTION customer_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_counts c SET customers = c.customers - r.n
        FROM (SELECT lifecycle, COUNT(*) AS n FROM removed GROUP BY lifecycle) r
        WHERE c.lifecycle = r.lifecycle;
    RETURN NULL;
END $$;

CREATE FUNCTION customer_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_counts (lifecycle, customers) VALUES (NEW.lifecycle, 1)
        ON CONFLICT (lifecycle) DO UPDATE SET customers = customer_counts.customers + 1;
    UPDATE customer_counts SET customers = customers - 1 WHERE lifecycle = OLD.lifecycle;
    RETURN NULL;
END $$;

CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_added();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_removed();
-- Only a change of stage moves a count (counters on `customers` change far more often).
CREATE TRIGGER customer_counts_stage AFTER UPDATE OF lifecycle ON customers
    FOR EACH ROW WHEN (OLD.lifecycle IS DISTINCT FROM NEW.lifecycle)
    EXECUTE FUNCTION customer_counts_moved();
