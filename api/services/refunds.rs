//! Refunds, an operator's act (`leman billing refund`): part or all of a paid invoice goes back,
//! to the organisation's prepaid account or to the method that paid it, and the invoice becomes
//! `partially_refunded` or `refunded`. The payer gets a receipt; one activity records it.

use rust_decimal::Decimal;

use crate::config::Config;
use crate::db::{self, Pool};
use crate::domain::actor::Origin;
use crate::domain::money::{Money, parse_amount, to_minor};
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::gateway::PaymentGateway;
use crate::models::{invoices, organizations, payments, prepaid};
use crate::services::activity::{self, Event};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Prepaid,
    Original,
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
    let config = config.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            let found = invoices::find_by_number(c, &number)?
                .ok_or_else(|| AppError::not_found(format!("No invoice numbered {number}.")))?;
            // The concurrency rule: the organisation's lock first, then what it holds is read
            // again (a payment or another refund may have changed it meanwhile).
            organizations::lock(c, &found.organization_id)?;
            let invoice = invoices::find_by_number(c, &number)?.unwrap_or(found);
            let currency = Currency::from_code(&invoice.currency);
            let left = invoice.total_minor - invoice.refunded_minor;
            let minor = match amount {
                Some(a) => to_minor(
                    parse_amount(a, "--amount").map_err(|e| AppError::validation(vec![e]))?,
                ),
                None => left,
            };
            if !["paid", "partially_refunded"].contains(&invoice.status.as_str())
                || minor > left
                || minor <= 0
            {
                return Err(AppError::conflict(
                    "not_refundable",
                    format!(
                        "Invoice {number} is {} with {} left to refund.",
                        invoice.status,
                        Money::from_minor(left, currency).display()
                    ),
                ));
            }
            let payment = payments::succeeded_for_invoice(c, &invoice.id)?.ok_or_else(|| {
                AppError::conflict("not_refundable", "The invoice has no payment to refund.")
            })?;
            let now = db::now();
            // Money paid from the prepaid account can only go back there, whatever the ceiling;
            // money paid otherwise goes there only within it.
            let from_prepaid = payment.method == "prepaid";
            let to = if from_prepaid {
                Destination::Prepaid
            } else {
                to
            };
            let ceiling = if from_prepaid {
                i64::MAX
            } else {
                to_minor(config.prepaid_ceiling)
                    - payments::pending_top_ups_minor(c, &invoice.organization_id)?
            };
            let mut reference = None;
            match to {
                Destination::Prepaid => {
                    let balance = match prepaid::move_balance(
                        c,
                        &invoice.organization_id,
                        &invoice.currency,
                        minor,
                        ceiling,
                        now,
                    )? {
                        prepaid::Moved::To(balance) => balance,
                        prepaid::Moved::OtherCurrency(held) => {
                            return Err(crate::services::prepaid::other_currency(
                                &held,
                                &invoice.currency,
                            ));
                        }
                        prepaid::Moved::OutOfBounds => {
                            return Err(AppError::conflict(
                                "prepaid_ceiling_reached",
                                format!(
                                    "The prepaid account would exceed its ceiling of {}: refund to the original method (--to original).",
                                    Money::new(config.prepaid_ceiling, currency).display()
                                ),
                            ));
                        }
                    };
                    prepaid::append(
                        c,
                        &prepaid::PrepaidTransaction {
                            id: db::new_id("ptx"),
                            organization_id: invoice.organization_id.clone(),
                            kind: "refund".into(),
                            amount_minor: minor,
                            balance_after_minor: balance,
                            currency: invoice.currency.clone(),
                            payment_id: Some(payment.id.clone()),
                            invoice_id: Some(invoice.id.clone()),
                            iban: None,
                            created_by: None,
                            created_at: now,
                        },
                    )?;
                }
                Destination::Original => {
                    let original = payment.gateway_reference.clone().ok_or_else(|| {
                        AppError::conflict(
                            "not_refundable",
                            "The payment has no provider reference.",
                        )
                    })?;
                    reference = Some(
                        gateway
                            .refund(&original, Decimal::new(minor, 2), &invoice.currency)
                            .map_err(crate::services::payments::unavailable)?,
                    );
                }
            }
            if !invoices::add_refund(c, &invoice.id, minor, now)? {
                return Err(AppError::conflict(
                    "not_refundable",
                    "The invoice changed meanwhile; retry.",
                ));
            }
            payments::add_refund(c, &payment.id, minor)?;
            let refunded = Money::from_minor(minor, currency);
            crate::services::payments::send_receipt(
                c,
                &config,
                "refund_receipt",
                &payment.created_by,
                &invoice.organization_id,
                serde_json::json!({
                    "invoice_number": invoice.number,
                    "amount": refunded.display(),
                    "destination": if to == Destination::Prepaid { "prepaid" } else { "original" },
                }),
            )?;
            activity::record(
                c,
                &Origin::operator("billing refund"),
                Event {
                    action: "invoice.refunded",
                    organization: Some(&invoice.organization_id),
                    subject: Some(&payment.created_by),
                    details: serde_json::json!({
                        "invoice_id": invoice.id,
                        "invoice_number": invoice.number,
                        "amount": refunded,
                        "to": if to == Destination::Prepaid { "prepaid" } else { "original" },
                        "provider_reference": reference,
                    }),
                    ..Default::default()
                },
            )?;
            Ok((refunded, to))
        })
    })
    .await
}
