//! The renewal scheduler (R40; issue 11 part 5), one pass at `now` (tests shift the clock):
//! 1. reconciles the charges a previous pass left `pending` (the process died between the charge
//!    and its commit): the charge is asked again with the same idempotency key (the payment id),
//!    so the provider answers the first outcome and never charges twice, and the answer is
//!    recorded; then the customers' charges a dead request left unanswered
//!    (`payments::reconcile_unanswered`: looked up by key, never charged again);
//! 2. for each active product with auto-renewal on, expiring within 14 days (read by status and
//!    expiry through `products_status_expiry_idx`, in batches): the first time, one renewal order
//!    (the renewal core, with the organisation locked: the unique live renewal per product and
//!    term makes a second scheduler's order fail, and it skips); then the saved card is charged
//!    outside any transaction, through the payments' charge path; retries at 10, 7, 3 and 1 day
//!    before expiry after a soft decline; a hard decline (or an expired or removed card) stops
//!    them and turns auto-renewal off; the accounting holders are told each failure and success;
//! 3. reminds the accounting holders of products without auto-renewal 30 and 7 days before
//!    expiry (domains also once within 5 days after), once each.
//!
//! Days are exact 24-hour spans from the expiry instant (organisations have no time zone).

use chrono::{Duration, NaiveDateTime};

use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::billing::period_name;
use crate::domain::billing_states::{
    InvoiceStatus, MethodType, OrderStatus, PaymentMethodKind, PaymentPurpose, PaymentStatus,
    ProductKind, ProductStatus,
};
use crate::domain::money::Money;
use crate::domain::orgs::{Currency, Role};
use crate::error::AppError;
use crate::gateway::{Charge, ChargeOutcome, GatewayError};
use crate::models::payment_methods::{self, PaymentMethod};
use crate::models::payments::{self, Payment};
use crate::models::products::Product;
use crate::models::renewal_schedule::{self as schedule, Cursor};
use crate::models::renewals::Renewal;
use crate::models::{invoices, orders, organizations};
use crate::services::activity::{self, Event};
use crate::services::auto_renewal::{self, card_expired, product_context, tell_accounting_holders};
use crate::services::payments::{ChargeFailure, Outcome, record_charge};
use crate::services::renewals::{ItemInput, RenewalOrder, check_items, create_order};

/// Days before expiry of the first charge (R40) and of each retry.
pub const STAGES: [i64; 5] = [14, 10, 7, 3, 1];

/// Products read per batch.
pub const BATCH: i64 = 500;

/// A scheduler's charge still `pending` this long after it was made is taken for a dead pass's
/// and reconciled (a live pass records its answer within seconds).
pub const RECONCILE_AFTER: Duration = Duration::minutes(2);

/// Test-only fault injection (documented in the report, never set in production):
/// `LEMAN_FAULT_AFTER_CHARGE=abort` aborts the process right after the provider's answer, before
/// it is recorded, to prove a restart reconciles instead of charging again.
pub const FAULT_AFTER_CHARGE: &str = "LEMAN_FAULT_AFTER_CHARGE";

/// Codes that stop the retries (hard declines).
pub const HARD_DECLINES: [&str; 2] = ["card_declined", "expired_card"];

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub reconciled: usize,
    pub ordered: usize,
    pub charged: usize,
    pub renewed: usize,
    pub failed: usize,
    pub stopped: usize,
    pub reminded: usize,
}

fn origin() -> Origin {
    Origin::system("renew_due_products")
}

/// The next attempt after `now` for a product expiring at `expires`: the first stage instant
/// still ahead; none when no stage is left.
pub fn next_attempt(expires: NaiveDateTime, now: NaiveDateTime) -> Option<NaiveDateTime> {
    STAGES
        .iter()
        .map(|d| expires - Duration::days(*d))
        .find(|t| *t > now)
}

