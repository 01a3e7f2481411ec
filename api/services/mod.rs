//! Business rules that span models.

pub mod accounts;
pub mod activity;
pub mod activity_log;
pub mod connection_log;
pub mod deletion;
pub mod emails;
pub mod newsletters;
pub mod passwords;
pub mod profile;
pub mod security;
pub mod sessions;
pub mod tokens;
pub mod two_factor;
