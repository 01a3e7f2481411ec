//! Business rules that span models.

pub mod accounts;
pub mod activity;
pub mod connection_log;
pub mod profile;
pub mod security;
pub mod sessions;
