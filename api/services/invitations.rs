//! Invitations (R15): a holder of `users` invites an address with a role and permissions (no more
//! than they may grant); the link is mailed and works 7 days, once, for the account whose login
//! is that address. Inviting the new account then removing the old one is also how a person
//! moves to another login.

use actix_web::http::StatusCode;

use crate::auth::{Caller, secrets};
use crate::config::Config;
use crate::db::{self, Pool};
use crate::domain::Email;
use crate::domain::orgs::{Grant, Need, Permission, Role, may_grant};
use crate::error::ApiError;
use crate::http::PageParams;
use crate::http::meta::RequestMeta;
use crate::http::query::path_id;
use crate::mail;
use crate::models::invitations::{self, Invitation};
use crate::models::{memberships, organizations, users};
use crate::services::activity::{self, Event};
use crate::services::members::grant_refused;
use crate::services::orgs::{self, authorize};
use crate::startup::Services;

/// Invitation ids: `ivt_…` (invoices have `inv_`).
pub const ID_PREFIX: &str = "ivt";

/// How long an invitation link works.
pub const VALID_DAYS: i64 = 7;

fn already_member() -> ApiError {
    ApiError::conflict(
        "already_member",
        "This account is already a member of the organisation.",
    )
}

pub struct NewInvitation {
    pub email: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
}

/// Invites an address; a pending invitation to the same address is replaced.
pub async fn create(
    ctx: &Services,
    meta: RequestMeta,
    caller: Caller,
    raw_org_id: String,
    input: NewInvitation,
) -> Result<Invitation, ApiError> {
    caller.require_scope("orgs:write")?;
    let org_id = orgs::org_id(&raw_org_id)?;
    let email = Email::parse(&input.email, "/email").map_err(|e| ApiError::validation(vec![e]))?;
    let grant = Grant::new(input.role, &input.permissions);
    let config: std::sync::Arc<Config> = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = authorize(c, &caller, &org_id, Need::Permission(Permission::Users))?;
            may_grant(&access.grant, None, Some(&grant)).map_err(|e| grant_refused(e.0))?;
            let invitee = users::find_by_email(c, email.as_str())?;
            if let Some(user) = &invitee
                && memberships::find(c, &org_id, &user.id)?.is_some()
            {
                return Err(already_member());
            }
            let now = db::now();
            let replaced = invitations::revoke_pending_to(c, &org_id, email.as_str(), now)?;
            let token = secrets::new_secret("");
            let invitation = Invitation {
                id: db::new_id(ID_PREFIX),
                organization_id: org_id.clone(),
                email: email.as_str().to_string(),
                role: grant.role.as_str().to_string(),
                permissions: grant.permissions_json(),
                token_hash: secrets::hash(&token),
                invited_by: caller.user_id.clone(),
                expires_at: now + chrono::Duration::days(VALID_DAYS),
                accepted_at: None,
                accepted_by: None,
                revoked_at: None,
                created_at: now,
            };
            invitations::insert(c, &invitation)?;
            // In the invitee's language when they have an account, else in the inviter's.
            let language = invitee
                .as_ref()
                .map(|u| u.language.clone())
                .unwrap_or_else(|| caller.account.language.clone());
            mail::send(
                c,
                &config,
                "invitation",
                &language,
                email.as_str(),
                serde_json::json!({
                    "inviter_name": caller.full_name(),
                    "organization_name": access.org.name,
                    "role": grant.role.as_str(),
                    "link": config.app_link("/accept-invitation", &token),
                    "days": VALID_DAYS,
                }),
            )?;
            // The address is personal data: the record keeps the invitation's id only.
            activity::record(
                c,
                &meta,
                Event::new("invitation.created", &caller.user_id)
                    .organization(&org_id)
                    .details(serde_json::json!({
                        "invitation_id": invitation.id,
                        "role": grant.role,
                        "permissions": grant.effective(),
                        "replaced": replaced,
                    })),
            )?;
            Ok(invitation)
        })
    })
    .await
}

/// A page of the organisation's pending invitations, newest first.
pub async fn list(
    pool: &Pool,
    caller: &Caller,
    raw_org_id: &str,
    page: PageParams,
) -> Result<(Vec<Invitation>, Option<String>), ApiError> {
    orgs::page_of(
        pool,
        caller,
        raw_org_id,
        ("orgs:read", Need::Permission(Permission::Users)),
        page,
        |c, org, before, limit| invitations::pending_page(c, org, db::now(), before, limit),
        |i| (i.created_at, &i.id),
    )
    .await
}

/// Withdraws a pending invitation (one the caller could have made).
pub async fn revoke(
    pool: &Pool,
    meta: RequestMeta,
    caller: Caller,
    raw_org_id: String,
    raw_invitation_id: String,
) -> Result<(), ApiError> {
    caller.require_scope("orgs:write")?;
    let org_id = orgs::org_id(&raw_org_id)?;
    let id = path_id(&raw_invitation_id, ID_PREFIX, "invitation")?;
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let access = authorize(c, &caller, &org_id, Need::Permission(Permission::Users))?;
            let now = db::now();
            let invitation = invitations::find_pending(c, &org_id, &id, now)?
                .ok_or_else(|| ApiError::not_found("No such invitation."))?;
            let grant = Grant::from_db(&invitation.role, &invitation.permissions);
            may_grant(&access.grant, Some(&grant), None).map_err(|e| grant_refused(e.0))?;
            invitations::revoke(c, &id, now)?;
            activity::record(
                c,
                &meta,
                Event::new("invitation.revoked", &caller.user_id)
                    .organization(&org_id)
                    .details(serde_json::json!({ "invitation_id": id })),
            )?;
            Ok(())
        })
    })
    .await
}

/// Accepts an invitation: the caller's login must be the invited address (else 403); they join
/// with the invited role and permissions.
pub async fn accept(
    pool: &Pool,
    meta: RequestMeta,
    caller: Caller,
    token: String,
) -> Result<(organizations::Organization, memberships::Membership), ApiError> {
    caller.require_scope("orgs:write")?;
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let now = db::now();
            let invitation = invitations::find_by_token(c, &secrets::hash(&token), now)?
                .ok_or_else(ApiError::invalid_token)?;
            if invitation.email != caller.account.email {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "invitation_for_another_account",
                    "This invitation is for another address: sign in with the account whose login is the invited address.",
                ));
            }
            if memberships::find(c, &invitation.organization_id, &caller.user_id)?.is_some() {
                return Err(already_member());
            }
            if !invitations::accept(c, &invitation.id, &caller.user_id, now)? {
                return Err(ApiError::invalid_token());
            }
            let membership = memberships::Membership {
                organization_id: invitation.organization_id.clone(),
                user_id: caller.user_id.clone(),
                role: invitation.role.clone(),
                permissions: invitation.permissions.clone(),
                created_at: now,
                updated_at: now,
            };
            memberships::insert(c, &membership)?;
            organizations::refresh_two_factor_required(c, std::slice::from_ref(&caller.user_id))?;
            activity::record(
                c,
                &meta,
                Event::new("member.joined", &caller.user_id)
                    .organization(&invitation.organization_id)
                    .details(serde_json::json!({
                        "invitation_id": invitation.id,
                        "invited_by": invitation.invited_by,
                        "role": invitation.role,
                    })),
            )?;
            let org = organizations::find(c, &invitation.organization_id)?
                .ok_or_else(ApiError::invalid_token)?;
            Ok((org, membership))
        })
    })
    .await
}
