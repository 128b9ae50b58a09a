DROP TABLE card_attributes;
