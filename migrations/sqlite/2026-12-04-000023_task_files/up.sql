-- A task's result file (issue 13): an invoice export as CSV or as a ZIP of PDFs, kept until
-- `expires_at` (finished + 7 days) and downloaded through a link whose token is random and
-- stored only as its SHA-256. The bytes live in the database, in chunks of at most 1 MiB, so
-- every instance serves every file and a download streams one chunk at a time. Binary columns
-- are BLOB here (diesel's `Binary` on both engines: BLOB on SQLite, BYTEA on PostgreSQL).
CREATE TABLE task_files (
    task_id TEXT PRIMARY KEY NOT NULL REFERENCES tasks (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- Hex SHA-256 of the whole file.
    sha256 TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    -- Hex SHA-256 of the download token.
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX task_files_expires_idx ON task_files (expires_at);

-- The file's bytes, in order. Written while the task runs (before its `task_files` row, which
-- the task's success commits), so they belong to the task.
CREATE TABLE task_file_chunks (
    task_id TEXT NOT NULL REFERENCES tasks (id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (task_id, seq)
);
