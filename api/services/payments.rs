//! Paying an invoice (R31) and settling payments. Money moves exactly once:
//! - from the prepaid account, in one transaction: the invoice goes `open` → `paid` first (a
//!   guarded update that locks it: a concurrent payer finds it paid and rolls back), then the
//!   balance moves (never below zero) and the ledger gets its row;
//! - through the provider, in three steps: a `pending` payment row (a partial unique index
//!   allows one pending or succeeded payment per invoice, so a concurrent payer is refused
//!   before any charge), the charge outside any transaction, then the outcome in one
//!   transaction. Asynchronous methods stay `pending` until the provider's webhook settles them.
//!
//! Settling a succeeded payment marks the invoice paid, the order paid, provisions its
//! products, records the activity and mails the payer a receipt (with the invoice PDF when the
//! organisation asked for it, and a copy to its invoice address: R27), all in one transaction.
//!
//! A bank transfer awaited does not hold an invoice: another payment, or the order's expiry,
//! supersedes it (`failed`, `superseded`); if its money arrives after all, the provider's
//! webhook credits it to the prepaid account, once.

use crate::error::Status;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
pub use crate::domain::billing_states::PaymentMethodKind;
use crate::domain::billing_states::{
    InvoiceStatus, PaymentPurpose, PaymentStatus, PrepaidTransactionKind, failure,
};
use crate::domain::ids::InvoiceId;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::gateway::{Charge, ChargeOutcome};
use crate::mail;
use crate::models::invoices::{self, Invoice};
use crate::models::payments::{self, Payment};
use crate::models::{orders, organizations, payment_methods, prepaid, users};
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;

/// How to pay: `{"method": "prepaid"}`, `{"method": "payment_method", "payment_method_id": …}`
/// or `{"method": "bank_transfer"}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "payment_method", "payment_method_id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05"}))]
pub struct PaymentInput {
    pub method: PaymentMethodKind,
    /// With `payment_method`: the saved method to charge.
    pub payment_method_id: Option<String>,
}

/// A charge that did not go through: the payment is on record as failed (committed), and the
/// request is answered as this error. Ordering with a payment shows it on the order instead.
#[derive(Debug)]
pub enum ChargeFailure {
    /// The provider declined it (its code).
    Declined(String),
    /// The provider did not answer (what went wrong): the charge may exist; the payment stays
    /// pending until reconciled.
    Unavailable(String),
    /// The provider refused the request itself (an unusable token, an error it answered):
    /// nothing was charged; the payment failed (`provider_error`).
    Refused(String),
    /// The payment was settled otherwise before this answer came: given up as never made
    /// (`unanswered`, `expired`, `superseded`), its money then credited to the prepaid account
    /// when `credited`.
    GivenUp { credited: bool },
}

impl From<ChargeFailure> for AppError {
    fn from(f: ChargeFailure) -> Self {
        match f {
            ChargeFailure::Declined(code) => declined(&code),
            ChargeFailure::Unavailable(e) => no_answer(e),
            ChargeFailure::Refused(e) => unavailable(e),
            ChargeFailure::GivenUp { credited } => given_up(credited),
        }
    }
}

/// What became of a payment request.
#[derive(Debug)]
pub enum Outcome {
    /// Paid: the invoice is paid.
    Succeeded(Payment),
    /// Waiting for the provider's confirmation.
    Pending(Payment),
}

pub fn invoice_not_open() -> AppError {
    AppError::conflict(
        "invoice_not_open",
        "This invoice is not open: it is paid, cancelled, or being paid.",
    )
}

fn insufficient_balance() -> AppError {
    AppError::new(
        Status::PaymentRequired,
        "insufficient_prepaid_balance",
        "The prepaid account's balance does not cover this amount: top it up, or pay another way.",
    )
}

pub fn declined(code: &str) -> AppError {
    AppError::new(
        Status::PaymentRequired,
        "payment_declined",
        format!("The payment was declined ({code}); nothing was charged. Try another method."),
    )
}

