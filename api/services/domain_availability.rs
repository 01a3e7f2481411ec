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
use crate::views::domain_availability::{AvailabilityOffer, AvailabilityPrice, DomainAvailability};

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
