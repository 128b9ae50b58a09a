-- PostgreSQL only: a SQLite index holds each row's id (its rowid) already.
SELECT 1;
