//! Invitations (R15): a holder of `users` invites an address with a role and permissions (no more
//! than they may grant); the link is mailed and works 7 days, once, for the account whose login
//! is that address (verified). Inviting the new account then removing the old one is also how a
//! person moves to another login.
//!
//! Issue 9: withdrawing or replacing an invitation follows the rule of making it, and an
//! invitation lives only as long as its maker could still make it (their removal, leaving, loss
//! of the right or account deletion voids it) (finding 8); an organisation sends at most
//! [`PER_HOUR`] invitations an hour and [`PER_ADDRESS_PER_DAY`] a day to one address, and the
//! names a stranger chose reach the invitee's mail as inert text (finding 7).

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::auth::{Caller, secrets};
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::Email;
use crate::domain::actor::Origin;
use crate::domain::ids::InvitationId;
use crate::domain::orgs::{Grant, Permission, Role, may_invite};
use crate::domain::page::PageParams;
use crate::domain::scopes::Scope;
use crate::error::{AppError, Status};
use crate::mail;
use crate::models::invitations::{self, Invitation};
use crate::models::{memberships, organizations, users};
use crate::services::activity::{self, Event};
use crate::services::members::grant_refused;
use crate::services::orgs::{self, OrgRequest};

/// Invitation ids: `ivt_…` (invoices have `inv_`).
pub const ID_PREFIX: &str = InvitationId::PREFIX;

/// How long an invitation link works.
pub const VALID_DAYS: i64 = 7;

/// How many invitations an organisation may send in an hour (to any addresses).
pub const PER_HOUR: i64 = 20;

/// How many invitations an organisation may send to one address in a day.
pub const PER_ADDRESS_PER_DAY: i64 = 3;

/// 429 `rate_limited` with `Retry-After`: the seconds until the oldest invitation counted leaves
/// the window.
fn too_many(detail: &str, oldest: Option<NaiveDateTime>, window: chrono::Duration) -> AppError {
    let now = db::now();
    let wait = oldest
        .map(|at| (at + window - now).num_seconds() + 1)
        .unwrap_or(1)
        .max(1);
    AppError::new(
        Status::TooManyRequests,
        "rate_limited",
        format!("{detail} Retry in {wait} s."),
    )
    .retry_after(wait as u64)
}

/// The organisation's invitation limits (finding 7 of issue 9): each invitation mails a stranger
/// text an inviter chose, so neither an organisation nor one address gets a flood. Counted from
/// the invitations themselves (withdrawn and replaced ones sent their mail too), under the
/// organisation's lock.
fn check_limits(conn: &mut DbConnection, org_id: &str, email: &str) -> Result<(), AppError> {
    let now = db::now();
    let hour = chrono::Duration::hours(1);
    let (sent, oldest) = invitations::sent_since(conn, org_id, None, now - hour)?;
    if sent >= PER_HOUR {
        return Err(too_many(
            &format!("This organisation sent {PER_HOUR} invitations in the last hour."),
            oldest,
            hour,
        ));
    }
    let day = chrono::Duration::days(1);
    let (sent, oldest) = invitations::sent_since(conn, org_id, Some(email), now - day)?;
    if sent >= PER_ADDRESS_PER_DAY {
        return Err(too_many(
            &format!(
                "This organisation invited this address {PER_ADDRESS_PER_DAY} times in the last day."
            ),
            oldest,
            day,
        ));
    }
    Ok(())
}

/// Text a stranger chose (an organisation's name, the inviter's name), as an invitation mail
/// shows it: bidirectional-override characters dropped (they can reverse what the reader sees),
/// and a zero-width space after each `.`, `:`, `/` and `@` so that mail programs turn no part of
/// it into a link or an address. HTML escaping is the template's (autoescaped `.html`).
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        {
            continue;
        }
        out.push(c);
        if matches!(c, '.' | ':' | '/' | '@' | '\u{FF0E}' | '\u{3002}') {
            out.push('\u{200B}');
        }
    }
    out
}

/// Voids the organisation's pending invitations made by `inviter` that their grant `now_holds`
/// (`None`: they are no longer a member) could not make (finding 8 of issue 9). Runs in the
/// transaction that changes the inviter's membership, under the organisation's lock.
pub fn void_made_by(
    conn: &mut DbConnection,
    org_id: &str,
    inviter: &str,
    now_holds: Option<&Grant>,
) -> QueryResult<usize> {
    let now = db::now();
    let void: Vec<String> = invitations::pending_by(conn, org_id, inviter, now)?
        .into_iter()
        .filter(|i| now_holds.is_none_or(|g| may_invite(g, &i.grant()).is_err()))
        .map(|i| i.id)
        .collect();
    invitations::revoke_many(conn, &void, now)
}

