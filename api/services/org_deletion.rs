//! Deleting an organisation (R14, R22): allowed to its admins and legal representatives, after a
//! recent authentication, once every prerequisite is met. The prerequisites are a fixed list of
//! checks, [`CHECKS`], kept here in one place, each a function: no other members, no pending
//! invitations, no products left, no unpaid invoices, no prepaid money, no payment still being
//! confirmed. Each names the objects that block it. A deleted organisation leaves its members'
//! lists; its records stay archived, read-only, for the retention period.

use diesel::QueryResult;

use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::models::{
    invitations, invoices, memberships, organizations, payments, prepaid, products,
};
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;
use crate::services::prerequisites::{Blocker, MAX_OBJECTS, ObjectKind, Outcome, Unmet};

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
    let n = products::count_not_cancelled(conn, org_id)?;
    if n == 0 {
        return Ok(None);
    }
    let objects = products::not_cancelled(conn, org_id, MAX_OBJECTS)?
        .into_iter()
        .map(|(id, name)| Blocker::new(ObjectKind::Product, id, name))
        .collect();
    Ok(Some(Unmet {
        code: "products",
        detail: format!(
            "{n} product(s) are not cancelled: cancel each one first (`request_cancellation`: \
             POST /v1/orgs/{org_id}/products/{{product_id}}/cancellation with `\"when\": \"now\"`, \
             then confirm through the mailed link). One cancelled at the end of its term \
             (`cancellation_pending`) blocks until then: withdraw that cancellation and cancel it now."
        ),
        count: n,
        objects,
    }))
}

fn open_invoices(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let n = invoices::count_open(conn, org_id)?;
    if n == 0 {
        return Ok(None);
    }
    let filter = invoices::InvoiceFilter {
        statuses: vec![crate::domain::billing_states::InvoiceStatus::Open],
        ..Default::default()
    };
    let objects = invoices::page(conn, org_id, &filter, None, MAX_OBJECTS)?
        .into_iter()
        .map(|i| Blocker::new(ObjectKind::Invoice, i.id, i.number))
        .collect();
    Ok(Some(Unmet {
        code: "open_invoices",
        detail: format!("{n} invoice(s) are unpaid: pay them first."),
        count: n,
        objects,
    }))
}

fn prepaid_money(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let Some((minor, currency)) = prepaid::held(conn, org_id)? else {
        return Ok(None);
    };
    if minor == 0 {
        return Ok(None);
    }
    let held = Money::from_minor(minor, Currency::from_code(&currency)).display();
    Ok(Some(Unmet {
        code: "prepaid_balance",
        detail: "The prepaid account holds money: withdraw it first.".to_string(),
        count: minor,
        objects: vec![Blocker::new(
            ObjectKind::PrepaidAccount,
            org_id,
            format!("Prepaid account ({held})"),
        )],
    }))
}

/// A payment still being confirmed would land in a deleted organisation.
fn payments_pending(conn: &mut DbConnection, org_id: &str, _: &str) -> QueryResult<Option<Unmet>> {
    let n = payments::count_pending(conn, org_id)?;
    if n == 0 {
        return Ok(None);
    }
    let objects = payments::pending_of(conn, org_id, MAX_OBJECTS)?
        .into_iter()
        .map(|p| {
            let amount =
                Money::from_minor(p.amount_minor, Currency::from_code(&p.currency)).display();
            let what = if p.purpose == crate::domain::billing_states::PaymentPurpose::TopUp {
                "Top-up"
            } else {
                "Payment"
            };
            Blocker::new(ObjectKind::Payment, p.id, format!("{what} of {amount}"))
        })
        .collect();
    Ok(Some(Unmet {
        code: "payments_pending",
        detail: format!(
            "{n} payment(s) or top-up(s) are still being confirmed by the payment provider: wait for them."
        ),
        count: n,
        objects,
    }))
}

