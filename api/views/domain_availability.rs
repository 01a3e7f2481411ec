//! The answer of `GET /v1/domains/availability`.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::money::Money;

/// The catalogue's offer a name is ordered from.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityOffer {
    #[schema(example = "domain-ch")]
    pub id: String,
    #[schema(example = "Domain .ch")]
    pub name: String,
}

/// The price of one billing period, before VAT.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityPrice {
    /// ISO 8601 duration: `P1Y` … `P10Y`.
    #[schema(example = "P1Y")]
    pub billing_period: &'static str,
    pub price: Money,
}

/// Whether a name can be registered, normalised, with the offer to order it from and its prices.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "xn--mller-kva.ch", "unicode_name": "müller.ch", "tld": "ch", "available": true, "reason": null, "offer": {"id": "domain-ch", "name": "Domain .ch"}, "prices": [{"billing_period": "P1Y", "price": {"amount": "11.00", "currency": "CHF"}}]}))]
pub struct DomainAvailability {
    /// ASCII (punycode), lower case: what registries know.
    pub name: String,
    /// As people write it.
    pub unicode_name: String,
    /// The extension, without the dot.
    pub tld: String,
    pub available: bool,
    /// Why not, as the registry says it (`in use`, `reserved`); null when available.
    pub reason: Option<String>,
    pub offer: AvailabilityOffer,
    /// Per billing period, in the currency asked for (`currency`, CHF by default).
    pub prices: Vec<AvailabilityPrice>,
}
