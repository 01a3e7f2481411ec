-- Platform tables: signing keys, the job queue, the mail outbox, idempotency keys.
-- Portable types only (TEXT, BIGINT, INTEGER, BOOLEAN, TIMESTAMP as naive UTC); keep the
-- PostgreSQL twin of this file identical in tables, columns and indexes.

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    unique_key TEXT,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_status_run_at_idx ON jobs (status, run_at);
CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (unique_key);

CREATE TABLE mails (
    id TEXT PRIMARY KEY NOT NULL,
    template TEXT NOT NULL,
    language TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mails_status_idx ON mails (status);

CREATE TABLE idempotency_keys (
    id TEXT PRIMARY KEY NOT NULL,
    caller TEXT NOT NULL,
    route TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    response_status INTEGER,
    response_content_type TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_scope_idx ON idempotency_keys (caller, route, idem_key);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
