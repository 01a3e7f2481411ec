ALTER TABLE users DROP COLUMN signup_replaced;
