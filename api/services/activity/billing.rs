//! The billing events (orders, invoices, payments, payment methods, the prepaid account), named:
//! each builds its details in one place. The JSON they write is the one written before they
//! existed (the hash chain covers it).

use serde_json::json;

use super::Event;
use crate::domain::billing_states::RefundDestination;
use crate::domain::events::ActivityKind;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::models::credit_notes::CreditNote;
use crate::models::invoices::Invoice;
use crate::models::orders::Order;
use crate::models::payment_methods::PaymentMethod;
use crate::models::payments::Payment;
use crate::models::products::Product;

impl<'a> Event<'a> {
    /// `products`: the ones the order created.
    pub fn order_created(
        user_id: &'a str,
        org_id: &'a str,
        order: &Order,
        invoice: &Invoice,
        products: &[Product],
        currency: Currency,
    ) -> Self {
        Event::new(ActivityKind::OrderCreated, user_id)
            .organization(org_id)
            .details(json!({
                "order_id": order.id,
                "invoice_id": invoice.id,
                "invoice_number": invoice.number,
                "products": products.iter().map(|p| &p.id).collect::<Vec<_>>(),
                "total": Money::from_minor(invoice.total_minor, currency),
            }))
    }

    /// By the job: `superseded_transfer`, the announced transfer it marked failed.
    pub fn order_expired(order: &'a Order, superseded_transfer: Option<&Payment>) -> Self {
        Event::by(ActivityKind::OrderExpired, None)
            .organization(&order.organization_id)
            .details(json!({
                "order_id": order.id,
                "invoice_id": order.invoice_id,
                "superseded_transfer": superseded_transfer.map(|t| &t.id),
            }))
    }

    /// `method`: the label of how it was paid.
    pub fn invoice_paid(
        payment: &'a Payment,
        invoice: &Invoice,
        method: &str,
        currency: Currency,
    ) -> Self {
        Event::new(ActivityKind::InvoicePaid, &payment.created_by)
            .organization(&payment.organization_id)
            .details(json!({
                "invoice_id": invoice.id,
                "invoice_number": invoice.number,
                "payment_id": payment.id,
                "method": method,
                "amount": Money::from_minor(invoice.total_minor, currency),
            }))
    }

    /// The requester asked for an export of the organisation's invoices (task `task_id`);
    /// `params`: its format and filters.
    pub fn invoice_export_requested(
        user_id: &'a str,
        org_id: &'a str,
        task_id: &str,
        params: serde_json::Value,
    ) -> Self {
        Event::new(ActivityKind::InvoiceExportRequested, user_id)
            .organization(org_id)
            .details(json!({ "task_id": task_id, "export": params }))
    }

    /// By the operator; the payer is its subject.
    pub fn invoice_refunded(
        invoice: &'a Invoice,
        payment: &'a Payment,
        refunded: Money,
        to: RefundDestination,
        provider_reference: Option<&str>,
        credit_note: &CreditNote,
    ) -> Self {
        Event::by(ActivityKind::InvoiceRefunded, None)
            .organization(&invoice.organization_id)
            .subject(&payment.created_by)
            .details(json!({
                "invoice_id": invoice.id,
                "invoice_number": invoice.number,
                "amount": refunded,
                "to": to.as_str(),
                "provider_reference": provider_reference,
                "credit_note_id": credit_note.id,
                "credit_note_number": credit_note.number,
            }))
    }

    pub fn payment_failed(payment: &'a Payment, failure_code: Option<&str>) -> Self {
        Event::new(ActivityKind::PaymentFailed, &payment.created_by)
            .organization(&payment.organization_id)
            .details(json!({
                "payment_id": payment.id,
                "invoice_id": payment.invoice_id,
                "purpose": payment.purpose,
                "failure_code": failure_code,
            }))
    }

    pub fn payment_method_added(user_id: &'a str, org_id: &'a str, row: &PaymentMethod) -> Self {
        Event::new(ActivityKind::PaymentMethodAdded, user_id)
            .organization(org_id)
            .details(json!({"payment_method_id": row.id, "type": row.kind}))
    }

    pub fn payment_method_removed(user_id: &'a str, org_id: &'a str, id: &str) -> Self {
        Event::new(ActivityKind::PaymentMethodRemoved, user_id)
            .organization(org_id)
            .details(json!({"payment_method_id": id}))
    }

    /// `id`: a saved method's, or `prepaid`.
    pub fn payment_method_made_default(user_id: &'a str, org_id: &'a str, id: &str) -> Self {
        Event::new(ActivityKind::PaymentMethodMadeDefault, user_id)
            .organization(org_id)
            .details(json!({"payment_method_id": id}))
    }

    /// A top-up `payment` arrived; `balance_minor`: the balance after it.
    pub fn prepaid_topped_up(payment: &'a Payment, currency: Currency, balance_minor: i64) -> Self {
        Event::new(ActivityKind::PrepaidToppedUp, &payment.created_by)
            .organization(&payment.organization_id)
            .details(json!({
                "payment_id": payment.id,
                "amount": Money::from_minor(payment.amount_minor, currency),
                "balance": Money::from_minor(balance_minor, currency),
            }))
    }

    /// `iban`: masked.
    pub fn prepaid_withdrawn(
        user_id: &'a str,
        org_id: &'a str,
        transaction_id: &str,
        amount: Money,
        balance: Money,
        iban: &str,
    ) -> Self {
        Event::new(ActivityKind::PrepaidWithdrawn, user_id)
            .organization(org_id)
            .details(json!({
                "transaction_id": transaction_id,
                "amount": amount,
                "balance": balance,
                "iban": iban,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    // The details are part of the hash chain: these are the bytes written before the
    // constructors existed.
    #[test]
    fn named_events_write_the_details_written_before() {
        let details = |e: Event<'_>| e.details.to_string();
        assert_eq!(
            details(Event::prepaid_withdrawn(
                "usr_a",
                "org_b",
                "ptx_c",
                Money::new(Decimal::new(1250, 2), Currency::Chf),
                Money::from_minor(-5, Currency::Chf),
                "CH93 **** 2957 5"
            )),
            r#"{"transaction_id":"ptx_c","amount":{"amount":"12.50","currency":"CHF"},"balance":{"amount":"-0.05","currency":"CHF"},"iban":"CH93 **** 2957 5"}"#
        );
        assert_eq!(
            details(Event::payment_method_removed("usr_a", "org_b", "pm_c")),
            r#"{"payment_method_id":"pm_c"}"#
        );
        assert_eq!(
            details(Event::payment_method_made_default(
                "usr_a", "org_b", "prepaid"
            )),
            r#"{"payment_method_id":"prepaid"}"#
        );
    }
}
