-- Matching by e-mail (imports, inbound e-mail auto-link) compares lower-cased addresses.
CREATE INDEX customers_email_lower_idx ON customers (lower(email));
