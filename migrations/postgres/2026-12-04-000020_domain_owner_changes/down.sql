DROP TABLE domain_owner_changes;
