-- Every whole word of a name or nickname some customer holds, once: a search word of four
-- letters or more looks up its one-typo variants here (a few hundred key probes) instead
-- of reading the customers of each variant it finds in `customer_terms`.
CREATE TABLE name_words (
    word TEXT PRIMARY KEY NOT NULL
);
INSERT INTO name_words (word) SELECT DISTINCT term FROM customer_terms WHERE kind = 0;
