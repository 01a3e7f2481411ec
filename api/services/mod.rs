//! Business rules that span models.

pub mod accounts;
pub mod activity;
pub mod activity_log;
pub mod audit;
pub mod connection_log;
pub mod deletion;
pub mod demo;
pub mod emails;
pub mod invitations;
pub mod invoices;
pub mod members;
pub mod newsletters;
pub mod orders;
pub mod org_deletion;
pub mod orgs;
pub mod passwords;
pub mod payment_methods;
pub mod payments;
pub mod prepaid;
pub mod profile;
pub mod refunds;
pub mod security;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
pub mod webhooks;
