-- Outgoing webhooks (issue 14): an organisation's endpoints and the deliveries queued for them.
--
-- `secret` is the signing secret (`whsec_` + base64), kept readable because every delivery is
-- signed with it (like the TOTP secrets). During a rotation the previous secret keeps signing
-- until `previous_secret_expires_at`. `event_types` is a JSON array of event type names.
-- `failing_since`: the time of the first failed attempt of the current run of failures (NULL
-- once a delivery succeeds); after 5 days of failures the endpoint is disabled
-- (`disabled_reason`).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    event_types TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    failing_since TIMESTAMP,
    disabled_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (organization_id, created_at, id);

-- One event for one endpoint (the outbox): written in the transaction of the change, sent by
-- the `deliver_webhooks` job. `event_id` is the `webhook-id` header (the same on every retry);
-- `payload` the exact body. `status`: pending, succeeded, failed (given up after 3 days).
-- `next_attempt_at` is NULL once no attempt is due; `claimed_until` is the lease of the runner
-- sending it.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    claimed_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status_code INTEGER,
    last_duration_ms BIGINT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at);