fn in_progress() -> AppError {
    AppError::conflict(
        "payment_in_progress",
        "A payment of this invoice is already under way or done.",
    )
}

/// The provider did not answer a charge: its outcome is learnt within minutes by asking the
/// provider (the payment stays pending meanwhile, its invoice or top-up held by it).
fn no_answer(e: impl std::fmt::Display) -> AppError {
    AppError::unavailable(
        "payment_provider_unavailable",
        format!(
            "{e}; the charge may have been made: the payment stays pending until the provider \
             is asked again (within minutes), and is then settled or failed. Do not pay again \
             meanwhile: read the payment, invoice or prepaid account for its outcome."
        ),
    )
}

/// A charge answered after its payment was given up (the request stalled before the provider):
/// not a retry case, the money is on record.
fn given_up(credited: bool) -> AppError {
    AppError::conflict(
        "payment_given_up",
        if credited {
            "This payment was given up before the provider answered, then charged after all: \
             the amount went to the organisation's prepaid account. Read the prepaid account \
             and the invoice; do not pay again by card."
        } else {
            "This payment was settled before the provider's answer came. Read the payment and \
             the invoice before paying again."
        },
    )
}

pub fn unavailable(e: impl std::fmt::Display) -> AppError {
    AppError::unavailable(
        "payment_provider_unavailable",
        format!("{e}; nothing was charged, retry later."),
    )
}

/// A method's label for receipts: `prepaid`, `card`, `twint`, … `bank_transfer`.
pub(crate) fn method_label(conn: &mut DbConnection, p: &Payment) -> diesel::QueryResult<String> {
    Ok(match (p.method, &p.payment_method_id) {
        (PaymentMethodKind::PaymentMethod, Some(id)) => {
            payment_methods::find(conn, &p.organization_id, id)?
                .map(|m| m.kind.as_str())
                .unwrap_or("card")
                .to_string()
        }
        (m, _) => m.as_str().to_string(),
    })
}

/// Mails `user_id` a receipt (`template`) in their language, adding their first name, the
/// organisation's name and the time in their time zone to `context`.
pub(crate) fn send_receipt(
    conn: &mut DbConnection,
    config: &Config,
    template: &str,
    user_id: &str,
    org_id: &str,
    context: serde_json::Value,
) -> Result<(), AppError> {
    send_receipt_with(conn, config, template, user_id, org_id, context, &[])
}

/// `send_receipt`, the mail carrying `attachments` (the paid invoice's PDF when the
/// organisation asked for it: `billing_settings::invoice_attachments`, R27).
pub(crate) fn send_receipt_with(
    conn: &mut DbConnection,
    config: &Config,
    template: &str,
    user_id: &str,
    org_id: &str,
    mut context: serde_json::Value,
    attachments: &[mail::Attachment],
) -> Result<(), AppError> {
    if let (Some(user), Some(org)) = (
        users::find(conn, user_id)?,
        // A deleted organisation's name still heads its mails (an export asked for during the
        // deletion steps, R22, or a refund after it).
        organizations::find_any(conn, org_id)?,
    ) {
        context["first_name"] = user.first_name.clone().into();
        context["organization_name"] = org.name.into();
        context["time"] = crate::services::sessions::user_time(&user).into();
        mail::send_with_attachments(
            conn,
            config,
            template,
            &user.language,
            &user.email,
            context,
            attachments,
        )?;
    }
    Ok(())
}

