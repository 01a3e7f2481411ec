//! Members of an organisation (R15, R18): the list (with who lacks 2FA), changing a member's
//! role and permissions, removing a member, leaving, and unlocking a member's account (R12).
//! An organisation always keeps a legal representative: the last one can neither leave nor be
//! removed or demoted (counted under the organisation's lock, which `authorize` takes first). A
//! member's removal, leaving or lesser grant voids the invitations they could no longer make.

use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::ids::UserId;
use crate::domain::orgs::{Grant, Permission, Role, may_grant};
use crate::domain::page::PageParams;
use crate::error::{AppError, Status};
use crate::mail;
use crate::models::memberships::{self, MemberFilter, MemberRow};
use crate::models::{one_time_tokens, organizations, users};
use crate::services::activity::{self, Event};
use crate::services::invitations;
use crate::services::orgs::{self, OrgRequest};

fn no_member() -> AppError {
    AppError::not_found("No such member.")
}

pub fn last_legal_representative() -> AppError {
    AppError::conflict(
        "last_legal_representative",
        "This is the organisation's last legal representative: appoint another one first.",
    )
}

pub fn grant_refused(reason: String) -> AppError {
    AppError::new(Status::Forbidden, "grant_not_allowed", reason)
}

/// Refuses a change that would leave the organisation without a legal representative.
fn keep_a_legal_representative(
    conn: &mut DbConnection,
    org_id: &str,
    current: &Grant,
    next: Option<&Grant>,
) -> Result<(), AppError> {
    let loses_one = current.role == Role::LegalRepresentative
        && next.is_none_or(|g| g.role != Role::LegalRepresentative);
    if loses_one && memberships::count(conn, org_id)?.1 <= 1 {
        return Err(last_legal_representative());
    }
    Ok(())
}

/// Checks that the caller may turn member `target`'s grant into `next(current)` (`None`:
/// removal): a holder of `users`, within what they may grant, never leaving the organisation
/// without a legal representative. Returns (current, next).
fn checked_change(
    conn: &mut DbConnection,
    org: &OrgRequest,
    target: &UserId,
    next: impl FnOnce(&Grant) -> Option<Grant>,
) -> Result<(Grant, Option<Grant>), AppError> {
    let access = org.authorize(conn)?;
    let row = memberships::find(conn, &org.org_id, target)?.ok_or_else(no_member)?;
    let current = row.grant();
    let next = next(&current);
    may_grant(&access.grant, Some(&current), next.as_ref()).map_err(|e| grant_refused(e.0))?;
    keep_a_legal_representative(conn, &org.org_id, &current, next.as_ref())?;
    Ok((current, next))
}

/// A page of the organisation's members, oldest first (holders of `users`).
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
    page: PageParams,
    filter: MemberFilter,
) -> Result<(Vec<MemberRow>, Option<String>), AppError> {
    orgs::page_in(
        pool,
        org,
        page,
        move |c, org, after, limit| memberships::page(c, org, &filter, after, limit),
        |r| (r.membership.created_at, &r.membership.user_id),
    )
    .await
}

/// What a member is to become; `None` keeps the current value.
pub struct MemberEdit {
    pub role: Option<Role>,
    pub permissions: Option<Vec<Permission>>,
}

/// Changes a member's role or permissions, within what the caller may grant.
pub async fn update(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    target: UserId,
    edit: MemberEdit,
) -> Result<MemberRow, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let org_id = &org.org_id;
            let (current, next) = checked_change(c, &org, &target, |current| {
                Some(Grant::new(
                    edit.role.unwrap_or(current.role),
                    edit.permissions.as_deref().unwrap_or(&current.permissions),
                ))
            })?;
            let next = next.ok_or_else(|| AppError::internal("no new grant"))?;
            memberships::set_grant(c, org_id, &target, &next, db::now())?;
            let voided = invitations::void_made_by(c, org_id, &target, Some(&next))?;
            activity::record(
                c,
                &meta,
                Event::member_updated(
                    &org.caller.user_id,
                    org_id,
                    &target,
                    &next,
                    &current,
                    voided,
                ),
            )?;
            memberships::find_member(c, org_id, &target)?.ok_or_else(no_member)
        })
    })
    .await
}

