//! Rows, inserts, updates and the queries on them. All diesel code lives here.

pub mod activities;
pub mod api_tokens;
pub mod idempotency_keys;
pub mod jobs;
pub mod mails;
pub mod one_time_tokens;
pub mod recovery_codes;
pub mod sessions;
pub mod signing_keys;
pub mod two_factor;
pub mod users;
