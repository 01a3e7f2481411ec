//! HTTP plumbing shared by every route: the JSON body extractor, the 404/405 fallback, and the
//! mapping of actix's own errors to problem+json.

pub mod cors;
pub mod fallback;
pub mod idempotency;
pub mod json;
pub mod meta;
pub mod org;
pub mod pdf;
pub mod problem;
pub mod query;

pub use json::Json;
pub use query::{PageParams, Query, path_id};

/// Largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
