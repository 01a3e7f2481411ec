DROP TABLE activities;
DROP TABLE newsletter_subscriptions;
DROP TABLE api_tokens;
DROP TABLE recovery_codes;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE one_time_tokens;
DROP TABLE users;
