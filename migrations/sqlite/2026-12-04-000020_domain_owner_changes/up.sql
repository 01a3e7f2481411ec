-- A change of a domain's owner (issue 12 part 4): applied only once the current owner and the
-- new one both confirmed it through their mailed links. The links' tokens are kept only as
-- hashes; a newer request replaces a pending one (`replaced`).
CREATE TABLE domain_owner_changes (
    id TEXT PRIMARY KEY NOT NULL,
    domain_id TEXT NOT NULL REFERENCES domains (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    requested_by TEXT NOT NULL,
    -- The new contacts (owner, admin, tech) as JSON.
    contacts TEXT NOT NULL,
    old_owner_email TEXT NOT NULL,
    new_owner_email TEXT NOT NULL,
    old_token_hash TEXT NOT NULL,
    new_token_hash TEXT NOT NULL,
    old_confirmed_at TIMESTAMP,
    new_confirmed_at TIMESTAMP,
    -- pending, applied, replaced, expired.
    status TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX domain_owner_changes_domain_idx ON domain_owner_changes (domain_id, status);
CREATE UNIQUE INDEX domain_owner_changes_old_token_idx ON domain_owner_changes (old_token_hash);
CREATE UNIQUE INDEX domain_owner_changes_new_token_idx ON domain_owner_changes (new_token_hash);
