-- Per-recipient limits on the mails a stranger can trigger count the recent mails of one template
-- to one address.
CREATE INDEX mails_recipient_idx ON mails (to_address, template, created_at);
