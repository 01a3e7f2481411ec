//! Rows, inserts, updates and the queries on them. All diesel code lives here.

pub mod account_erasure;
pub mod activities;
pub mod api_tokens;
pub mod emails;
pub mod idempotency_keys;
pub mod invitations;
pub mod invoices;
pub mod jobs;
pub mod mails;
pub mod memberships;
pub mod newsletter_subscriptions;
pub mod one_time_tokens;
pub mod orders;
pub mod organizations;
pub mod passwords;
pub mod payment_methods;
pub mod payments;
pub mod prepaid;
pub mod products;
pub mod recovery_codes;
pub mod security_settings;
pub mod sessions;
pub mod signing_keys;
pub mod two_factor;
pub mod users;
pub mod webhook_events;