/// Everything a succeeded invoice payment does, in the caller's transaction: the invoice and
/// its order are paid, the products start, the payer gets a receipt, one activity records it.
fn complete_invoice_payment(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    payment: &Payment,
    invoice: &Invoice,
) -> Result<(), AppError> {
    let now = db::now();
    if !invoices::transition(
        conn,
        &invoice.id,
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        now,
    )? {
        return Err(invoice_not_open());
    }
    if let Some(order) = orders::find_by_invoice(conn, &invoice.id)? {
        orders::mark_paid(conn, &order.id, now)?;
        crate::services::order_paid::apply(conn, &order, payment, now)?;
    }
    let currency = Currency::from_code(&invoice.currency);
    let method = method_label(conn, payment)?;
    // R27: the receipt carries the invoice's PDF when the organisation asked for it, and the
    // organisation's invoice address (if any) gets its copy: here, where every invoice becomes
    // paid (prepaid, card, transfer, renewal scheduler), and nowhere else.
    let attachments = crate::services::billing_settings::invoice_attachments(
        conn,
        &invoice.organization_id,
        &invoice.id,
    )?;
    send_receipt_with(
        conn,
        config,
        "payment_receipt",
        &payment.created_by,
        &payment.organization_id,
        serde_json::json!({
            "invoice_number": invoice.number,
            "amount": Money::from_minor(invoice.total_minor, currency).display(),
            "method": method,
        }),
        &attachments,
    )?;
    crate::services::billing_settings::send_invoice_copy(conn, config, invoice)?;
    activity::record(
        conn,
        meta,
        Event::invoice_paid(payment, invoice, &method, currency),
    )?;
    Ok(())
}

/// A pending payment; `amount` is (minor units, currency).
fn new_payment(
    org_id: &str,
    invoice: Option<&Invoice>,
    purpose: PaymentPurpose,
    method: PaymentMethodKind,
    payment_method_id: Option<String>,
    (amount_minor, currency): (i64, &str),
    created_by: &str,
) -> Payment {
    Payment {
        id: db::new_id("pay"),
        organization_id: org_id.to_string(),
        invoice_id: invoice.map(|i| i.id.clone()),
        purpose,
        method,
        payment_method_id,
        amount_minor,
        currency: currency.to_string(),
        status: PaymentStatus::Pending,
        gateway_reference: None,
        failure_code: None,
        refunded_minor: 0,
        created_by: created_by.to_string(),
        created_at: db::now(),
        settled_at: None,
        pro_forma_id: None,
    }
}

/// Pays the open `invoice` from the prepaid account, in the caller's transaction: refused with
/// 402 `insufficient_prepaid_balance` (the caller rolls back) when the balance does not cover it.
pub(crate) fn pay_from_prepaid(
    c: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    user_id: &str,
    invoice: &Invoice,
) -> Result<Payment, AppError> {
    let org_id = &invoice.organization_id;
    let mut payment = new_payment(
        org_id,
        Some(invoice),
        PaymentPurpose::Invoice,
        PaymentMethodKind::Prepaid,
        None,
        (invoice.total_minor, &invoice.currency),
        user_id,
    );
    payment.status = PaymentStatus::Succeeded;
    payment.settled_at = Some(db::now());
    // Locks in the global order (docs/decisions.md): the organisation (taken by the caller), then
    // the prepaid account (this posting), then the invoice and its payment.
    crate::services::prepaid::post(
        c,
        &prepaid::Posting {
            organization_id: org_id,
            kind: PrepaidTransactionKind::Payment,
            amount_minor: -invoice.total_minor,
            currency: &invoice.currency,
            payment_id: Some(&payment.id),
            invoice_id: Some(&invoice.id),
            iban: None,
            created_by: Some(user_id),
        },
        i64::MAX,
        insufficient_balance,
    )?;
    insert_pending(c, &payment)?;
    crate::services::outgoing_webhooks::payment_succeeded(c, &payment)?;
    complete_invoice_payment(c, config, meta, &payment, invoice)?;
    Ok(payment)
}

/// A bank transfer announced but not arrived does not hold the invoice: paying it another way
/// (or announcing a new transfer) supersedes it, in the caller's transaction. Money that still
/// arrives for it goes to the prepaid account (see `webhooks`).
fn supersede_pending_transfer(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    invoice_id: &str,
) -> Result<(), AppError> {
    if let Some(transfer) = payments::pending_transfer_for_invoice(conn, invoice_id)? {
        settle(
            conn,
            config,
            meta,
            &transfer.id,
            false,
            Some(failure::SUPERSEDED),
            None,
        )?;
    }
    Ok(())
}

