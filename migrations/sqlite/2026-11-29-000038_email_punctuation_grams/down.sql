-- PostgreSQL only: SQLite's trigram table keeps an e-mail's punctuation already.
SELECT 1;
