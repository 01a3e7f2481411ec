//! Refunds, an operator's act (`leman billing refund`): part or all of a paid invoice goes back,
//! to the organisation's prepaid account or to the method that paid it, and the invoice becomes
//! `partially_refunded` or `refunded`. The payer gets a receipt; one activity records it.
//!
//! A refund to the prepaid account is one transaction. One through the provider takes three
//! steps, as a charge does: a `pending` refund claims the amount (one pending refund per payment,
//! by a partial unique index), the provider is called outside any transaction (no lock is held
//! across the network), then the outcome is recorded in one transaction; a failed call marks the
//! refund `failed` and changes nothing else.
//!
//! Every refund done issues its credit note (`services::credit_notes`) in the transaction that
//! records it as done: the prepaid one, or the provider's settling one; a failed refund issues
//! none, and a settled refund is never settled again (`--resume` finds nothing pending).

use rust_decimal::Decimal;

use crate::config::Config;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::billing_states::{
    PaymentMethodKind, PrepaidTransactionKind, RefundStatus, failure,
};
use crate::domain::money::{Money, parse_amount, to_minor};
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::gateway::{GatewayError, PaymentGateway};
use crate::models::invoices::{self, Invoice};
use crate::models::payments::{self, Payment, Refund};
use crate::models::{organizations, prepaid};
use crate::services::activity::{self, Event};
use crate::services::credit_notes;

/// Where refunded money goes.
pub use crate::domain::billing_states::RefundDestination as Destination;

/// What the first step leaves to do.
enum Claimed {
    /// Refunded to the prepaid account, in that one transaction.
    Done(Money),
    /// A pending refund through the provider: ask it, then record the outcome.
    Pending(Pending),
}

/// A refund claimed at the provider and not yet settled.
struct Pending {
    refund_id: String,
    organization_id: String,
    /// The provider's reference of the payment refunded.
    original: String,
    minor: i64,
    currency: String,
}

fn in_progress(number: &str) -> AppError {
    AppError::conflict(
        "refund_in_progress",
        format!(
            "A refund of invoice {number} through the provider is under way. If no command is running it, settle it with `leman billing refund {number} --resume`."
        ),
    )
}

/// Refunds `amount` (default: all that is left) of the invoice numbered `number`.
pub async fn refund(
    pool: &Pool,
    config: &Config,
    gateway: std::sync::Arc<dyn PaymentGateway>,
    number: String,
    amount: Option<Decimal>,
    to: Destination,
) -> Result<(Money, Destination), AppError> {
    // Step 1: the checks, then either the whole refund to the prepaid account, or the claim.
    let claimed = db::run(pool, {
        let config = config.clone();
        move |conn| db::write(conn, |c| claim(c, &config, &number, amount, to))
    })
    .await?;
    match claimed {
        (Claimed::Done(money), to) => Ok((money, to)),
        (Claimed::Pending(pending), _) => Ok((
            settle(pool, config, gateway, pending).await?,
            Destination::Original,
        )),
    }
}

/// Settles the refund left pending on the invoice numbered `number` (its command died, or the
/// provider did not answer): asks the provider again with the same refund id, which it answers
/// without refunding twice, and records the outcome.
pub async fn resume(
    pool: &Pool,
    config: &Config,
    gateway: std::sync::Arc<dyn PaymentGateway>,
    number: String,
) -> Result<Money, AppError> {
    let pending = db::run(pool, move |conn| {
        let none = || {
            AppError::conflict(
                "no_pending_refund",
                format!("Invoice {number} has no refund pending."),
            )
        };
        let invoice = invoices::find_by_number(conn, &number)?
            .ok_or_else(|| AppError::not_found(format!("No invoice numbered {number}.")))?;
        let payment = payments::succeeded_for_invoice(conn, &invoice.id)?.ok_or_else(none)?;
        let refund = payments::pending_refund_of(conn, &payment.id)?.ok_or_else(none)?;
        Ok(Pending {
            refund_id: refund.id,
            organization_id: invoice.organization_id,
            original: payment.gateway_reference.unwrap_or_default(),
            minor: refund.amount_minor,
            currency: invoice.currency,
        })
    })
    .await?;
    settle(pool, config, gateway, pending).await
}

