DROP TABLE registry_clock;
DROP TABLE registry_messages;
DROP TABLE registry_domains;
DROP TABLE domain_transfer_codes;
DROP TABLE domains;
