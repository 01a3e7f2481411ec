//! Rows, inserts, updates and the queries on them. All diesel code lives here.

pub mod idempotency_keys;
pub mod jobs;
pub mod mails;
pub mod signing_keys;
