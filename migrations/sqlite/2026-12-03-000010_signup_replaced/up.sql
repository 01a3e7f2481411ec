-- Whether an unverified account's sign-up replaced an earlier attempt on its address: then its
-- verification link needs that attempt's password (the link alone does not say whose attempt it is).
ALTER TABLE users ADD COLUMN signup_replaced BOOLEAN NOT NULL DEFAULT FALSE;
