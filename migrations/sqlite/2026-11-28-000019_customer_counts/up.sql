-- How many customers are in each lifecycle stage, kept by triggers on every write of
-- `customers` whatever the path (staff, API, import, merge, generator): the Customers
-- page's total for "everyone" and for one stage without counting a million rows.
CREATE TABLE customer_counts (
    lifecycle TEXT PRIMARY KEY NOT NULL,
    customers BIGINT NOT NULL
);
INSERT INTO customer_counts (lifecycle, customers)
    SELECT lifecycle, COUNT(*) FROM customers GROUP BY lifecycle;

CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
BEGIN
    INSERT INTO customer_counts (lifecycle, customers) VALUES (NEW.lifecycle, 1)
        ON CONFLICT (lifecycle) DO UPDATE SET customers = customers + 1;
END;

CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
BEGIN
    UPDATE customer_counts SET customers = customers - 1 WHERE lifecycle = OLD.lifecycle;
END;

CREATE TRIGGER customer_counts_stage AFTER UPDATE OF lifecycle ON customers
    WHEN OLD.lifecycle <> NEW.lifecycle
BEGIN
    UPDATE customer_counts SET customers = customers - 1 WHERE lifecycle = OLD.lifecycle;
    INSERT INTO customer_counts (lifecycle, customers) VALUES (NEW.lifecycle, 1)
        ON CONFLICT (lifecycle) DO UPDATE SET customers = customers + 1;
END;
