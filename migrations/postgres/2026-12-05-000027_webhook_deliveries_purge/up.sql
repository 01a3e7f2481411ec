-- The daily purge of finished deliveries (jobs/purge_webhook_deliveries.rs) reads them by age.
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);
