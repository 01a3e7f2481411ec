-- Feedback and suggestions per service and language (R53, issue 14 part 6): one row per message
-- a signed-in person sent. `user_id` is kept when the account is deleted (the row stays, the
-- person behind it is erased); staff read them with `leman feedback export --since`.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    service TEXT NOT NULL,
    language TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- The per-account rate limit counts a person's recent messages.
CREATE INDEX feedback_user_created_idx ON feedback (user_id, created_at);
-- The export walks messages in time order from `--since`.
CREATE INDEX feedback_created_idx ON feedback (created_at, id);
