-- Organisations: the organisations themselves, who belongs to them with which role and
-- permissions, pending invitations, and the hash chains that make the activity record
-- tamper-evident.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    currency TEXT NOT NULL,
    address_line1 TEXT NOT NULL,
    address_line2 TEXT,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    vat_number TEXT,
    require_two_factor BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    retain_until TIMESTAMP
);

CREATE TABLE memberships (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, created_at);
CREATE INDEX memberships_org_idx ON memberships (organization_id, created_at, user_id);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    permissions TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    invited_by TEXT NOT NULL REFERENCES users (id),
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    accepted_by TEXT,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX invitations_token_idx ON invitations (token_hash);
CREATE INDEX invitations_org_idx ON invitations (organization_id, created_at);
CREATE INDEX invitations_email_idx ON invitations (email);

-- One row per chain (an organisation, or one user's records outside any organisation): the
-- head that each new record links to. A write updates it first, so concurrent writers queue.
CREATE TABLE activity_chains (
    id TEXT PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

-- Whether an organisation the user belongs to requires 2FA: kept up to date when a policy,
-- a membership or an organisation changes, so the caller's one query reads it as a column.
ALTER TABLE users ADD COLUMN two_factor_required BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE activities ADD COLUMN chain_id TEXT;
ALTER TABLE activities ADD COLUMN seq BIGINT;
ALTER TABLE activities ADD COLUMN actor_digest TEXT;
ALTER TABLE activities ADD COLUMN subject_digest TEXT;
ALTER TABLE activities ADD COLUMN prev_hash TEXT;
ALTER TABLE activities ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX activities_chain_idx ON activities (chain_id, seq);
CREATE INDEX activities_org_idx ON activities (organization_id, created_at);
