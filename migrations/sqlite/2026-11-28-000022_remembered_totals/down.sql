DROP TABLE remembered_totals;