/// One pass at `now`.
pub async fn run(ctx: &Services, now: NaiveDateTime) -> Result<Report, AppError> {
    let mut report = Report::default();
    reconcile(ctx, now, &mut report).await?;
    // The customers' own charges a dead request left unanswered (top-ups, invoices paid by
    // card): asked about, never charged again.
    report.reconciled +=
        crate::services::payments::reconcile_unanswered(ctx, now - RECONCILE_AFTER).await?;
    let until = now + Duration::days(STAGES[0]);
    let mut cursor: Option<Cursor> = None;
    loop {
        let after = cursor.clone();
        let batch = db::run(&ctx.pool, move |c| {
            Ok(schedule::expiring(
                c,
                &[ProductStatus::Active],
                true,
                None,
                None,
                until,
                after.as_ref(),
                BATCH,
            )?)
        })
        .await?;
        let full = batch.len() as i64 == BATCH;
        cursor = batch
            .last()
            .and_then(|p| p.expires_at.map(|e| (e, p.id.clone())));
        for p in batch {
            if let Err(e) = renew_one(ctx, &p.id, now, &mut report).await {
                tracing::warn!(product_id = %p.id, "automatic renewal: {e}");
            }
        }
        if !full {
            break;
        }
    }
    remind(ctx, now, &mut report).await?;
    Ok(report)
}

enum Prepared {
    Skip,
    Charge(Box<(Payment, PaymentMethod, Renewal)>),
}

/// Makes (or finds) the product's renewal order and claims a charge of it; charges; records.
async fn renew_one(
    ctx: &Services,
    product_id: &str,
    now: NaiveDateTime,
    report: &mut Report,
) -> Result<(), AppError> {
    let (config, catalog, id) = (
        ctx.config.clone(),
        ctx.catalog.clone(),
        product_id.to_string(),
    );
    let (prepared, ordered) = db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| prepare(c, &config, &catalog, &id, now))
    })
    .await?;
    report.ordered += ordered as usize;
    let Prepared::Charge(boxed) = prepared else {
        return Ok(());
    };
    let (payment, method, renewal) = *boxed;
    report.charged += 1;
    let result = charge(ctx, payment.clone(), method).await?;
    after_charge(ctx, &renewal, &payment, result, now, report).await
}

