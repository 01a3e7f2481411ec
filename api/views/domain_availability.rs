//! The answer of `GET /v1/domains/availability`: the service's result as it is (its shapes are
//! defined beside the rule that fills them).

pub use crate::services::domain_availability::{
    AvailabilityOffer, AvailabilityPrice, DomainAvailability,
};
