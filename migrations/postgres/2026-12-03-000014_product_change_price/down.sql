ALTER TABLE product_changes DROP COLUMN price_minor;
