-- Billing documents (issue 13): credit notes with their own gapless yearly numbering, each
-- organisation's billing settings, tasks (long work answered 202 and run as a job) and mails
-- that carry documents (rendered at delivery: documents are deterministic, so the outbox keeps
-- only which document, not its bytes).
CREATE TABLE credit_note_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL
);

-- One credit note per refund: `CN-YYYY-NNNNNN`, referring to the invoice refunded. Amounts are
-- positive minor units of the invoice's currency (what was given back, VAT split by rate).
CREATE TABLE credit_notes (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    refund_id TEXT NOT NULL REFERENCES refunds (id),
    number TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    vat_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    -- Where the money went: prepaid or original (the refund's destination).
    destination TEXT NOT NULL,
    -- The VAT rows as JSON: [{"rate":"8.1","net_minor":…,"vat_minor":…}].
    vat_breakdown TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX credit_notes_number_idx ON credit_notes (number);
CREATE UNIQUE INDEX credit_notes_refund_idx ON credit_notes (refund_id);
CREATE INDEX credit_notes_org_idx ON credit_notes (organization_id, issued_at, id);
CREATE INDEX credit_notes_invoice_idx ON credit_notes (invoice_id);

-- An organisation's billing settings; no row means the defaults (no PDF attached, the language
-- of the organisation's country, no extra address).
CREATE TABLE billing_settings (
    organization_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    attach_invoice_pdf BOOLEAN NOT NULL,
    invoice_language TEXT NOT NULL,
    invoice_email TEXT,
    updated_at TIMESTAMP NOT NULL
);

-- Long work: created by a request (202 + Location), run by a job, read by its requester only.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    organization_id TEXT REFERENCES organizations (id),
    -- queued, running, succeeded, failed
    status TEXT NOT NULL,
    -- The request as JSON (filters, format).
    params TEXT NOT NULL,
    progress_done BIGINT NOT NULL,
    progress_total BIGINT,
    -- The typed result as JSON once succeeded; the failure's code and message once failed.
    result TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_user_idx ON tasks (user_id, created_at, id);

-- A mail's documents, as JSON: [{"kind":"invoice","id":"inv_…","language":"fr"}].
ALTER TABLE mails ADD COLUMN attachments TEXT;
