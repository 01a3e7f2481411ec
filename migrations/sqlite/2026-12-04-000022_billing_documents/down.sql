ALTER TABLE mails DROP COLUMN attachments;
DROP TABLE tasks;
DROP TABLE billing_settings;
DROP TABLE credit_notes;
DROP TABLE credit_note_counters;
