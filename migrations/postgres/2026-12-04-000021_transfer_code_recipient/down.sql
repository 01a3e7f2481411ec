ALTER TABLE domain_transfer_codes DROP COLUMN recipient;
