-- Domains (issue 12). A domain is a product ordered from a `domain-*` offer; this row is what the
-- registry knows of it as far as we last saw: its names, statuses, contacts and the state of a
-- transfer out. Registry calls never run inside a transaction: the row is written after the
-- registry answered (or by the job that asked it).
CREATE TABLE domains (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    -- ASCII (punycode), lower case: the registry's name; `unicode_name` is how people write it.
    name TEXT NOT NULL,
    unicode_name TEXT NOT NULL,
    tld TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The EPP statuses last read from the registry, a JSON array (`["ok"]`).
    registry_statuses TEXT NOT NULL,
    locked BOOLEAN NOT NULL,
    privacy BOOLEAN NOT NULL,
    -- Contacts as JSON objects (name, organization, address, email, phone).
    owner_contact TEXT NOT NULL,
    admin_contact TEXT NOT NULL,
    tech_contact TEXT NOT NULL,
    registered_at TIMESTAMP,
    expires_at TIMESTAMP,
    last_transferred_at TIMESTAMP,
    owner_changed_at TIMESTAMP,
    -- Transfer out: none, code_sent, requested, completed, cancelled, rejected.
    transfer_state TEXT NOT NULL,
    transfer_state_at TIMESTAMP,
    transfer_code_expires_at TIMESTAMP,
    transfer_requested_by TEXT,
    transfer_completes_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX domains_product_idx ON domains (product_id);
-- One live registration of a name through us at a time.
CREATE UNIQUE INDEX domains_live_name_idx ON domains (name)
    WHERE status IN ('registering', 'active', 'expired');
CREATE INDEX domains_org_name_idx ON domains (organization_id, name, id);
CREATE INDEX domains_org_expiry_idx ON domains (organization_id, expires_at, id);

-- Every transfer-out code ever sent, kept only as a hash: the latest unvoided one is the live
-- code; counting a day's rows limits how often it is asked (R50).
CREATE TABLE domain_transfer_codes (
    id TEXT PRIMARY KEY NOT NULL,
    domain_id TEXT NOT NULL REFERENCES domains (id),
    code_hash TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    voided_at TIMESTAMP
);
CREATE INDEX domain_transfer_codes_domain_idx ON domain_transfer_codes (domain_id, created_at);

-- The built-in sandbox registry's own state (what a registry keeps, not what we know of it):
-- the registrations, their auth codes as salted hashes, pending transfers, the poll queue per
-- registrar, and the sandbox's clock offset (`leman registry simulate advance`).
CREATE TABLE registry_domains (
    name TEXT PRIMARY KEY NOT NULL,
    registrar TEXT NOT NULL,
    statuses TEXT NOT NULL,
    contacts TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    privacy BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    auth_code_hash TEXT,
    auth_code_expires_at TIMESTAMP,
    transfer_status TEXT,
    transfer_gaining_registrar TEXT,
    transfer_requested_at TIMESTAMP,
    transfer_act_at TIMESTAMP,
    last_transferred_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE registry_messages (
    id TEXT PRIMARY KEY NOT NULL,
    registrar TEXT NOT NULL,
    domain_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    gaining_registrar TEXT,
    created_at TIMESTAMP NOT NULL,
    acked_at TIMESTAMP
);
CREATE INDEX registry_messages_queue_idx ON registry_messages (registrar, acked_at, created_at);
CREATE TABLE registry_clock (
    id INTEGER PRIMARY KEY NOT NULL,
    offset_seconds BIGINT NOT NULL
);