/// The reference a bank transfer quotes: the document's number (an invoice's, or a pro forma's
/// `PF-…`) and the attempt, so a transfer that failed can be tried again under a new one.
pub fn transfer_reference(number: &str, payment_id: &str) -> String {
    let attempt = &payment_id[payment_id.len().saturating_sub(6)..];
    format!("LMN-{number}-{}", attempt.to_uppercase())
}

/// Inserts a pending payment of an invoice; a second live payment of it is refused.
fn insert_pending(conn: &mut DbConnection, p: &Payment) -> Result<(), AppError> {
    match payments::insert(conn, p) {
        Ok(_) => Ok(()),
        Err(e) if db::is_unique_violation(&e) => Err(in_progress()),
        Err(e) => Err(e.into()),
    }
}

/// Pays the open invoice `invoice_id` of the organisation with `input`.
pub async fn pay_invoice(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    invoice_id: InvoiceId,
    input: PaymentInput,
) -> Result<Outcome, AppError> {
    Ok(attempt_invoice_payment(ctx, meta, org, invoice_id, input).await??)
}

/// Pays the open invoice: `Ok(Err(_))` is a charge that did not go through, on record.
pub async fn attempt_invoice_payment(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    invoice_id: InvoiceId,
    input: PaymentInput,
) -> Result<Result<Outcome, ChargeFailure>, AppError> {
    let (org, org_id) = (org.clone(), org.org_id.clone());
    let config = ctx.config.clone();
    let pid = input.payment_method_id.clone();
    // Step 1: check, and either pay from the prepaid account at once, or claim the invoice with
    // a pending payment.
    let (payment, method) = db::run(&ctx.pool, {
        let config = config.clone();
        let meta = meta.clone();
        move |conn| {
            db::write_retrying(conn, |c| {
                org.authorize(c)?;
                let caller = &org.caller;
                let invoice = invoices::find(c, &org_id, &invoice_id)?
                    .ok_or_else(|| AppError::not_found("No such invoice."))?;
                if invoice.status != InvoiceStatus::Open {
                    return Err(invoice_not_open());
                }
                let kind = input.method;
                let method_row = match kind {
                    PaymentMethodKind::Prepaid | PaymentMethodKind::BankTransfer => None,
                    PaymentMethodKind::PaymentMethod => {
                        let m = crate::services::payment_methods::may_pay(
                            c,
                            &org_id,
                            pid.as_deref(),
                            "/payment/payment_method_id",
                        )?;
                        Some(m)
                    }
                };
                supersede_pending_transfer(c, &config, &meta, &invoice.id)?;
                if kind == PaymentMethodKind::Prepaid {
                    let paid = pay_from_prepaid(c, &config, &meta, &caller.user_id, &invoice)?;
                    return Ok((paid, None));
                }
                let mut payment = new_payment(
                    &org_id,
                    Some(&invoice),
                    PaymentPurpose::Invoice,
                    kind,
                    method_row.as_ref().map(|m| m.id.clone()),
                    (invoice.total_minor, &invoice.currency),
                    &caller.user_id,
                );
                if kind == PaymentMethodKind::BankTransfer {
                    // The customer quotes this reference on the transfer; the provider's
                    // webhook names it when the money arrives.
                    // One reference per attempt: a transfer that failed can be tried again.
                    payment.gateway_reference =
                        Some(transfer_reference(&invoice.number, &payment.id));
                }
                insert_pending(c, &payment)?;
                Ok((payment, method_row))
            })
        }
    })
    .await?;
    if payment.status == PaymentStatus::Succeeded {
        return Ok(Ok(Outcome::Succeeded(payment)));
    }
    if payment.method == PaymentMethodKind::BankTransfer {
        return Ok(Ok(Outcome::Pending(payment)));
    }
    // Step 2: the charge, outside any transaction; step 3: its outcome.
    let method = method.ok_or_else(|| AppError::internal("no method to charge"))?;
    charge_and_record(ctx, config, meta, payment, method).await
}

