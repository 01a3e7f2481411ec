//! Business rules that span models.

pub mod accounts;
pub mod activity;
pub mod emails;
pub mod passwords;
pub mod profile;
pub mod sessions;
