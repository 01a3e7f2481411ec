-- A bank transfer quoting a pro forma made on request (R28) is found by its reference: the
-- money is credited to the organisation's prepaid account and the pro forma records the payment
-- that first settled it (it stays a quote: no order, no invoice). References are unique (each
-- contains the pro forma's unique number).
CREATE UNIQUE INDEX pro_formas_reference_idx ON pro_formas (transfer_reference);
ALTER TABLE pro_formas ADD COLUMN credited_payment_id TEXT;
ALTER TABLE pro_formas ADD COLUMN credited_at TIMESTAMP;
