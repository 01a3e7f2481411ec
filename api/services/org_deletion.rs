//! Deleting an organisation (R14, R22): allowed to its admins and legal representatives, after a
//! recent authentication, once every prerequisite is met. The prerequisites form a registry,
//! [`CHECKS`], that each module appends to (here: no other members, no pending invitations; the
//! billing module adds products, unpaid invoices, the prepaid balance and payments still being
//! confirmed). A deleted organisation
//! leaves its members' lists; its records stay archived, read-only, for the retention period.
//!
//! It also registers the organisations' prerequisites of deleting an account (R9).

use diesel::QueryResult;

use crate::auth::Caller;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::orgs::Need;
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::models::{invitations, memberships, organizations};
use crate::services::activity::{self, Event};
use crate::services::deletion::{Outcome, Unmet};
use crate::services::orgs::{self, authorize};

/// A prerequisite of deleting the organisation `org_id` asked by `user_id`: `Some` when unmet.
pub type Check = fn(&mut DbConnection, &str, &str) -> QueryResult<Option<Unmet>>;

/// Every prerequisite of deleting an organisation, in the order they are listed.
pub const CHECKS: &[Check] = &[
    other_members,
    pending_invitations,
    products_not_cancelled,
    open_invoices,
    prepaid_money,
    payments_pending,
];

fn products_not_cancelled(
    conn: &mut DbConnection,
    org_id: &str,
    _: &str,
) -> QueryResult<Option<Unmet>> {
    let n = crate::models::products::count_not_cancelled(conn, org_id)?;
    Ok((n > 0).then(|| Unmet {
        code: "products",
        detail: format!("{n} product(s) are not cancelled: cancel them first."),
        count: n,
    }))
}

fn open_invoices(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let n = crate::models::invoices::count_open(conn, org_id)?;
    Ok((n > 0).then(|| Unmet {
        code: "open_invoices",
        detail: format!("{n} invoice(s) are unpaid: pay them first."),
        count: n,
    }))
}

fn prepaid_money(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let minor = crate::models::prepaid::balance(conn, org_id)?;
    Ok((minor != 0).then(|| Unmet {
        code: "prepaid_balance",
        detail: "The prepaid account holds money: withdraw it first.".to_string(),
        count: minor,
    }))
}

/// A payment still being confirmed would land in a deleted organisation.
fn payments_pending(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let n = crate::models::payments::count_pending(conn, org_id)?;
    Ok((n > 0).then(|| Unmet {
        code: "payments_pending",
        detail: format!(
            "{n} payment(s) or top-up(s) are still being confirmed by the payment provider: wait for them."
        ),
        count: n,
    }))
}

fn other_members(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let (members, _) = memberships::count(conn, org_id)?;
    let others = members - 1;
    Ok((others > 0).then(|| Unmet {
        code: "other_members",
        detail: format!(
            "{others} other member(s) still belong to the organisation: remove them first."
        ),
        count: others,
    }))
}

fn pending_invitations(
    conn: &mut DbConnection,
    org_id: &str,
    _: &str,
) -> QueryResult<Option<Unmet>> {
    let n = invitations::count_pending(conn, org_id, db::now())?;
    Ok((n > 0).then(|| Unmet {
        code: "pending_invitations",
        detail: format!("{n} invitation(s) are pending: withdraw them first."),
        count: n,
    }))
}

fn unmet(conn: &mut DbConnection, org_id: &str, user_id: &str) -> QueryResult<Vec<Unmet>> {
    let mut found = Vec::new();
    for check in CHECKS {
        if let Some(u) = check(conn, org_id, user_id)? {
            found.push(u);
        }
    }
    Ok(found)
}

/// What still blocks the deletion (empty: it can go ahead).
pub async fn check(
    pool: &Pool,
    caller: Caller,
    raw_org_id: String,
) -> Result<Vec<Unmet>, AppError> {
    caller.require_scope(Scope::OrgsRead)?;
    let org_id = orgs::org_id(&raw_org_id)?;
    db::run(pool, move |conn| {
        authorize(conn, &caller, &org_id, Need::Admin)?;
        Ok(unmet(conn, &org_id, &caller.user_id)?)
    })
    .await
}

/// Deletes the organisation, unless a prerequisite is unmet.
pub async fn delete(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    raw_org_id: String,
    retention_years: u32,
) -> Result<Outcome, AppError> {
    let org_id = orgs::org_id(&raw_org_id)?;
    db::run(pool, move |conn| {
        db::write_retrying(conn, |c| {
            authorize(c, &caller, &org_id, Need::Admin)?;
            caller.require_recent_auth()?;
            let blocking = unmet(c, &org_id, &caller.user_id)?;
            if !blocking.is_empty() {
                return Ok(Outcome::Blocked(blocking));
            }
            let now = db::now();
            let retain_until = now
                .checked_add_months(chrono::Months::new(12 * retention_years))
                .unwrap_or(now);
            organizations::mark_deleted(c, &org_id, now, retain_until)?;
            organizations::refresh_two_factor_required_of_members(c, &org_id)?;
            activity::record(
                c,
                &meta,
                Event::new("organization.deleted", &caller.user_id)
                    .organization(&org_id)
                    .details(serde_json::json!({
                        "retain_until": retain_until.and_utc(),
                    })),
            )?;
            Ok(Outcome::Deleted)
        })
    })
    .await
}

/// Purges the deleted organisations whose retention period ended by `now` (up to 50 a run, in
/// the caller's transaction); returns how many. Their members' 2FA flags were recomputed at
/// deletion: the memberships of a deleted organisation count for nothing.
pub fn purge_due(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> QueryResult<usize> {
    let due = crate::models::organization_purge::due(conn, now, 50)?;
    for org_id in &due {
        crate::models::organization_purge::purge(conn, org_id)?;
        tracing::info!(organization = %org_id, "purged a deleted organisation after its retention period");
    }
    Ok(due.len())
}

/// Account deletion (R9): the account is the only member of an organisation.
pub fn only_member(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<Unmet>> {
    let alone = memberships::standing_of(conn, user_id)?
        .into_iter()
        .filter(|s| s.roles.len() == 1)
        .count() as i64;
    Ok((alone > 0).then(|| Unmet {
        code: "only_member_of_organization",
        detail: format!(
            "You are the only member of {alone} organisation(s): delete it or appoint someone else first."
        ),
        count: alone,
    }))
}

/// Account deletion (R9): the account is the last legal representative of an organisation that
/// has other members.
pub fn last_legal_representative(
    conn: &mut DbConnection,
    user_id: &str,
) -> QueryResult<Option<Unmet>> {
    let n = memberships::standing_of(conn, user_id)?
        .into_iter()
        .filter(|s| {
            s.role == "legal_representative" && s.roles.len() > 1 && s.legal_representatives() == 1
        })
        .count() as i64;
    Ok((n > 0).then(|| Unmet {
        code: "last_legal_representative",
        detail: format!(
            "You are the last legal representative of {n} organisation(s): appoint another one first."
        ),
        count: n,
    }))
}
