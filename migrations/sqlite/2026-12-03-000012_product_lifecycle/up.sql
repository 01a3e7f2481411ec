-- Renewals and the product lifecycle (issue 11).

-- The saved card that pays automatic renewals (R39); a change of billing frequency scheduled for
-- the term's end (R38); a decrease of options for the next term (R42); the bundle product that
-- includes this one; the last renewal reminder sent (the expiry it was about, and how many days
-- before it: negative after); when the status last changed (expiry, suspension, cancellation).
ALTER TABLE products ADD COLUMN auto_renew_payment_method_id TEXT;
ALTER TABLE products ADD COLUMN next_period_months INTEGER;
ALTER TABLE products ADD COLUMN next_options TEXT;
ALTER TABLE products ADD COLUMN bundle_id TEXT;
ALTER TABLE products ADD COLUMN reminded_for TIMESTAMP;
ALTER TABLE products ADD COLUMN reminder_stage INTEGER;
ALTER TABLE products ADD COLUMN status_changed_at TIMESTAMP;
-- The scheduler's passes read only the products due: by status, then expiry.
CREATE INDEX products_status_expiry_idx ON products (status, expires_at);
CREATE INDEX products_bundle_idx ON products (bundle_id);

-- One renewal of one product for one term. Paying its order moves the product's expiry from
-- `period_start` to `period_end` exactly once: at most one live renewal per product and term
-- (the unique index), and the expiry moves only from `period_start` (compare-and-set).
-- `pending` until paid, then `applied`; `voided` when its order or pro forma lapses.
CREATE TABLE renewals (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    -- The order whose invoice pays it; NULL while a pro forma awaits a bank transfer.
    order_id TEXT,
    pro_forma_id TEXT,
    period_start TIMESTAMP NOT NULL,
    period_end TIMESTAMP NOT NULL,
    -- The billing period chosen for this term (R36): the product's from when it is paid.
    period_months INTEGER NOT NULL,
    -- The term's price (one period, options included, before VAT) and options (JSON): the
    -- product's once paid.
    price_minor BIGINT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    -- Made by the scheduler (auto-renewal), with its charge attempts.
    automatic BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_failure TEXT,
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE UNIQUE INDEX renewals_one_per_term ON renewals (product_id, period_start) WHERE status <> 'voided';
CREATE INDEX renewals_order_idx ON renewals (order_id);
CREATE INDEX renewals_pro_forma_idx ON renewals (pro_forma_id);
CREATE INDEX renewals_next_attempt_idx ON renewals (next_attempt_at);

-- A change of a product paid by an order (an upgrade of options, R42): applied once paid.
-- `pending`, `applied` or `voided`.
CREATE TABLE product_changes (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE INDEX product_changes_order_idx ON product_changes (order_id);
CREATE UNIQUE INDEX product_changes_one_pending ON product_changes (product_id) WHERE status = 'pending';

-- A cancellation (R43–R46): `requested` until confirmed through the mailed link, then
-- `confirmed` (effective at `effective_at`), or `withdrawn`.
CREATE TABLE cancellations (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    -- `end_of_term` or `now`.
    effective TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    effective_at TIMESTAMP,
    withdrawn_at TIMESTAMP
);
CREATE UNIQUE INDEX cancellations_one_confirmed ON cancellations (product_id) WHERE status = 'confirmed';
CREATE INDEX cancellations_org_idx ON cancellations (organization_id, created_at, id);

-- Pro forma invoices (R28, R34): their own yearly numbering `PF-YYYY-NNNNNN`, outside the
-- invoice sequence, of no legal value. `lines` are the lines as they would be invoiced (JSON).
CREATE TABLE pro_forma_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL
);
CREATE TABLE pro_formas (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    number TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    vat_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    lines TEXT NOT NULL,
    -- The bank transfer's reference, when it awaits one.
    transfer_reference TEXT,
    -- The order and invoice issued when it was paid.
    order_id TEXT,
    invoice_id TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX pro_formas_number_idx ON pro_formas (number);
CREATE INDEX pro_formas_org_idx ON pro_formas (organization_id, created_at, id);
ALTER TABLE payments ADD COLUMN pro_forma_id TEXT;

-- The sandbox provider's own record of its charges, by idempotency key: a repeated key returns
-- the first charge's outcome (as a real provider does), and the fault harness counts charges.
CREATE TABLE sandbox_charges (
    idempotency_key TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL,
    outcome TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
