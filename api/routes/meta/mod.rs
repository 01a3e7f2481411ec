//! The API describing itself.

pub mod get_openapi;
