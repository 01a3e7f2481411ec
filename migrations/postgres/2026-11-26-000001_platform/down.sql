DROP TABLE idempotency_keys;
DROP TABLE mails;
DROP TABLE jobs;
DROP TABLE signing_keys;
