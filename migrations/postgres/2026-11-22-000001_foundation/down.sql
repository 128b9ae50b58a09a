DROP TABLE sign_in_failures;
DROP TABLE app_settings;
DROP TABLE users;