/// Steps 2 and 3 of a refund through the provider: the call, outside any transaction, then its
/// outcome in one. A refusal is committed (the refund `failed`, nothing else changed) and
/// answered; no answer leaves the refund pending, for `resume`.
async fn settle(
    pool: &Pool,
    config: &Config,
    gateway: std::sync::Arc<dyn PaymentGateway>,
    pending: Pending,
) -> Result<Money, AppError> {
    let Pending {
        refund_id,
        organization_id: org_id,
        original,
        minor,
        currency,
    } = pending;
    let outcome = tokio::task::spawn_blocking({
        let (refund_id, currency) = (refund_id.clone(), currency.clone());
        move || gateway.refund(&refund_id, &original, Decimal::new(minor, 2), &currency)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?;
    let config = config.clone();
    db::run(pool, move |conn| {
        db::write_retrying(conn, |c| -> Result<Result<Money, AppError>, AppError> {
            organizations::lock(c, &org_id)?;
            match &outcome {
                Ok(reference) => {
                    if !payments::settle_refund(c, &refund_id, Ok(reference), db::now())? {
                        return Ok(Err(AppError::conflict(
                            "no_pending_refund",
                            "This refund was settled meanwhile.",
                        )));
                    }
                    let (invoice, payment) = refunded_of(c, &refund_id)?;
                    let money = record(
                        c,
                        &config,
                        &Origin::operator("billing refund"),
                        Done {
                            invoice: &invoice,
                            payment: &payment,
                            refund_id: &refund_id,
                            minor,
                            to: Destination::Original,
                            reference: Some(reference),
                        },
                    )?;
                    Ok(Ok(money))
                }
                Err(GatewayError::Unavailable(cause)) => Ok(Err(AppError::unavailable(
                    "refund_outcome_unknown",
                    format!(
                        "The payment provider did not answer ({cause}); the refund stays pending: settle it with `leman billing refund <invoice> --resume`."
                    ),
                ))),
                Err(e) => {
                    payments::settle_refund(
                        c,
                        &refund_id,
                        Err(failure::PROVIDER_ERROR),
                        db::now(),
                    )?;
                    Ok(Err(AppError::conflict(
                        "refund_refused",
                        format!("{e}; nothing was refunded."),
                    )))
                }
            }
        })
    })
    .await?
}

/// The invoice and the payment a refund gives back.
fn refunded_of(c: &mut DbConnection, refund_id: &str) -> Result<(Invoice, Payment), AppError> {
    let missing = || AppError::internal("a refunded payment or invoice vanished");
    let payment_id = payments::find_refund(c, refund_id)?
        .ok_or_else(missing)?
        .payment_id;
    let payment = payments::find(c, &payment_id)?.ok_or_else(missing)?;
    let invoice_id = payment.invoice_id.clone().ok_or_else(missing)?;
    let invoice = invoices::find_any(c, &invoice_id)?.ok_or_else(missing)?;
    Ok((invoice, payment))
}

/// Step 1, in its transaction: checks the refund, then refunds to the prepaid account at once
/// or records the pending refund through the provider.
fn claim(
    c: &mut DbConnection,
    config: &Config,
    number: &str,
    amount: Option<Decimal>,
    to: Destination,
) -> Result<(Claimed, Destination), AppError> {
    let found = invoices::find_by_number(c, number)?
        .ok_or_else(|| AppError::not_found(format!("No invoice numbered {number}.")))?;
    // The concurrency rule: the organisation's lock first, then what it holds is read
    // again (a payment or another refund may have changed it meanwhile).
    organizations::lock(c, &found.organization_id)?;
    let invoice = invoices::find_by_number(c, number)?.unwrap_or(found);
    let currency = Currency::from_code(&invoice.currency);
    let payment = payments::succeeded_for_invoice(c, &invoice.id)?;
    // A refund under way through the provider holds what it claims.
    let pending = match &payment {
        Some(p) => payments::pending_refund_minor(c, &p.id)?,
        None => 0,
    };
    let left = invoice.total_minor - invoice.refunded_minor - pending;
    let minor = match amount {
        Some(a) => {
            to_minor(parse_amount(a, "--amount").map_err(|e| AppError::validation(vec![e]))?)
        }
        None => left,
    };
    let refundable = invoice.status.is_refundable();
    if refundable && pending > 0 && (minor > left || left == 0) {
        return Err(in_progress(number));
    }
    if !refundable || minor > left || minor <= 0 {
        return Err(AppError::conflict(
            "not_refundable",
            format!(
                "Invoice {number} is {} with {} left to refund.",
                invoice.status,
                Money::from_minor(left, currency).display()
            ),
        ));
    }
    let payment = payment.ok_or_else(|| {
        AppError::conflict("not_refundable", "The invoice has no payment to refund.")
    })?;
    let now = db::now();
    // Money paid from the prepaid account can only go back there, whatever the ceiling;
    // money paid otherwise goes there only within it.
    let from_prepaid = payment.method == PaymentMethodKind::Prepaid;
    let to = if from_prepaid {
        Destination::Prepaid
    } else {
        to
    };
    let mut refund = Refund {
        id: db::new_id("rfd"),
        payment_id: payment.id.clone(),
        amount_minor: minor,
        destination: to,
        status: RefundStatus::Pending,
        provider_reference: None,
        failure_code: None,
        created_at: now,
        settled_at: None,
    };
    // A deleted organisation's prepaid account pays nothing out any more (it is purged with its
    // balance): money credited there would be stranded.
    if to == Destination::Prepaid && organizations::find(c, &invoice.organization_id)?.is_none() {
        return Err(AppError::conflict(
            "not_refundable",
            if from_prepaid {
                "The organisation is deleted and the invoice was paid from its prepaid account: nothing can receive this refund."
            } else {
                "The organisation is deleted: its prepaid account can no longer pay out; refund to the original method (--to original)."
            },
        ));
    }
    if to == Destination::Original {
        let original = payment.gateway_reference.clone().ok_or_else(|| {
            AppError::conflict("not_refundable", "The payment has no provider reference.")
        })?;
        match payments::insert_refund(c, &refund) {
            Ok(_) => {}
            Err(e) if db::is_unique_violation(&e) => return Err(in_progress(number)),
            Err(e) => return Err(e.into()),
        }
        return Ok((
            Claimed::Pending(Pending {
                refund_id: refund.id,
                organization_id: invoice.organization_id,
                original,
                minor,
                currency: invoice.currency,
            }),
            to,
        ));
    }
    let ceiling = if from_prepaid {
        i64::MAX
    } else {
        to_minor(config.prepaid_ceiling)
            - payments::pending_top_ups_minor(c, &invoice.organization_id)?
    };
    crate::services::prepaid::post(
        c,
        &prepaid::Posting {
            organization_id: &invoice.organization_id,
            kind: PrepaidTransactionKind::Refund,
            amount_minor: minor,
            currency: &invoice.currency,
            payment_id: Some(&payment.id),
            invoice_id: Some(&invoice.id),
            iban: None,
            created_by: None,
        },
        ceiling,
        || {
            AppError::conflict(
                "prepaid_ceiling_reached",
                format!(
                    "The prepaid account would exceed its ceiling of {}: refund to the original method (--to original).",
                    Money::new(config.prepaid_ceiling, currency).display()
                ),
            )
        },
    )?;
    refund.status = RefundStatus::Succeeded;
    refund.settled_at = Some(now);
    payments::insert_refund(c, &refund)?;
    let money = record(
        c,
        config,
        &Origin::operator("billing refund"),
        Done {
            invoice: &invoice,
            payment: &payment,
            refund_id: &refund.id,
            minor,
            to,
            reference: None,
        },
    )?;
    Ok((Claimed::Done(money), to))
}

/// Gives `minor` of a paid invoice back to the organisation's prepaid account, in the caller's
/// transaction, when a product it paid for could not be delivered (a domain taken meanwhile):
/// a refund record on the invoice (which becomes `partially_refunded` or `refunded`), the
/// ledger's credit, one activity by `origin`. Whatever the prepaid ceiling: the money was ours
/// to give back. No receipt: the caller's mail says why. The caller makes it happen once (it
/// holds the organisation's lock and moves the undelivered thing out of its state first).
pub fn to_prepaid_for_undelivered(
    c: &mut DbConnection,
    config: &Config,
    origin: &Origin,
    invoice_id: &str,
    minor: i64,
) -> Result<(Invoice, Money), AppError> {
    let invoice = invoices::find_any(c, invoice_id)?
        .ok_or_else(|| AppError::internal("the paid invoice vanished"))?;
    let payment = payments::succeeded_for_invoice(c, &invoice.id)?
        .ok_or_else(|| AppError::internal("the paid invoice has no payment"))?;
    let left = invoice.total_minor - invoice.refunded_minor;
    let minor = minor.min(left);
    if minor <= 0 || !invoice.status.is_refundable() {
        return Ok((
            invoice.clone(),
            Money::from_minor(0, Currency::from_code(&invoice.currency)),
        ));
    }
    let now = db::now();
    crate::services::prepaid::post(
        c,
        &prepaid::Posting {
            organization_id: &invoice.organization_id,
            kind: PrepaidTransactionKind::Refund,
            amount_minor: minor,
            currency: &invoice.currency,
            payment_id: Some(&payment.id),
            invoice_id: Some(&invoice.id),
            iban: None,
            created_by: None,
        },
        i64::MAX,
        || AppError::internal("no ceiling"),
    )?;
    let refund_id = db::new_id("rfd");
    payments::insert_refund(
        c,
        &Refund {
            id: refund_id.clone(),
            payment_id: payment.id.clone(),
            amount_minor: minor,
            destination: Destination::Prepaid,
            status: RefundStatus::Succeeded,
            provider_reference: None,
            failure_code: None,
            created_at: now,
            settled_at: Some(now),
        },
    )?;
    let money = record(
        c,
        config,
        origin,
        Done {
            invoice: &invoice,
            payment: &payment,
            refund_id: &refund_id,
            minor,
            to: Destination::Prepaid,
            reference: None,
        },
    )?;
    Ok((invoice, money))
}

/// A refund done: `minor` of `invoice` (paid by `payment`) given back to `to` by refund
/// `refund_id`, with the provider's `reference` when it went through the provider.
struct Done<'a> {
    invoice: &'a Invoice,
    payment: &'a Payment,
    refund_id: &'a str,
    minor: i64,
    to: Destination,
    reference: Option<&'a str>,
}

/// A refund done, in the caller's transaction: the invoice and the payment count it, its credit
/// note is issued (numbered now, once per refund), the payer gets a receipt, one activity
/// records it (naming the credit note).
fn record(
    c: &mut DbConnection,
    config: &Config,
    origin: &Origin,
    done: Done<'_>,
) -> Result<Money, AppError> {
    let Done {
        invoice,
        payment,
        refund_id,
        minor,
        to,
        reference,
    } = done;
    let now = db::now();
    if !invoices::add_refund(c, &invoice.id, minor, now)? {
        return Err(AppError::conflict(
            "not_refundable",
            "The invoice changed meanwhile; retry.",
        ));
    }
    payments::add_refund(c, &payment.id, minor)?;
    let note = credit_notes::issue(c, invoice, refund_id, minor, to, now)?;
    let refunded = Money::from_minor(minor, Currency::from_code(&invoice.currency));
    // A refund made by the system says why in a mail of its own (the caller's).
    if !matches!(origin.via, crate::domain::actor::Via::System(_)) {
        crate::services::payments::send_receipt(
            c,
            config,
            "refund_receipt",
            &payment.created_by,
            &invoice.organization_id,
            serde_json::json!({
                "invoice_number": invoice.number,
                "amount": refunded.display(),
                "destination": to.as_str(),
                "credit_note_number": note.number,
            }),
        )?;
    }
    activity::record(
        c,
        origin,
        Event::invoice_refunded(invoice, payment, refunded, to, reference, &note),
    )?;
    Ok(refunded)
}
