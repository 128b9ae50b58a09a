DROP TABLE name_word_keys;
