-- A cancellation waits for its requester to confirm it through a mailed single-use link (R43):
-- the link's token is a `one_time_tokens` row (purpose `cancellation`); this is the hash of its
-- secret, so the link finds its cancellation.
ALTER TABLE cancellations ADD COLUMN link_token_hash TEXT;
CREATE INDEX cancellations_link_idx ON cancellations (link_token_hash);
