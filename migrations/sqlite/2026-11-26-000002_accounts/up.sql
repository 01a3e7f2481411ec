-- Accounts: users, one-time tokens (mail links), sessions and their refresh tokens, 2FA recovery
-- codes, personal/application tokens, newsletter subscriptions, and the activity record.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_verified_at TIMESTAMP,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    language TEXT NOT NULL,
    timezone TEXT NOT NULL,
    recovery_email TEXT,
    recovery_email_verified_at TIMESTAMP,
    pending_recovery_email TEXT,
    failed_logins INTEGER NOT NULL,
    locked_at TIMESTAMP,
    lock_after_failed_logins INTEGER NOT NULL,
    notify_on_login_success BOOLEAN NOT NULL,
    notify_on_login_failure BOOLEAN NOT NULL,
    totp_secret TEXT,
    totp_enabled_at TIMESTAMP,
    totp_last_step BIGINT,
    password_changed_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX users_email_idx ON users (email);

CREATE TABLE one_time_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    new_email TEXT,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX one_time_tokens_hash_idx ON one_time_tokens (token_hash);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    amr TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    refreshed_at TIMESTAMP NOT NULL,
    authenticated_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    prefix TEXT NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_hash_idx ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at);

CREATE TABLE newsletter_subscriptions (
    user_id TEXT NOT NULL REFERENCES users (id),
    topic TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, topic)
);

CREATE TABLE activities (
    id TEXT PRIMARY KEY NOT NULL,
    actor_user_id TEXT,
    subject_user_id TEXT,
    organization_id TEXT,
    product_id TEXT,
    action TEXT NOT NULL,
    details TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    actor_name TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX activities_actor_idx ON activities (actor_user_id, created_at);
CREATE INDEX activities_subject_idx ON activities (subject_user_id, created_at);
