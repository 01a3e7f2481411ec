use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, TokenBody, Unauthenticated};
use crate::http::Json;
use crate::services::invitations;
use crate::views::orgs::OrganizationView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Qm9vdHN0cmFwcGluZyBpcyBoYXJkLCBsZXQncyBnbyBzaG9wcGluZw"}))]
pub struct AcceptInvitation {
    /// The `token` of the invitation link (`/accept-invitation?token=…`).
    #[schema(min_length = 1, max_length = 200)]
    pub token: String,
}

/// Accept an invitation to an organisation
///
/// Accept an invitation: signed in as the account whose login is the invited address (a
/// verified one), the caller joins the organisation with the invited role and permissions. An
/// invitation whose maker could no longer make it (removed, left, lost the right) is void.
/// Tokens need `orgs:write`.
#[utoipa::path(
    operation_id = "accept_invitation",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = ["orgs:write"])),
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "The organisation joined", body = OrganizationView),
        Unauthenticated,
        (status = 403, description = "The invitation is for another address (`invitation_for_another_account`), the caller's login address is not verified (`email_not_verified`), or a token lacks the scope (`insufficient_scope`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:invitation_for_another_account", "title": "Forbidden", "status": 403, "detail": "This invitation is for another address: sign in with the account whose login is the invited address.", "code": "invitation_for_another_account"})),
        (status = 409, description = "The caller already belongs to the organisation (`already_member`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:already_member", "title": "Conflict", "status": 409, "detail": "This account is already a member of the organisation.", "code": "already_member"})),
        TokenBody,
        Common,
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    caller: Caller,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<AcceptInvitation>,
) -> Result<HttpResponse, AppError> {
    let (org, membership) = invitations::accept(&services.pool, meta, caller, body.0.token).await?;
    Ok(HttpResponse::Ok().json(OrganizationView::new(&org, &membership)))
}
