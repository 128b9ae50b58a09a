DROP TABLE name_words;
