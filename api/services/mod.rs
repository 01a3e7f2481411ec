//! Business rules that span models.

pub mod accounts;
pub mod activity;
pub mod profile;
pub mod sessions;
pub mod two_factor;