fn already_member() -> AppError {
    AppError::conflict(
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
    meta: Origin,
    org: &OrgRequest,
    input: NewInvitation,
) -> Result<Invitation, AppError> {
    let org = org.clone();
    let email = Email::parse(&input.email, "/email").map_err(|e| AppError::validation(vec![e]))?;
    let grant = Grant::new(input.role, &input.permissions);
    let config: std::sync::Arc<Config> = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let (org_id, caller) = (&org.org_id, &org.caller);
            may_invite(&access.grant, &grant).map_err(|e| grant_refused(e.0))?;
            let invitee = users::find_by_email(c, email.as_str())?;
            if let Some(user) = &invitee
                && memberships::find(c, org_id, &user.id)?.is_some()
            {
                return Err(already_member());
            }
            let now = db::now();
            // Replacing an invitation withdraws it: only who could have made it.
            for pending in invitations::pending_to(c, org_id, email.as_str(), now)? {
                may_invite(&access.grant, &pending.grant()).map_err(|_| {
                    grant_refused(
                        "A pending invitation to this address grants more than you may grant: \
                         only who could have made it may replace it."
                            .into(),
                    )
                })?;
            }
            check_limits(c, org_id, email.as_str())?;
            let replaced = invitations::revoke_pending_to(c, org_id, email.as_str(), now)?;
            let token = secrets::new_secret("");
            let invitation = Invitation {
                id: InvitationId::generate().into_inner(),
                organization_id: org_id.to_string(),
                email: email.as_str().to_string(),
                role: grant.role,
                permissions: grant.stored_permissions(),
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
                    "inviter_name": inert(&caller.full_name()),
                    "organization_name": inert(&access.org.name),
                    "role": grant.role.as_str(),
                    "link": config.app_link("/accept-invitation", &token),
                    "days": VALID_DAYS,
                }),
            )?;
            // The address is personal data: the record keeps the invitation's id only.
            activity::record(
                c,
                &meta,
                Event::invitation_created(&caller.user_id, org_id, &invitation, &grant, replaced),
            )?;
            Ok(invitation)
        })
    })
    .await
}

/// A page of the organisation's pending invitations, newest first.
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
    page: PageParams,
) -> Result<(Vec<Invitation>, Option<String>), AppError> {
    orgs::page_in(
        pool,
        org,
        page,
        |c, org, before, limit| invitations::pending_page(c, org, db::now(), before, limit),
        |i| (i.created_at, &i.id),
    )
    .await
}

/// Withdraws a pending invitation (one the caller could have made).
pub async fn revoke(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    id: InvitationId,
) -> Result<(), AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let now = db::now();
            let invitation = invitations::find_pending(c, &org.org_id, &id, now)?
                .ok_or_else(|| AppError::not_found("No such invitation."))?;
            may_invite(&access.grant, &invitation.grant()).map_err(|e| grant_refused(e.0))?;
            invitations::revoke(c, &id, now)?;
            activity::record(
                c,
                &meta,
                Event::invitation_revoked(&org.caller.user_id, &org.org_id, &id),
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
    meta: Origin,
    caller: Caller,
    token: String,
) -> Result<(organizations::Organization, memberships::Membership), AppError> {
    caller.require_scope(Scope::OrgsWrite)?;
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let now = db::now();
            let token_hash = secrets::hash(&token);
            let found = invitations::find_by_token(c, &token_hash, now)?
                .ok_or_else(AppError::invalid_token)?;
            // The concurrency rule: the organisation's lock, then what is read of it (the
            // invitation may have been voided meanwhile).
            organizations::lock(c, &found.organization_id)?;
            let invitation = invitations::find_by_token(c, &token_hash, now)?
                .ok_or_else(AppError::invalid_token)?;
            // Void when its maker could no longer make it (removed, left, lost the right).
            let maker = memberships::find(c, &invitation.organization_id, &invitation.invited_by)?;
            let grant = invitation.grant();
            if maker.is_none_or(|m| may_invite(&m.grant(), &grant).is_err()) {
                return Err(AppError::invalid_token());
            }
            if invitation.email != caller.account.email {
                return Err(AppError::new(
                    Status::Forbidden,
                    "invitation_for_another_account",
                    "This invitation is for another address: sign in with the account whose login is the invited address.",
                ));
            }
            // Only a verified login joins: an address someone merely signed up with is not
            // proof of owning it (issue 9, finding 1).
            if caller.account.email_verified_at.is_none() {
                return Err(AppError::new(
                    Status::Forbidden,
                    "email_not_verified",
                    "Confirm your email address first: follow the link we sent, or ask for a new one.",
                ));
            }
            if memberships::find(c, &invitation.organization_id, &caller.user_id)?.is_some() {
                return Err(already_member());
            }
            if !invitations::accept(c, &invitation.id, &caller.user_id, now)? {
                return Err(AppError::invalid_token());
            }
            let membership = memberships::Membership {
                organization_id: invitation.organization_id.clone(),
                user_id: caller.user_id.clone(),
                role: invitation.role,
                permissions: invitation.permissions.clone(),
                created_at: now,
                updated_at: now,
            };
            memberships::insert(c, &membership)?;
            organizations::refresh_two_factor_required(c, std::slice::from_ref(&caller.user_id))?;
            activity::record(
                c,
                &meta,
                Event::member_joined(&caller.user_id, &invitation),
            )?;
            let org = organizations::find(c, &invitation.organization_id)?
                .ok_or_else(AppError::invalid_token)?;
            Ok((org, membership))
        })
    })
    .await
}
