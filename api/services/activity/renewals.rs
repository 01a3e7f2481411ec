//! The renewal events (R33–R36): renewals ordered on one invoice, a pro forma issued for a bank
//! transfer, a pro forma lapsed unpaid.

use serde_json::json;

use super::Event;
use crate::domain::billing::period_name;
use crate::domain::events::ActivityKind;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::models::invoices::Invoice;
use crate::models::orders::Order;
use crate::models::pro_formas::ProForma;
use crate::models::renewals::Renewal;

fn terms(renewals: &[Renewal]) -> serde_json::Value {
    renewals
        .iter()
        .map(|r| {
            json!({
                "product_id": r.product_id,
                "billing_period": period_name(r.period_months),
                "period_start": r.period_start.and_utc(),
                "period_end": r.period_end.and_utc(),
            })
        })
        .collect()
}

impl<'a> Event<'a> {
    /// A customer (or the scheduler, `user_id` the one it renews for) renewed products on one
    /// order and invoice.
    pub fn renewal_ordered(
        user_id: &'a str,
        order: &'a Order,
        invoice: &Invoice,
        renewals: &[Renewal],
        automatic: bool,
    ) -> Self {
        let currency = Currency::from_code(&invoice.currency);
        Event::new(ActivityKind::RenewalOrdered, user_id)
            .organization(&order.organization_id)
            .details(json!({
                "order_id": order.id,
                "invoice_id": invoice.id,
                "invoice_number": invoice.number,
                "renewals": terms(renewals),
                "automatic": automatic,
                "total": Money::from_minor(invoice.total_minor, currency),
            }))
    }

    /// Renewals to be paid by bank transfer: a pro forma, no invoice yet.
    pub fn pro_forma_issued(
        user_id: &'a str,
        pro_forma: &'a ProForma,
        renewals: &[Renewal],
    ) -> Self {
        let currency = Currency::from_code(&pro_forma.currency);
        Event::new(ActivityKind::ProFormaIssued, user_id)
            .organization(&pro_forma.organization_id)
            .details(json!({
                "pro_forma_id": pro_forma.id,
                "pro_forma_number": pro_forma.number,
                "transfer_reference": pro_forma.transfer_reference,
                "renewals": terms(renewals),
                "total": Money::from_minor(pro_forma.total_minor, currency),
            }))
    }

    /// By the job: the transfer did not arrive in time; `voided` renewals.
    pub fn pro_forma_lapsed(
        pro_forma: &'a ProForma,
        superseded_transfer: Option<&str>,
        voided: usize,
    ) -> Self {
        Event::by(ActivityKind::ProFormaLapsed, None)
            .organization(&pro_forma.organization_id)
            .details(json!({
                "pro_forma_id": pro_forma.id,
                "pro_forma_number": pro_forma.number,
                "superseded_transfer": superseded_transfer,
                "voided_renewals": voided,
            }))
    }

    /// A pro forma made on request (R28): priced products and offers, nothing ordered.
    pub fn pro_forma_created(
        user_id: &'a str,
        pro_forma: &'a ProForma,
        items: &serde_json::Value,
    ) -> Self {
        let currency = Currency::from_code(&pro_forma.currency);
        Event::new(ActivityKind::ProFormaCreated, user_id)
            .organization(&pro_forma.organization_id)
            .details(json!({
                "pro_forma_id": pro_forma.id,
                "pro_forma_number": pro_forma.number,
                "items": items,
                "total": Money::from_minor(pro_forma.total_minor, currency),
            }))
    }

    /// By the provider's webhook: a bank transfer quoting a pro forma made on request arrived
    /// and `payment` credited it to the prepaid account (`transaction_id`, the balance after it);
    /// `settled`: the pro forma's first settlement (a later transfer quoting it is credited too).
    pub fn pro_forma_credited(
        pro_forma: &'a ProForma,
        payment: &'a crate::models::payments::Payment,
        transaction_id: &str,
        balance_minor: i64,
        settled: bool,
    ) -> Self {
        let currency = Currency::from_code(&payment.currency);
        Event::by(ActivityKind::ProFormaCredited, None)
            .organization(&pro_forma.organization_id)
            .details(json!({
                "pro_forma_id": pro_forma.id,
                "pro_forma_number": pro_forma.number,
                "transfer_reference": pro_forma.transfer_reference,
                "payment_id": payment.id,
                "transaction_id": transaction_id,
                "amount": Money::from_minor(payment.amount_minor, currency),
                "balance": Money::from_minor(balance_minor, currency),
                "settled": settled,
            }))
    }
}