/// In one transaction with the organisation locked: the product still due, its renewal order
/// (made now the first time), its card still good, no charge of it under way → a pending payment
/// claims the invoice (the partial unique index allows one) and the attempt is counted.
fn prepare(
    c: &mut DbConnection,
    config: &crate::config::Config,
    catalog: &crate::catalog::Catalog,
    product_id: &str,
    now: NaiveDateTime,
) -> Result<(Prepared, bool), AppError> {
    let Some(p) = schedule::find_product(c, product_id)? else {
        return Ok((Prepared::Skip, false));
    };
    organizations::lock(c, &p.organization_id)?;
    let Some(org) = organizations::find(c, &p.organization_id)? else {
        return Ok((Prepared::Skip, false));
    };
    // Read again under the lock: auto-renewal may have been turned off meanwhile.
    let Some(p) = schedule::find_product(c, product_id)? else {
        return Ok((Prepared::Skip, false));
    };
    let Some(expires) = p.expires_at else {
        return Ok((Prepared::Skip, false));
    };
    if !p.auto_renew || p.status != ProductStatus::Active || now < expires - Duration::days(14) {
        return Ok((Prepared::Skip, false));
    }
    // The card first: removed or expired, auto-renewal stops before any order is made.
    let method = match &p.auto_renew_payment_method_id {
        Some(m) => payment_methods::find(c, &org.id, m)?,
        None => None,
    };
    let method = match method {
        Some(m) if m.kind == MethodType::Card && !card_expired(&m, now) => m,
        other => {
            let reason = if other.is_some() {
                "card_expired"
            } else {
                "card_removed"
            };
            let method_id = p.auto_renew_payment_method_id.clone().unwrap_or_default();
            if method_id.is_empty() {
                schedule::set_auto_renew(c, std::slice::from_ref(&p.id), None, now)?;
                activity::record(
                    c,
                    &origin(),
                    Event::auto_renewal_disabled(None, &org.id, &p.id, reason),
                )?;
                tell_accounting_holders(
                    c,
                    config,
                    &org.id,
                    None,
                    product_context(&p, "card_removed"),
                )?;
            } else {
                auto_renewal::card_gone(c, config, &origin(), None, &method_id, reason, now)?;
            }
            return Ok((Prepared::Skip, false));
        }
    };
    let mut ordered = false;
    let renewal = match schedule::live_renewal(c, &p.id, expires)? {
        Some(r) => {
            let due = r.next_attempt_at.is_some_and(|t| t <= now);
            if !(r.automatic && r.order_id.is_some() && due)
                || r.status != crate::domain::billing_states::ChangeStatus::Pending
            {
                return Ok((Prepared::Skip, false));
            }
            r
        }
        None => {
            let months = p.next_period_months.unwrap_or(p.period_months);
            let items = [ItemInput {
                product_id: p.id.clone(),
                billing_period: period_name(months).to_string(),
            }];
            let terms = match check_items(c, catalog, &org, &items, now) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(product_id = %p.id, "cannot renew automatically: {} {:?}", e.detail, e.errors);
                    return Ok((Prepared::Skip, false));
                }
            };
            // The order is the organisation's: made in the name of an admin or legal
            // representative (the earliest), else of whoever holds accounting.
            let holders = schedule::accounting_holders(c, &org.id)?;
            let Some((_, by)) = holders
                .iter()
                .find(|(m, _)| m.role != Role::Member)
                .or(holders.first())
            else {
                return Ok((Prepared::Skip, false));
            };
            let request = RenewalOrder {
                org: &org,
                created_by: &by.id,
                terms: &terms,
                automatic: true,
            };
            // Another scheduler made it first: the unique live renewal refuses this one, and the
            // caller's transaction rolls back.
            let (order, _, rows) = create_order(c, config, catalog, request, now)?;
            activity::record(
                c,
                &origin(),
                Event::auto_renewal_ordered(&org.id, &p.id, &order.id, expires),
            )?;
            ordered = true;
            rows.into_iter()
                .next()
                .ok_or_else(|| AppError::internal("a renewal order without its renewal"))?
        }
    };
    let order_id = renewal.order_id.clone().unwrap_or_default();
    let Some(order) = orders::find(c, &org.id, &order_id)? else {
        return Ok((Prepared::Skip, ordered));
    };
    if order.status != OrderStatus::Open {
        return Ok((Prepared::Skip, ordered));
    }
    let Some(invoice) = invoices::find(c, &org.id, &order.invoice_id)? else {
        return Ok((Prepared::Skip, ordered));
    };
    if invoice.status != InvoiceStatus::Open || payments::live_for_invoice(c, &invoice.id)? {
        return Ok((Prepared::Skip, ordered));
    }
    let payment = Payment {
        id: db::new_id("pay"),
        organization_id: org.id.clone(),
        invoice_id: Some(invoice.id.clone()),
        purpose: PaymentPurpose::Invoice,
        method: PaymentMethodKind::PaymentMethod,
        payment_method_id: Some(method.id.clone()),
        amount_minor: invoice.total_minor,
        currency: invoice.currency.clone(),
        status: PaymentStatus::Pending,
        gateway_reference: None,
        failure_code: None,
        refunded_minor: 0,
        created_by: order.created_by.clone(),
        // The scheduler's clock: reconciliation compares it with a later pass's.
        created_at: db::truncate(now),
        settled_at: None,
        pro_forma_id: None,
    };
    let inserted = db::write(c, |s| payments::insert(s, &payment));
    match inserted {
        Ok(_) => {}
        Err(e) if db::is_unique_violation(&e) => return Ok((Prepared::Skip, ordered)),
        Err(e) => return Err(e.into()),
    }
    schedule::record_attempt(
        c,
        &renewal.id,
        renewal.attempts + 1,
        next_attempt(expires, now),
    )?;
    let renewal = Renewal {
        attempts: renewal.attempts + 1,
        next_attempt_at: next_attempt(expires, now),
        ..renewal
    };
    Ok((
        Prepared::Charge(Box::new((payment, method, renewal))),
        ordered,
    ))
}

