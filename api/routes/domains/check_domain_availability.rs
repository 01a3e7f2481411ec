use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::orgs::Currency;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::error::responses::{Common, InsufficientScope, Unauthenticated};
use crate::http::Query;
use crate::views::domain_availability::DomainAvailability;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// The name as typed: `example.ch`, `Müller.CH`, `xn--mller-kva.ch`.
    #[param(example = "müller.ch", max_length = 1024)]
    pub name: String,
    /// The currency of the prices (`CHF` or `EUR`); CHF when omitted.
    #[param(example = "CHF")]
    pub currency: Option<Currency>,
}

/// Check whether a domain name can be registered
///
/// Whether a name can be registered: the name normalised (IDN to punycode, lower case, length
/// and label rules), its extension, the registry's answer, and the offer to order it from with
/// its prices per billing period before VAT. The registry is asked at each call; an order checks
/// again. Any signed-in caller. Tokens need `domains:read`.
#[utoipa::path(
    operation_id = "check_domain_availability",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = ["domains:read"])),
    params(AvailabilityQuery),
    responses(
        (status = 200, description = "The name, normalised, and whether it can be registered", body = DomainAvailability),
        Unauthenticated,
        InsufficientScope,
        (status = 422, description = "The name is not a valid domain name (`validation_failed`, the field error's code `invalid_domain_name` at `name`), a query parameter is wrong (`validation_failed`), or its extension is not one we register (`unsupported_tld`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:unsupported_tld", "title": "Unprocessable Content", "status": 422, "detail": "We do not register names under .xyz.", "code": "unsupported_tld", "errors": [{"field": "name", "code": "unsupported_tld", "message": "extensions we register: ch, li, com, net, org, eu, de, uk"}]})),
        (status = 503, description = "The registry did not answer (`registry_unavailable`): retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        Common,
    )
)]
#[get("/domains/availability")]
pub async fn check_domain_availability(
    caller: Caller,
    services: web::Data<Services>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    caller.require_scope(Scope::DomainsRead)?;
    // Read after the caller is known: a caller refused (no scope, two-factor required) hears
    // that, not a 422 on a parameter.
    let q = Query::<AvailabilityQuery>::extract(&req).await?.0;
    let answer = crate::services::domain_availability::check(
        &services,
        &q.name,
        q.currency.unwrap_or(Currency::Chf),
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}