fn other_members(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
) -> QueryResult<Option<Unmet>> {
    let (members, _) = memberships::count(conn, org_id)?;
    let others = members - 1;
    if others <= 0 {
        return Ok(None);
    }
    // One more than shown: the caller is among them.
    let filter = memberships::MemberFilter::default();
    let objects = memberships::page(conn, org_id, &filter, None, MAX_OBJECTS + 1)?
        .into_iter()
        .filter(|m| m.membership.user_id != user_id)
        .take(MAX_OBJECTS as usize)
        .map(|m| {
            let name = format!("{} {}", m.first_name, m.last_name);
            Blocker::new(ObjectKind::Member, m.membership.user_id, name)
        })
        .collect();
    Ok(Some(Unmet {
        code: "other_members",
        detail: format!(
            "{others} other member(s) still belong to the organisation: remove them first."
        ),
        count: others,
        objects,
    }))
}

fn pending_invitations(
    conn: &mut DbConnection,
    org_id: &str,
    _: &str,
) -> QueryResult<Option<Unmet>> {
    let now = db::now();
    let n = invitations::count_pending(conn, org_id, now)?;
    if n == 0 {
        return Ok(None);
    }
    let objects = invitations::pending_page(conn, org_id, now, None, MAX_OBJECTS)?
        .into_iter()
        .map(|i| Blocker::new(ObjectKind::Invitation, i.id, i.email))
        .collect();
    Ok(Some(Unmet {
        code: "pending_invitations",
        detail: format!("{n} invitation(s) are pending: withdraw them first."),
        count: n,
        objects,
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
pub async fn check(pool: &Pool, org: &OrgRequest) -> Result<Vec<Unmet>, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        org.authorize(conn)?;
        let mut found = unmet(conn, &org.org_id, &org.caller.user_id)?;
        for u in &mut found {
            u.objects.retain(|o| {
                o.kind
                    .read_scope()
                    .is_none_or(|s| org.caller.require_scope(s).is_ok())
            });
        }
        Ok(found)
    })
    .await
}

/// Something to do before the organisation goes (R22): an operation the caller can call, with
/// its body.
#[derive(Debug, Clone)]
pub struct Offer {
    pub code: &'static str,
    pub detail: String,
    /// The `operationId` to call.
    pub operation: &'static str,
    pub path: String,
    pub body: serde_json::Value,
}

/// What the deletion steps offer (R22): "mail me my paid invoices" (a `pdf_zip` export of the
/// paid and refunded invoices, `create_invoice_export`) when the organisation has any.
pub async fn offers(pool: &Pool, org: &OrgRequest) -> Result<Vec<Offer>, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        org.authorize(conn)?;
        let filter = invoices::InvoiceFilter {
            statuses: crate::services::invoice_exports::WITH_PDF.to_vec(),
            ..Default::default()
        };
        let n = invoices::count_matching(conn, &org.org_id, &filter)?;
        if n == 0 {
            return Ok(vec![]);
        }
        Ok(vec![Offer {
            code: "mail_paid_invoices",
            detail: format!(
                "Keep a copy of the {n} paid or refunded invoice(s): they are mailed to you as a ZIP of PDFs (a download link valid 7 days)."
            ),
            operation: "create_invoice_export",
            path: format!("/v1/orgs/{}/invoices/exports", org.org_id.as_str()),
            body: serde_json::json!({"format": "pdf_zip", "status": ["paid", "partially_refunded", "refunded"]}),
        }])
    })
    .await
}

/// Deletes the organisation, unless a prerequisite is unmet.
pub async fn delete(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    retention_years: u32,
) -> Result<Outcome, AppError> {
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write_retrying(conn, |c| {
            org.authorize(c)?;
            let (org_id, caller) = (&org.org_id, &org.caller);
            caller.require_recent_auth()?;
            let blocking = unmet(c, org_id, &caller.user_id)?;
            if !blocking.is_empty() {
                return Ok(Outcome::Blocked(blocking));
            }
            let now = db::now();
            let retain_until = now
                .checked_add_months(chrono::Months::new(12 * retention_years))
                .unwrap_or(now);
            organizations::mark_deleted(c, org_id, now, retain_until)?;
            organizations::refresh_two_factor_required_of_members(c, org_id)?;
            activity::record(
                c,
                &meta,
                Event::organization_deleted(&caller.user_id, org_id, retain_until),
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
