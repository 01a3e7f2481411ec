//! Operations endpoints, outside `/v1`: liveness, readiness, metrics.

pub mod healthz;
pub mod metrics;
pub mod readyz;
