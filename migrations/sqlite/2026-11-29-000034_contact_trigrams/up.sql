-- "E-mail contains" and "Phone contains" (and the search box read as either) find their
-- customers through the trigrams of the e-mail and the phone instead of testing every
-- customer. An external-content FTS5 table: it stores only the index, read from and kept
-- in step with `customers` by the triggers below; secure-delete removes a changed or
-- erased address's trigrams from the index itself, not only from its answers.
CREATE VIRTUAL TABLE customer_contact_grams USING fts5(
    email, phone,
    content = 'customers', content_rowid = 'id',
    tokenize = 'trigram', detail = 'none'
);
INSERT INTO customer_contact_grams (customer_contact_grams, rank) VALUES ('secure-delete', 1);
INSERT INTO customer_contact_grams (customer_contact_grams) VALUES ('rebuild');

CREATE TRIGGER customer_contact_grams_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_contact_grams (rowid, email, phone) VALUES (new.id, new.email, new.phone);
END;
CREATE TRIGGER customer_contact_grams_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_contact_grams (customer_contact_grams, rowid, email, phone)
    VALUES ('delete', old.id, old.email, old.phone);
END;
CREATE TRIGGER customer_contact_grams_update AFTER UPDATE OF email, phone ON customers BEGIN
    INSERT INTO customer_contact_grams (customer_contact_grams, rowid, email, phone)
    VALUES ('delete', old.id, old.email, old.phone);
    INSERT INTO customer_contact_grams (rowid, email, phone) VALUES (new.id, new.email, new.phone);
END;
