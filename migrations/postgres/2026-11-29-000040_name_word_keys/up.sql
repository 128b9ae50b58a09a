-- Each name word under itself and under each way of dropping one of its characters: two
-- words one typo apart (a character dropped, added, changed, or two neighbours swapped)
-- always share a key, so a search word's typos are found by looking up its own keys (one
-- more than its length) instead of every one-edit variant of it (a few hundred), and
-- then checked.
CREATE TABLE name_word_keys (
    key TEXT NOT NULL,
    word TEXT NOT NULL,
    PRIMARY KEY (key, word)
);
INSERT INTO name_word_keys (key, word)
SELECT word, word FROM name_words
UNION
SELECT substr(word, 1, n - 1) || substr(word, n + 1), word
FROM name_words CROSS JOIN generate_series(1, 32) AS n
WHERE n <= length(word) AND length(word) > 1;