/// Charges a pending payment to its saved method (on the blocking pool: a real provider is a
/// network call, made outside any transaction), then records the outcome.
pub async fn charge_and_record(
    ctx: &Services,
    config: std::sync::Arc<Config>,
    meta: Origin,
    payment: Payment,
    method: payment_methods::PaymentMethod,
) -> Result<Result<Outcome, ChargeFailure>, AppError> {
    let gateway = ctx.gateway.clone();
    let amount = Money::from_minor(payment.amount_minor, Currency::from_code(&payment.currency));
    let p = payment.clone();
    let outcome = tokio::task::spawn_blocking(move || {
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
    record_charge(&ctx.pool, config, meta, payment, outcome).await
}

/// Records a charge's outcome in its own transaction: settles or marks the payment pending and
/// returns it; a refusal is committed (the failed attempt stays on record), then returned as
/// the `ChargeFailure` it is.
pub async fn record_charge(
    pool: &crate::db::Pool,
    config: std::sync::Arc<Config>,
    meta: Origin,
    payment: Payment,
    outcome: Result<ChargeOutcome, crate::gateway::GatewayError>,
) -> Result<Result<Outcome, ChargeFailure>, AppError> {
    db::run(pool, move |conn| {
        db::write_retrying(
            conn,
            |c| -> Result<Result<Outcome, ChargeFailure>, AppError> {
                // The organisation's lock first (the global lock order), as every money path.
                organizations::lock(c, &payment.organization_id)?;
                Ok(match &outcome {
                    Ok(ChargeOutcome::Approved { reference }) => {
                        if !settle(c, &config, &meta, &payment.id, true, None, Some(reference))?
                            && payments::claim_late_payment(c, &payment.id, Some(reference))?
                        {
                            // Given up while this request stalled before the provider (no
                            // charge on record when reconciled), then charged after all: the
                            // money is the customer's, so it goes to the prepaid account, once.
                            crate::services::prepaid::credit_top_up(c, &config, &meta, &payment)?;
                        }
                        let paid = payments::find(c, &payment.id)?.unwrap_or(payment.clone());
                        if paid.status == PaymentStatus::Succeeded {
                            Ok(Outcome::Succeeded(paid))
                        } else {
                            let credited = paid
                                .failure_code
                                .as_deref()
                                .is_some_and(|c| c.ends_with("_credited"));
                            Err(ChargeFailure::GivenUp { credited })
                        }
                    }
                    Ok(ChargeOutcome::Pending { reference }) => {
                        payments::set_reference(c, &payment.id, reference)?;
                        let pending = payments::find(c, &payment.id)?.unwrap_or(payment.clone());
                        Ok(Outcome::Pending(pending))
                    }
                    Ok(ChargeOutcome::Declined { code }) => {
                        settle(c, &config, &meta, &payment.id, false, Some(code), None)?;
                        Err(ChargeFailure::Declined(code.clone()))
                    }
                    // No answer: the provider may have charged. The payment stays pending
                    // (no reference) until `reconcile_unanswered` asks the provider by its key;
                    // failing it here would free the invoice for a second charge.
                    Err(e @ crate::gateway::GatewayError::Unavailable(_)) => {
                        Err(ChargeFailure::Unavailable(e.to_string()))
                    }
                    Err(e) => {
                        let code = Some(failure::PROVIDER_ERROR);
                        settle(c, &config, &meta, &payment.id, false, code, None)?;
                        Err(ChargeFailure::Refused(e.to_string()))
                    }
                })
            },
        )
    })
    .await
}

/// Settles a pending payment (succeeded or failed), from a charge's answer or the provider's
/// webhook; does nothing when it is settled already. Returns whether it changed anything.
pub fn settle(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    payment_id: &str,
    succeeded: bool,
    failure_code: Option<&str>,
    reference: Option<&str>,
) -> Result<bool, AppError> {
    let now = db::now();
    let status = if succeeded {
        PaymentStatus::Succeeded
    } else {
        PaymentStatus::Failed
    };
    // The concurrency rule: the organisation's lock before its payment, invoice and account
    // (a no-op when the caller holds it already, as it should).
    if let Some(p) = payments::find(conn, payment_id)? {
        organizations::lock(conn, &p.organization_id)?;
    }
    if !payments::settle(conn, payment_id, status, failure_code, reference, now)? {
        return Ok(false);
    }
    let payment = payments::find(conn, payment_id)?
        .ok_or_else(|| AppError::internal("settled payment vanished"))?;
    if !succeeded {
        activity::record(conn, meta, Event::payment_failed(&payment, failure_code))?;
        return Ok(true);
    }
    crate::services::outgoing_webhooks::payment_succeeded(conn, &payment)?;
    match (payment.purpose, &payment.invoice_id) {
        (PaymentPurpose::Invoice, Some(invoice_id)) => {
            let invoice = invoices::find_any(conn, invoice_id)?
                .ok_or_else(|| AppError::internal("paid invoice vanished"))?;
            complete_invoice_payment(conn, config, meta, &payment, &invoice)?;
        }
        // A pro forma's bank transfer (R34): its order and numbered invoice are issued now.
        (PaymentPurpose::Invoice, None) if payment.pro_forma_id.is_some() => {
            let (payment, invoice) =
                crate::services::renewals::invoice_pro_forma(conn, config, &payment, now)?;
            complete_invoice_payment(conn, config, meta, &payment, &invoice)?;
        }
        _ => crate::services::prepaid::credit_top_up(conn, config, meta, &payment)?,
    }
    Ok(true)
}

/// Reconciles the charges whose request died between the charge and its record (a crash, a
/// `kill -9`): each such payment stays `pending` without a provider reference, holding its
/// invoice or its top-up, while the provider may have taken the money. For those made before
/// `cutoff` (a live request records its answer within seconds) the provider is asked what became
/// of the charge by its key, the payment id, charging nothing: an answer is recorded as the
/// request would have recorded it (a top-up credited, an invoice paid, a decline failed); no
/// charge on record means none was made, and the payment fails (`provider_error`), freeing its
/// invoice for another payment. The automatic renewals' own charges are left to the renewal
/// scheduler, which reconciles them with their retries. Returns how many were settled.
pub async fn reconcile_unanswered(
    ctx: &Services,
    cutoff: chrono::NaiveDateTime,
) -> Result<usize, AppError> {
    let stuck = db::run(&ctx.pool, move |c| {
        let mut out = Vec::new();
        for p in payments::unanswered_charges(c, cutoff, 500)? {
            let automatic = match p.invoice_id.as_deref() {
                Some(invoice_id) => match orders::find_by_invoice(c, invoice_id)? {
                    Some(order) => crate::models::renewals::of_order(c, &order.id)?
                        .iter()
                        .any(|r| r.automatic),
                    None => false,
                },
                None => false,
            };
            if !automatic {
                out.push(p);
            }
        }
        Ok(out)
    })
    .await?;
    let mut settled = 0;
    for payment in stuck {
        let answer = charge_on_record(ctx, &payment.id).await?;
        let origin = Origin::system("reconcile_charges");
        let outcome = match answer {
            Ok(Some(outcome)) => Ok(outcome),
            // Never charged: the request died (or stalls) before the provider heard of it. The
            // payment fails `unanswered`; should the stalled request charge after all, its
            // answer credits the money to the prepaid account (`record_charge`).
            Ok(None) => {
                let (config, origin, id) = (ctx.config.clone(), origin.clone(), payment.id.clone());
                let given_up = db::run(&ctx.pool, move |conn| {
                    db::write_retrying(conn, |c| {
                        let code = Some(failure::UNANSWERED);
                        settle(c, &config, &origin, &id, false, code, None)
                    })
                })
                .await;
                match given_up {
                    Ok(_) => settled += 1,
                    Err(e) => tracing::warn!(payment_id = %payment.id, "reconciling a charge: {e}"),
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(payment_id = %payment.id, "reconciling a charge: {e}");
                continue;
            }
        };
        match record_charge(
            &ctx.pool,
            ctx.config.clone(),
            origin,
            payment.clone(),
            outcome,
        )
        .await
        {
            Ok(_) => settled += 1,
            Err(e) => tracing::warn!(payment_id = %payment.id, "reconciling a charge: {e}"),
        }
    }
    // Given up as never made within the pending period: asked again, in case the request that
    // made the payment only stalled and charged after all, then died before its record. An
    // approval found now credits the money to the prepaid account, once (`record_charge`).
    let since = cutoff - chrono::Duration::days(ctx.config.payment_pending_days);
    let given_up = db::run(&ctx.pool, move |c| {
        Ok(payments::given_up_unanswered(c, since, 500)?)
    })
    .await?;
    for payment in given_up {
        let answer = charge_on_record(ctx, &payment.id).await?;
        let Ok(Some(outcome @ ChargeOutcome::Approved { .. })) = answer else {
            continue;
        };
        let origin = Origin::system("reconcile_charges");
        match record_charge(
            &ctx.pool,
            ctx.config.clone(),
            origin,
            payment.clone(),
            Ok(outcome),
        )
        .await
        {
            Ok(Err(ChargeFailure::GivenUp { credited: true })) => settled += 1,
            Ok(_) => {}
            Err(e) => tracing::warn!(payment_id = %payment.id, "reconciling a charge: {e}"),
        }
    }
    Ok(settled)
}

/// What the provider has on record for the charge keyed by `payment_id` (charging nothing),
/// asked on the blocking pool.
async fn charge_on_record(
    ctx: &Services,
    payment_id: &str,
) -> Result<Result<Option<ChargeOutcome>, crate::gateway::GatewayError>, AppError> {
    let (gateway, id) = (ctx.gateway.clone(), payment_id.to_string());
    tokio::task::spawn_blocking(move || gateway.charge_on_record(&id))
        .await
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Gives up the payments the provider has not confirmed within `LEMAN_PAYMENT_PENDING_DAYS`, in
/// the caller's transaction: each fails (`expired`, with its activity), which frees its invoice
/// for another payment (or its order for expiry) and its top-up's room under the ceiling. Money
/// the provider still confirms later goes to the prepaid account (see `webhooks`).
pub fn expire_stale(
    conn: &mut DbConnection,
    config: &Config,
    now: chrono::NaiveDateTime,
) -> Result<usize, AppError> {
    let cutoff = now - chrono::Duration::days(config.payment_pending_days);
    let mut stale = payments::pending_since(conn, cutoff, 500)?;
    // One transaction locks several organisations: in id order, like account deletion, so the
    // two never wait on each other in a cycle.
    stale.sort_by(|a, b| a.organization_id.cmp(&b.organization_id));
    for p in &stale {
        settle(
            conn,
            config,
            &Origin::system("expire_orders"),
            &p.id,
            false,
            Some(failure::EXPIRED),
            None,
        )?;
    }
    Ok(stale.len())
}

/// Helpers for the other billing services.
pub(crate) fn pending_payment(
    org_id: &str,
    purpose: PaymentPurpose,
    method: &payment_methods::PaymentMethod,
    amount_minor: i64,
    currency: &str,
    created_by: &str,
) -> Payment {
    new_payment(
        org_id,
        None,
        purpose,
        PaymentMethodKind::PaymentMethod,
        Some(method.id.clone()),
        (amount_minor, currency),
        created_by,
    )
}
