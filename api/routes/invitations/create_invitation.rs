use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::orgs::{Permission, Role};
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgGrant, Unauthenticated};
use crate::http::Json;
use crate::http::org::{InOrg, Requirement, UsersWrite};
use crate::services::invitations::{self, NewInvitation};
use crate::views::orgs::InvitationView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana.garcia@example.es", "role": "member", "permissions": ["accounting"]}))]
pub struct CreateInvitation {
    /// The login of the account that may accept (it may not exist yet).
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    pub role: Role,
    /// For members; admins and legal representatives hold all.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// Invite someone to the organisation by email
///
/// Invite someone by email with a role and permissions (no more than the caller may grant):
/// the link is mailed, works 7 days and once, for the account whose login is that address. A
/// pending invitation to the same address is replaced, by who could have made it only (else 403
/// `grant_not_allowed`). The invitation is void once its maker could no longer make it (removed,
/// left, lost the right). An organisation sends at most 20 invitations an hour, and 3 a day to
/// one address (429 `rate_limited` with `Retry-After`). Inviting a new account, then removing
/// the old one, is how a person moves to another login. Holders of `users`. Tokens need
/// `orgs:write`.
#[utoipa::path(
    operation_id = "create_invitation",
    tag = "members",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00")),
    extensions(("x-leman-permission" = json!(UsersWrite::NEED)), ("x-leman-scope" = json!(UsersWrite::SCOPE))),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "The invitation; its link is on its way", body = InvitationView),
        Unauthenticated,
        OrgGrant,
        (status = 409, description = "That account already belongs to the organisation (`already_member`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:already_member", "title": "Conflict", "status": 409, "detail": "This account is already a member of the organisation.", "code": "already_member"})),
        (status = 429, description = "The organisation sent 20 invitations in the last hour, or invited this address 3 times in the last day (`rate_limited`); retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         example = json!({"type": "urn:leman:problem:rate_limited", "title": "Too Many Requests", "status": 429, "detail": "This organisation sent 20 invitations in the last hour. Retry in 1260 s.", "code": "rate_limited"})),
        JsonBody,
        Common,
    )
)]
#[post("/orgs/{org_id}/invitations")]
pub async fn create_invitation(
    org: InOrg<UsersWrite>,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<CreateInvitation>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = NewInvitation {
        email: b.email,
        role: b.role,
        permissions: b.permissions,
    };
    let invitation = invitations::create(&services, meta, &org, input).await?;
    Ok(HttpResponse::Created().json(InvitationView::from(&invitation)))
}
