use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::ids::DomainId;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgSensitive, Unauthenticated};
use crate::http::Json;
use crate::http::org::{DomainsWrite, InOrg, Requirement};
use crate::services::transfer_out::{self, RequestInput};
use crate::views::transfer_out::TransferOutStarted;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"unlock": true, "disable_privacy": true}))]
pub struct RequestTransferOut {
    /// Unlock the domain first (remove `clientTransferProhibited` at the registry), R49.
    #[serde(default)]
    pub unlock: bool,
    /// Turn WHOIS privacy off first (the registry must show the owner), R49.
    #[serde(default)]
    pub disable_privacy: bool,
    /// `.uk` only: the gaining registrar's tag (`NEWREG`).
    #[schema(example = "NEWREG")]
    pub tag: Option<String>,
    /// `.uk` only: must be `true` — a release to a tag is irreversible.
    #[serde(default)]
    pub confirm: bool,
}

/// Get a transfer-out code (R47–R51)
///
/// The preconditions are checked and each named in a 409: `domain_expired`, `registry_prohibited`
/// (a server status at the registry), `transfer_locked_until` (the extension's lock after
/// registration, transfer or change of owner; the detail says until when), `domain_locked` and
/// `privacy_enabled` — `{"unlock": true, "disable_privacy": true}` does those two first, at the
/// registry (R49). Then a new code in the extension's format (made by the registry for `.eu`),
/// valid for the extension's days, is set at the registry and **mailed only to the owner's email as
/// the registry's WHOIS has it** (R48), in the owner's language. The code is never in this answer
/// (only the masked recipient), nor in any other answer, log, activity or event; the organisation's
/// admins and the requester get a notice without it. Asking again repeats the procedure: a new
/// code, the earlier one void (R50), at most 5 a day (429). `.uk` has no code: `{"tag": "NEWREG",
/// "confirm": true}` releases the domain to that registrar's tag at once, for good (the domain is
/// then `transferred_out`). Recent authentication needed (tokens cannot). Holders of `domains`.
#[utoipa::path(
    operation_id = "request_transfer_out",
    tag = "domains",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("domain_id" = String, Path, description = "The domain's id (`dom_…`)", example = "dom_01936d7a6b2f7c3e9d4a5b6c7d8e9f20")),
    extensions(("x-leman-permission" = json!(DomainsWrite::NEED)), ("x-leman-scope" = json!(DomainsWrite::SCOPE))),
    request_body = RequestTransferOut,
    responses(
        (status = 202, description = "A code is on its way to the WHOIS owner's address (masked here), or (.uk) the domain was released to the tag", body = TransferOutStarted),
        Unauthenticated,
        OrgSensitive,
        (status = 409, description = "A precondition is not met: `domain_locked`, `privacy_enabled`, `transfer_locked_until`, `registry_prohibited`, `domain_expired`; or the domain is not active (`domain_not_active`), a registrar already asked for it (`transfer_requested`), it changed meanwhile (`domain_changed`), the registry refused (`registry_refused`, `not_at_registry`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("domain_locked" = (summary = "Locked", value = json!({"type": "urn:leman:problem:domain_locked", "title": "Conflict", "status": 409, "detail": "The domain is locked against transfers: unlock it first, or send `\"unlock\": true`.", "code": "domain_locked"}))),
            ("privacy_enabled" = (summary = "WHOIS privacy on", value = json!({"type": "urn:leman:problem:privacy_enabled", "title": "Conflict", "status": 409, "detail": "WHOIS privacy hides the owner: turn it off first, or send `\"disable_privacy\": true`.", "code": "privacy_enabled"}))),
            ("transfer_locked_until" = (summary = "Within the extension's lock", value = json!({"type": "urn:leman:problem:transfer_locked_until", "title": "Conflict", "status": 409, "detail": "The .com rules forbid a transfer until 2027-02-02 (2027-02-02T10:00:00Z).", "code": "transfer_locked_until"}))),
            ("registry_prohibited" = (summary = "Prohibited at the registry", value = json!({"type": "urn:leman:problem:registry_prohibited", "title": "Conflict", "status": 409, "detail": "The registry prohibits transfers of this domain (serverTransferProhibited); contact support.", "code": "registry_prohibited"}))),
            ("domain_expired" = (summary = "Expired", value = json!({"type": "urn:leman:problem:domain_expired", "title": "Conflict", "status": 409, "detail": "The domain expired on 2026-11-30: renew it before transferring it out.", "code": "domain_expired"}))),
            ("transfer_requested" = (summary = "Already requested", value = json!({"type": "urn:leman:problem:transfer_requested", "title": "Conflict", "status": 409, "detail": "Another registrar has already asked for this domain: it completes at the registry's date unless you reject it.", "code": "transfer_requested"}))),
        )),
        (status = 429, description = "More than 5 codes for this domain in 24 hours (`rate_limited`); wait `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:rate_limited", "title": "Too Many Requests", "status": 429, "detail": "At most 5 transfer codes a day for a domain. Retry in 86000 s.", "code": "rate_limited"})),
        (status = 503, description = "The registry did not answer; nothing changed (`registry_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:registry_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The domain registry did not answer; nothing was changed. Try again shortly.", "code": "registry_unavailable"})),
        JsonBody,
        // After JsonBody: replaces its 422 with one that also names the .uk release's fields.
        (status = 422, description = "Wrong types or unknown fields (`validation_failed`); for `.uk`, a missing or malformed `tag` (`invalid_tag`) or `confirm` not `true` (`confirmation_required`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:validation_failed", "title": "Unprocessable Content", "status": 422, "detail": "The request is not valid.", "code": "validation_failed", "errors": [{"field": "/confirm", "code": "confirmation_required", "message": "must be true: releasing a domain to another registrar is irreversible"}]})),
        Common,
    )
)]
#[post("/orgs/{org_id}/domains/{domain_id}/transfer-out")]
pub async fn request_transfer_out(
    org: InOrg<DomainsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<RequestTransferOut>,
) -> Result<HttpResponse, AppError> {
    let domain_id = DomainId::parse(&path.1)?;
    let b = body.0;
    let input = RequestInput {
        unlock: b.unlock,
        disable_privacy: b.disable_privacy,
        tag: b.tag,
        confirm: b.confirm,
    };
    let started = transfer_out::request(&services, meta, &org, domain_id, input).await?;
    Ok(HttpResponse::Accepted().json(TransferOutStarted::from(&started)))
}
