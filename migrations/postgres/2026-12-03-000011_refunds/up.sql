-- A refund through the provider is recorded before the call (`pending`: claims the payment, one
-- at a time), called outside any transaction, then settled (`succeeded` or `failed`). Refunds to
-- the prepaid account have no call: they are recorded `succeeded` at once.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY NOT NULL,
    payment_id TEXT NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
    amount_minor BIGINT NOT NULL,
    -- `prepaid` or `original`.
    destination TEXT NOT NULL,
    -- `pending`, `succeeded` or `failed`.
    status TEXT NOT NULL,
    provider_reference TEXT,
    failure_code TEXT,
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE UNIQUE INDEX refunds_one_pending_per_payment ON refunds (payment_id) WHERE status = 'pending';