/// Charges `payment` to `method` (its id the idempotency key) outside any transaction, then
/// records the answer through the payments' path (settling pays the invoice and applies the
/// renewal exactly once, and mails the payer a receipt).
async fn charge(
    ctx: &Services,
    payment: Payment,
    method: PaymentMethod,
) -> Result<Result<Outcome, ChargeFailure>, AppError> {
    let gateway = ctx.gateway.clone();
    let amount = Money::from_minor(payment.amount_minor, Currency::from_code(&payment.currency));
    let p = payment.clone();
    let outcome: Result<ChargeOutcome, GatewayError> = tokio::task::spawn_blocking(move || {
        gateway.charge(&Charge {
            method_type: method.kind,
            token: method.gateway_token.as_deref(),
            amount: amount.amount,
            currency: &p.currency,
            payment_id: &p.id,
        })
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?;
    if std::env::var(FAULT_AFTER_CHARGE).is_ok_and(|v| v == "abort") {
        eprintln!(
            "{FAULT_AFTER_CHARGE}=abort: aborting after the charge of {}",
            payment.id
        );
        std::process::abort();
    }
    record_charge(&ctx.pool, ctx.config.clone(), origin(), payment, outcome).await
}

/// After a charge's answer is on record: tells the accounting holders; a hard decline stops the
/// retries and turns auto-renewal off.
async fn after_charge(
    ctx: &Services,
    renewal: &Renewal,
    payment: &Payment,
    result: Result<Outcome, ChargeFailure>,
    now: NaiveDateTime,
    report: &mut Report,
) -> Result<(), AppError> {
    let failure = match &result {
        Ok(Outcome::Pending(_)) => return Ok(()),
        Ok(Outcome::Succeeded(_)) => None,
        Err(ChargeFailure::Declined(code)) => Some(code.clone()),
        // No answer: still pending, asked again by the next pass (`reconcile`), no mail yet.
        Err(ChargeFailure::Unavailable(_)) => return Ok(()),
        Err(ChargeFailure::Refused(_)) => Some("provider_unavailable".to_string()),
        // Given up (expired) before this answer: the renewal is still due, retried as usual;
        // money the answer brought is in the prepaid account.
        Err(ChargeFailure::GivenUp { .. }) => Some("provider_unavailable".to_string()),
    };
    match &failure {
        None => report.renewed += 1,
        Some(code) if HARD_DECLINES.contains(&code.as_str()) => report.stopped += 1,
        Some(_) => report.failed += 1,
    }
    let (config, renewal, payment) = (ctx.config.clone(), renewal.clone(), payment.clone());
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            organizations::lock(c, &renewal.organization_id)?;
            let Some(p) = schedule::find_product(c, &renewal.product_id)? else {
                return Ok(());
            };
            let mut context = product_context(&p, "renewed");
            match &failure {
                None => {
                    let mut attachments = vec![];
                    if let Some(inv) = payment
                        .invoice_id
                        .as_deref()
                        .map(|i| invoices::find(c, &renewal.organization_id, i))
                        .transpose()?
                        .flatten()
                    {
                        context["invoice_number"] = inv.number.clone().into();
                        context["amount"] =
                            Money::from_minor(inv.total_minor, Currency::from_code(&inv.currency))
                                .display()
                                .into();
                        // R27: the paid renewal's invoice PDF, when the organisation asked.
                        attachments = crate::services::billing_settings::invoice_attachments(
                            c,
                            &renewal.organization_id,
                            &inv.id,
                        )?;
                    }
                    // The payer has the payments' receipt already.
                    auto_renewal::tell_accounting_holders_with(
                        c,
                        &config,
                        &renewal.organization_id,
                        Some(&payment.created_by),
                        context,
                        &attachments,
                    )?;
                }
                Some(code) => {
                    let hard = HARD_DECLINES.contains(&code.as_str());
                    schedule::record_failure(c, &renewal.id, code, hard)?;
                    let next_attempt_at = if hard { None } else { renewal.next_attempt_at };
                    crate::services::outgoing_webhooks::renewal_failed(
                        c,
                        &renewal,
                        code,
                        next_attempt_at,
                    )?;
                    if hard && p.auto_renew {
                        schedule::set_auto_renew(c, std::slice::from_ref(&p.id), None, now)?;
                        activity::record(
                            c,
                            &origin(),
                            Event::auto_renewal_disabled(None, &p.organization_id, &p.id, code),
                        )?;
                    }
                    context["kind"] = if hard { "stopped" } else { "charge_failed" }.into();
                    context["failure"] = code.clone().into();
                    context["next_attempt_on"] = renewal
                        .next_attempt_at
                        .map(|t| t.date().to_string())
                        .unwrap_or_else(|| "-".into())
                        .into();
                    tell_accounting_holders(c, &config, &renewal.organization_id, None, context)?;
                }
            }
            Ok(())
        })
    })
    .await
}

