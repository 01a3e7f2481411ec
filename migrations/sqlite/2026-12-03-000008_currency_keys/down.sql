CREATE TABLE products_new (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    offer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    period_months INTEGER NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    auto_renew BOOLEAN NOT NULL,
    price_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    order_id TEXT NOT NULL,
    started_at TIMESTAMP,
    expires_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO products_new SELECT * FROM products;
DROP TABLE products;
ALTER TABLE products_new RENAME TO products;
CREATE INDEX products_org_idx ON products (organization_id, created_at, id);
CREATE INDEX products_order_idx ON products (order_id);
CREATE TABLE orders_new (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    status TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO orders_new SELECT * FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_org_idx ON orders (organization_id, created_at, id);
CREATE INDEX orders_open_idx ON orders (status, expires_at);
CREATE TABLE payments_new (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    invoice_id TEXT,
    purpose TEXT NOT NULL,
    method TEXT NOT NULL,
    payment_method_id TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    gateway_reference TEXT,
    failure_code TEXT,
    refunded_minor BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
INSERT INTO payments_new SELECT * FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE UNIQUE INDEX payments_one_live_per_invoice ON payments (invoice_id) WHERE status IN ('pending', 'succeeded');
CREATE UNIQUE INDEX payments_reference_idx ON payments (gateway_reference);
CREATE INDEX payments_org_idx ON payments (organization_id, created_at);
CREATE TABLE invoice_lines_kept AS SELECT * FROM invoice_lines;
DROP TABLE invoice_lines;
CREATE TABLE invoices_new (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    issuer TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    vat_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    customer_name TEXT NOT NULL,
    customer_address TEXT NOT NULL,
    customer_country TEXT NOT NULL,
    customer_vat_number TEXT,
    order_id TEXT,
    issued_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO invoices_new SELECT * FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;
CREATE UNIQUE INDEX invoices_number_idx ON invoices (issuer, number);
CREATE INDEX invoices_org_idx ON invoices (organization_id, issued_at, id);
CREATE INDEX invoices_org_status_idx ON invoices (organization_id, status, issued_at, id);
CREATE TABLE invoice_lines (
    id TEXT PRIMARY KEY NOT NULL,
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    product_id TEXT,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    vat_rate TEXT NOT NULL,
    net_minor BIGINT NOT NULL,
    vat_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    period_start TIMESTAMP,
    period_end TIMESTAMP
);
INSERT INTO invoice_lines SELECT * FROM invoice_lines_kept;
DROP TABLE invoice_lines_kept;
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id, position);
CREATE TABLE prepaid_transactions_kept AS SELECT * FROM prepaid_transactions;
DROP TABLE prepaid_transactions;
CREATE TABLE prepaid_accounts_new (
    organization_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    currency TEXT NOT NULL,
    balance_minor BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO prepaid_accounts_new SELECT * FROM prepaid_accounts;
DROP TABLE prepaid_accounts;
ALTER TABLE prepaid_accounts_new RENAME TO prepaid_accounts;
CREATE TABLE prepaid_transactions (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    balance_after_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    payment_id TEXT,
    invoice_id TEXT,
    iban TEXT,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO prepaid_transactions SELECT * FROM prepaid_transactions_kept;
DROP TABLE prepaid_transactions_kept;
CREATE INDEX prepaid_transactions_org_idx ON prepaid_transactions (organization_id, created_at, id);
DROP INDEX organizations_id_currency_key;
