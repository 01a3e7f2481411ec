//! Whether a name can be registered (`GET /v1/domains/availability`): normalised, under an
//! extension we register, free at the registry (asked outside any transaction) and not a live
//! registration of ours.

use crate::context::Services;
use crate::db;
use crate::domain::billing::period_name;
use crate::domain::domains::DomainName;
use crate::domain::invalid;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::error::AppError;
use serde::Serialize;
use utoipa::ToSchema;

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

pub async fn check(
    ctx: &Services,
    raw: &str,
    currency: Currency,
) -> Result<DomainAvailability, AppError> {
    let name = DomainName::parse(raw, "name").map_err(|e| AppError::validation(vec![e]))?;
    let ext = ctx.catalog.extensions.get(&name.tld);
    let offer = ext.and_then(|e| ctx.catalog.offer(&e.offer));
    let Some(offer) = offer else {
        let known: Vec<&str> = ctx
            .catalog
            .extensions
            .all()
            .map(|e| e.tld.as_str())
            .collect();
        let mut e = AppError::unprocessable(
            "unsupported_tld",
            format!("We do not register names under .{}.", name.tld),
        );
        e.errors = vec![invalid(
            "name",
            "unsupported_tld",
            format!("extensions we register: {}", known.join(", ")),
        )];
        return Err(e);
    };
    let registry = ctx.registry.clone();
    let ascii = name.ascii.clone();
    let at_registry = tokio::task::spawn_blocking(move || registry.check(&ascii))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(crate::registry::problem)?;
    let ascii = name.ascii.clone();
    let ours = db::run(&ctx.pool, move |conn| {
        Ok(crate::models::domains::live_by_name(conn, &ascii)?.is_some())
    })
    .await?;
    let (available, reason) = match (at_registry.available, ours) {
        (true, false) => (true, None),
        (false, _) => (
            false,
            Some(at_registry.reason.unwrap_or_else(|| "in use".into())),
        ),
        (true, true) => (false, Some("ordered already".to_string())),
    };
    Ok(DomainAvailability {
        name: name.ascii,
        unicode_name: name.unicode,
        tld: name.tld,
        available,
        reason,
        offer: AvailabilityOffer {
            id: offer.id.clone(),
            name: offer.name.clone(),
        },
        prices: offer
            .prices
            .iter()
            .map(|(months, p)| AvailabilityPrice {
                billing_period: period_name(*months),
                price: Money::new(p.get(currency), currency),
            })
            .collect(),
    })
}
