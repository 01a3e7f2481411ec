-- Transfer out (issue 12): where each code went, masked (`o•••@example.ch`), so the transfer-out
-- state can say so without keeping the owner's address twice or the code at all.
ALTER TABLE domain_transfer_codes ADD COLUMN recipient TEXT;
