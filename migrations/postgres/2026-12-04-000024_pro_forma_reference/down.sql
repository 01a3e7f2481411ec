ALTER TABLE pro_formas DROP COLUMN credited_at;
ALTER TABLE pro_formas DROP COLUMN credited_payment_id;
DROP INDEX pro_formas_reference_idx;
