-- Money never changes currency (issue 9, finding 5). What an organisation holds carries its
-- currency, and a composite foreign key ties it to the organisation's (id, currency): the
-- organisation's currency cannot change under its products, orders, invoices, payments or
-- prepaid account, and a ledger row's currency is its account's. The application refuses first
-- (409 `currency_locked`, `prepaid_currency_mismatch`); these keys hold it if a path ever races.

CREATE UNIQUE INDEX organizations_id_currency_key ON organizations (id, currency);
CREATE UNIQUE INDEX prepaid_accounts_org_currency_key ON prepaid_accounts (organization_id, currency);
ALTER TABLE products ADD CONSTRAINT products_org_currency_fkey FOREIGN KEY (organization_id, currency) REFERENCES organizations (id, currency);
ALTER TABLE orders ADD CONSTRAINT orders_org_currency_fkey FOREIGN KEY (organization_id, currency) REFERENCES organizations (id, currency);
ALTER TABLE invoices ADD CONSTRAINT invoices_org_currency_fkey FOREIGN KEY (organization_id, currency) REFERENCES organizations (id, currency);
ALTER TABLE payments ADD CONSTRAINT payments_org_currency_fkey FOREIGN KEY (organization_id, currency) REFERENCES organizations (id, currency);
ALTER TABLE prepaid_accounts ADD CONSTRAINT prepaid_accounts_org_currency_fkey FOREIGN KEY (organization_id, currency) REFERENCES organizations (id, currency);
ALTER TABLE prepaid_transactions ADD CONSTRAINT prepaid_transactions_account_currency_fkey FOREIGN KEY (organization_id, currency) REFERENCES prepaid_accounts (organization_id, currency);