/// Re-asks the provider about the scheduler's charges left pending by a dead pass (same key:
/// the provider answers the first outcome), and records the answers.
async fn reconcile(
    ctx: &Services,
    now: NaiveDateTime,
    report: &mut Report,
) -> Result<(), AppError> {
    let cutoff = now - RECONCILE_AFTER;
    let stuck = db::run(&ctx.pool, move |c| {
        let mut out = Vec::new();
        for r in schedule::pending_automatic(c, BATCH)? {
            let Some(order_id) = r.order_id.as_deref() else {
                continue;
            };
            let Some(order) = orders::find(c, &r.organization_id, order_id)? else {
                continue;
            };
            let Some(p) = payments::latest_for_invoice(c, &order.invoice_id)? else {
                continue;
            };
            if p.status != PaymentStatus::Pending
                || p.method != PaymentMethodKind::PaymentMethod
                || p.created_at > cutoff
            {
                continue;
            }
            let Some(m) = p
                .payment_method_id
                .as_deref()
                .map(|m| payment_methods::find(c, &r.organization_id, m))
                .transpose()?
                .flatten()
            else {
                continue;
            };
            out.push((r, p, m));
        }
        Ok(out)
    })
    .await?;
    for (renewal, payment, method) in stuck {
        report.reconciled += 1;
        // One stuck charge that cannot be settled now does not hold the others (nor the pass).
        let done = match charge(ctx, payment.clone(), method).await {
            Ok(result) => after_charge(ctx, &renewal, &payment, result, now, report).await,
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            tracing::warn!(payment_id = %payment.id, "reconciling a renewal charge: {e}");
        }
    }
    Ok(())
}

/// The reminder stages for products without auto-renewal: (stage, window start, window end),
/// days before expiry; negative: after.
fn reminder_windows(now: NaiveDateTime) -> [(i32, NaiveDateTime, NaiveDateTime); 3] {
    let d = Duration::days;
    [
        (30, now + d(7), now + d(30)),
        (7, now, now + d(7)),
        (-5, now - d(5), now),
    ]
}

async fn remind(ctx: &Services, now: NaiveDateTime, report: &mut Report) -> Result<(), AppError> {
    for (stage, from, until) in reminder_windows(now) {
        let statuses: Vec<ProductStatus> = if stage < 0 {
            vec![ProductStatus::Active, ProductStatus::Expired]
        } else {
            vec![ProductStatus::Active]
        };
        let mut cursor: Option<Cursor> = None;
        loop {
            let (after, st) = (cursor.clone(), statuses.clone());
            let batch: Vec<Product> = db::run(&ctx.pool, move |c| {
                Ok(schedule::expiring(
                    c,
                    &st,
                    false,
                    Some(stage),
                    Some(from),
                    until,
                    after.as_ref(),
                    BATCH,
                )?)
            })
            .await?;
            let full = batch.len() as i64 == BATCH;
            cursor = batch
                .last()
                .and_then(|p| p.expires_at.map(|e| (e, p.id.clone())));
            for p in batch {
                if stage < 0 && p.kind != ProductKind::Domain {
                    continue;
                }
                let config = ctx.config.clone();
                let sent = db::run(&ctx.pool, move |conn| {
                    db::write_retrying(conn, |c| {
                        let Some(expires) = p.expires_at else {
                            return Ok(false);
                        };
                        if !schedule::mark_reminded(c, &p.id, expires, stage)? {
                            return Ok(false);
                        }
                        let mut context = product_context(&p, "reminder");
                        let hours = (expires - now).num_hours();
                        context["days"] = if hours >= 0 {
                            (hours + 23) / 24
                        } else {
                            hours / 24 - 1
                        }
                        .into();
                        tell_accounting_holders(c, &config, &p.organization_id, None, context)?;
                        Ok(true)
                    })
                })
                .await?;
                report.reminded += sent as usize;
            }
            if !full {
                break;
            }
        }
    }
    Ok(())
}
