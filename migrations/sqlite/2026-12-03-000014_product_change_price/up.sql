-- An upgrade of options (R42) paid by an order: the product's price of one period (before VAT,
-- options included) once the change applies, computed from the catalogue when it was ordered.
ALTER TABLE product_changes ADD COLUMN price_minor BIGINT;