/// Removes a member (not the last legal representative), within what the caller may grant.
pub async fn remove(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    target: UserId,
) -> Result<(), AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let org_id = &org.org_id;
            let (current, _) = checked_change(c, &org, &target, |_| None)?;
            memberships::delete(c, org_id, &target)?;
            let voided = invitations::void_made_by(c, org_id, &target, None)?;
            organizations::refresh_two_factor_required(c, &[target.to_string()])?;
            activity::record(
                c,
                &meta,
                Event::member_removed(&org.caller.user_id, org_id, &target, &current, voided),
            )?;
            Ok(())
        })
    })
    .await
}

/// The caller leaves the organisation (R21: also the way out of its 2FA requirement).
pub async fn leave(pool: &Pool, meta: Origin, org: &OrgRequest) -> Result<(), AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let (org_id, me) = (&org.org_id, &org.caller.user_id);
            keep_a_legal_representative(c, org_id, &access.grant, None)?;
            memberships::delete(c, org_id, me)?;
            let voided = invitations::void_made_by(c, org_id, me, None)?;
            organizations::refresh_two_factor_required(c, std::slice::from_ref(me))?;
            activity::record(
                c,
                &meta,
                Event::member_left(me, org_id, &access.grant, voided),
            )?;
            Ok(())
        })
    })
    .await
}

/// An admin or legal representative unlocks a member's locked account (R12); the member is told
/// by mail, and the record names them as its subject so it shows in their own log too.
pub async fn unlock(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    target: UserId,
) -> Result<(), AppError> {
    let org = org.clone();
    let config: std::sync::Arc<Config> = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let (org_id, caller) = (&org.org_id, &org.caller);
            memberships::find(c, org_id, &target)?.ok_or_else(no_member)?;
            let user = users::find(c, &target)?.ok_or_else(no_member)?;
            if user.locked_at.is_none() {
                return Err(AppError::conflict(
                    "account_not_locked",
                    "This member's account is not locked.",
                ));
            }
            users::unlock(c, &user.id)?;
            // An unlock link mailed earlier has nothing left to do.
            one_time_tokens::revoke(c, &user.id, one_time_tokens::UNLOCK)?;
            mail::send(
                c,
                &config,
                "account_unlocked_by_admin",
                &user.language,
                &user.email,
                serde_json::json!({
                    "first_name": user.first_name,
                    "organization_name": access.org.name,
                    "admin_name": caller.full_name(),
                    "time": crate::services::sessions::user_time(&user),
                }),
            )?;
            activity::record(
                c,
                &meta,
                Event::member_account_unlocked(&caller.user_id, org_id, &user.id),
            )?;
            Ok(())
        })
    })
    .await
}

/// Turns the organisation's 2FA requirement on or off (R17). Turning it on needs the caller's own
/// 2FA (else they would lock themselves out) and mails every member without it; turning it off
/// needs a session that authenticated within the last minutes (issue 9, finding 6).
pub async fn set_two_factor_requirement(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    require: bool,
) -> Result<bool, AppError> {
    let org = org.clone();
    let config: std::sync::Arc<Config> = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let (org_id, caller) = (&org.org_id, &org.caller);
            // Loosening the policy is what an intruder holding an admin's token or idle session
            // would want: it needs a person who has just authenticated (tokens cannot).
            // Tightening does not.
            if access.org.require_two_factor && !require {
                caller.require_recent_auth()?;
            }
            if require && !caller.two_factor_enabled() {
                return Err(AppError::conflict(
                    "two_factor_not_enabled",
                    "Turn on two-factor authentication for your own account before requiring it of the members.",
                ));
            }
            let turned_on = require && !access.org.require_two_factor;
            organizations::update(
                c,
                org_id,
                &organizations::OrganizationChange {
                    require_two_factor: Some(require),
                    updated_at: Some(db::now()),
                    ..Default::default()
                },
            )?;
            organizations::refresh_two_factor_required_of_members(c, org_id)?;
            let mut notified = 0;
            if turned_on {
                for (_, email, first_name, language) in memberships::without_two_factor(c, org_id)? {
                    mail::send(
                        c,
                        &config,
                        "two_factor_required",
                        &language,
                        &email,
                        serde_json::json!({
                            "first_name": first_name,
                            "organization_name": access.org.name,
                            "admin_name": caller.full_name(),
                        }),
                    )?;
                    notified += 1;
                }
            }
            activity::record(
                c,
                &meta,
                Event::organization_security_policy_updated(
                    &caller.user_id,
                    org_id,
                    require,
                    access.org.require_two_factor,
                    notified,
                ),
            )?;
            Ok(require)
        })
    })
    .await
}
