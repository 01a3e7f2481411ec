DROP INDEX mails_recipient_idx;
