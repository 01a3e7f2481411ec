DROP INDEX cancellations_link_idx;
ALTER TABLE cancellations DROP COLUMN link_token_hash;
