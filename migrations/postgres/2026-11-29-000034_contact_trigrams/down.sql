DROP INDEX customers_phone_grams_idx;
DROP INDEX customers_email_grams_idx;
