use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgSensitive, Unauthenticated};
use crate::http::Json;
use crate::http::org::{AdminWrites, InOrg, Requirement};
use crate::services::members;
use crate::views::orgs::SecurityPolicyView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"require_two_factor": true}))]
pub struct UpdateSecurityPolicy {
    /// Require two-factor authentication of every member (R17).
    pub require_two_factor: bool,
}

/// Require two-factor authentication of every member, or stop requiring it
///
/// Turning it on mails each member without 2FA; from then on they are refused everywhere (403
/// `two_factor_required`) until they turn it on or leave; desktop and mobile apps keep working. The
/// caller must have 2FA on first. Turning the requirement off is a sensitive action: only a person
/// in a session that authenticated within the last 5 minutes (`POST /v1/auth/reauthenticate`);
/// tokens are refused (403 `reauthentication_required`). Admins and legal representatives. Tokens
/// need `orgs:write`.
#[utoipa::path(
    operation_id = "update_security_policy",
    tag = "organizations",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(AdminWrites::NEED)), ("x-leman-scope" = json!(AdminWrites::SCOPE))),
    request_body = UpdateSecurityPolicy,
    responses(
        (status = 200, description = "The policy now in force", body = SecurityPolicyView),
        Unauthenticated,
        OrgSensitive,
        (status = 409, description = "The caller has no two-factor authentication themself (`two_factor_not_enabled`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:two_factor_not_enabled", "title": "Conflict", "status": 409, "detail": "Turn on two-factor authentication for your own account before requiring it of the members.", "code": "two_factor_not_enabled"})),
        JsonBody,
        Common,
    )
)]
#[put("/orgs/{org_id}/security-policy")]
pub async fn update_security_policy(
    org: InOrg<AdminWrites>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<UpdateSecurityPolicy>,
) -> Result<HttpResponse, AppError> {
    let require =
        members::set_two_factor_requirement(&services, meta, &org, body.0.require_two_factor)
            .await?;
    Ok(HttpResponse::Ok().json(SecurityPolicyView {
        require_two_factor: require,
    }))
}
