-- Sign-in rate limits shared by every instance on one PostgreSQL database (issue 15): a GCRA
-- per key (the SHA-256 of `ip:<address>` or `account:<email>`, never the address itself):
-- `tat` is the key's theoretical arrival time, `allowed` the last attempt's verdict. Keys whose
-- `tat` has passed are as good as new and are swept every minute. (SQLite, served by one
-- instance, counts in memory; the table exists on both engines so their schemas agree.)
CREATE TABLE rate_limit_counters (
    key TEXT PRIMARY KEY NOT NULL,
    tat TIMESTAMP NOT NULL,
    allowed BOOLEAN NOT NULL
);
CREATE INDEX rate_limit_counters_tat_idx ON rate_limit_counters (tat);
