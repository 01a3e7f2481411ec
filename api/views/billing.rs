//! Billing as the API shows it: offers, products, orders, invoices, payments, payment methods
//! and the prepaid account. Money is always `{"amount": "12.50", "currency": "CHF"}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::utc;
use crate::catalog::{Offer, Prices};
use crate::domain::billing::period_name;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;
use crate::models::invoices::{Invoice, InvoiceLine};
use crate::models::orders::Order;
use crate::models::payment_methods::PaymentMethod;
use crate::models::payments::Payment;
use crate::models::prepaid::PrepaidTransaction;
use crate::models::products::Product;

fn money(minor: i64, currency: &str) -> Money {
    Money::from_minor(minor, Currency::from_code(currency))
}

/// The price of one billing period, in each currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodPrice {
    /// ISO 8601 duration: `P1M`, `P3M`, `P1Y` … `P10Y`.
    pub billing_period: &'static str,
    pub prices: Vec<Money>,
}

fn period_prices(p: &BTreeMap<i32, Prices>) -> Vec<PeriodPrice> {
    p.iter()
        .map(|(m, pr)| PeriodPrice {
            billing_period: period_name(*m),
            prices: vec![
                Money::new(pr.chf, Currency::Chf),
                Money::new(pr.eur, Currency::Eur),
            ],
        })
        .collect()
}

/// A quantity that can be added to an offer (users, storage…).
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferOptionView {
    pub name: String,
    pub description: String,
    /// Units in the offer's price.
    pub included: i64,
    pub max: i64,
    /// Price of each unit beyond `included`, per period, before VAT.
    pub prices: Vec<PeriodPrice>,
}

/// An offer of the catalogue; prices are before VAT.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "domain-ch", "kind": "domain", "name": ".ch domain name",
    "description": "One .ch domain name, with DNS and redirections.", "vat_category": "standard",
    "prices": [{"billing_period": "P1Y", "prices": [{"amount": "11.00", "currency": "CHF"}, {"amount": "10.45", "currency": "EUR"}]}],
    "options": []
}))]
pub struct OfferView {
    pub id: String,
    /// `domain`, `web_hosting`, `site_creator`, `cloud_server`, `public_cloud`, `ksuite`, `mail`,
    /// `kdrive`, `swiss_backup`, `streaming_radio`, `streaming_video`, `newsletter`,
    /// `ssl_certificate`.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// `standard`, `reduced` or `exempt`: the VAT rate then follows the customer's country.
    pub vat_category: String,
    pub prices: Vec<PeriodPrice>,
    pub options: Vec<OfferOptionView>,
}

impl From<&Offer> for OfferView {
    fn from(o: &Offer) -> Self {
        Self {
            id: o.id.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            description: o.description.clone(),
            vat_category: o.vat_category.clone(),
            prices: period_prices(&o.prices),
            options: o
                .options
                .iter()
                .map(|x| OfferOptionView {
                    name: x.name.clone(),
                    description: x.description.clone(),
                    included: x.included,
                    max: x.max,
                    prices: period_prices(&x.prices),
                })
                .collect(),
        }
    }
}

/// The catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "domain-ch", "kind": "domain", "name": ".ch domain name",
    "description": "One .ch domain name, with DNS and redirections.", "vat_category": "standard",
    "prices": [{"billing_period": "P1Y", "prices": [{"amount": "11.00", "currency": "CHF"}, {"amount": "10.45", "currency": "EUR"}]}],
    "options": []
}]}))]
pub struct OfferList {
    pub data: Vec<OfferView>,
}

/// A product of the organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "offer_id": "ksuite-pro", "kind": "ksuite",
    "name": "kSuite Pro", "billing_period": "P1Y", "options": {"users": 25},
    "status": "active", "auto_renew": false, "price": {"amount": "744.00", "currency": "CHF"},
    "order_id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11",
    "started_at": "2026-11-26T09:00:00Z", "expires_at": "2027-11-26T09:00:00Z",
    "created_at": "2026-11-26T08:59:00Z"
}))]
pub struct ProductView {
    pub id: String,
    pub offer_id: String,
    pub kind: String,
    pub name: String,
    pub billing_period: &'static str,
    /// Quantities of the offer's options (users, storage…).
    #[schema(value_type = Object)]
    pub options: BTreeMap<String, i64>,
    /// `pending_payment`, `active`, `expired`, `suspended`, `cancellation_pending`, `cancelled`.
    pub status: String,
    pub auto_renew: bool,
    /// One period's price, options included, before VAT.
    pub price: Money,
    pub order_id: String,
    pub started_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.clone(),
            offer_id: p.offer_id.clone(),
            kind: p.kind.clone(),
            name: p.name.clone(),
            billing_period: period_name(p.period_months),
            options: serde_json::from_str(&p.options).unwrap_or_default(),
            status: p.status.clone(),
            auto_renew: p.auto_renew,
            price: money(p.price_minor, &p.currency),
            order_id: p.order_id.clone(),
            started_at: p.started_at.map(utc),
            expires_at: p.expires_at.map(utc),
            created_at: utc(p.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct ProductList {
    pub data: Vec<ProductView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Where to send a bank transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferInstructions {
    pub iban: &'static str,
    pub beneficiary: &'static str,
    /// Quote it on the transfer: it matches the money to the invoice.
    pub reference: String,
}

/// A payment (of an invoice or a top-up).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pay_01936d7a6b2f7c3e9d4a5b6c7d8e9f12", "status": "succeeded", "method": "payment_method",
    "payment_method_id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", "amount": {"amount": "58.37", "currency": "CHF"},
    "failure_code": null, "bank_transfer": null,
    "created_at": "2026-11-26T09:00:00Z", "settled_at": "2026-11-26T09:00:01Z"
}))]
pub struct PaymentView {
    pub id: String,
    /// `pending` (waiting for the provider), `succeeded`, `failed`.
    pub status: String,
    /// `prepaid`, `payment_method`, `bank_transfer`.
    pub method: String,
    pub payment_method_id: Option<String>,
    pub amount: Money,
    /// Why it failed: the provider's code (`card_declined`, `insufficient_funds`, …);
    /// `superseded` for a bank transfer replaced by another payment or by the order's expiry;
    /// `expired` for a charge the provider left unconfirmed past `LEMAN_PAYMENT_PENDING_DAYS`.
    /// Money that still arrives for those is credited to the prepaid account
    /// (`superseded_credited`, `expired_credited`).
    pub failure_code: Option<String>,
    /// For bank transfers: where to send the money.
    pub bank_transfer: Option<TransferInstructions>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// Our account that bank transfers go to.
pub const PROVIDER_IBAN: &str = "CH93 0076 2011 6238 5295 7";

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id.clone(),
            status: p.status.clone(),
            method: p.method.clone(),
            payment_method_id: p.payment_method_id.clone(),
            amount: money(p.amount_minor, &p.currency),
            failure_code: p.failure_code.clone(),
            bank_transfer: (p.method == "bank_transfer").then(|| TransferInstructions {
                iban: PROVIDER_IBAN,
                beneficiary: "Leman SA, Genève",
                reference: p.gateway_reference.clone().unwrap_or_default(),
            }),
            created_at: utc(p.created_at),
            settled_at: p.settled_at.map(utc),
        }
    }
}

/// One line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineView {
    pub position: i32,
    pub description: String,
    pub product_id: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    /// Percent, e.g. `"8.1"`.
    pub vat_rate: String,
    /// quantity × unit price.
    pub net: Money,
    /// net × rate, rounded to the cent (half away from zero).
    pub vat: Money,
    pub total: Money,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
}

/// Who the invoice is addressed to, as it was when issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceCustomer {
    pub name: String,
    pub address: String,
    pub country: String,
    pub vat_number: Option<String>,
}

/// An invoice. Issued invoices never change; only their status moves.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", "number": "2026-000042", "status": "paid",
    "currency": "CHF",
    "customer": {"name": "Müller Design Sàrl", "address": "Rue du Rhône 12\n1204 Genève\nCH", "country": "CH", "vat_number": null},
    "lines": [{"position": 1, "description": ".ch domain name (P1Y)", "product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "quantity": 1,
               "unit_price": {"amount": "11.00", "currency": "CHF"}, "vat_rate": "8.1",
               "net": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
               "total": {"amount": "11.89", "currency": "CHF"},
               "period_start": "2026-11-26T09:00:00Z", "period_end": "2027-11-26T09:00:00Z"}],
    "subtotal": {"amount": "11.00", "currency": "CHF"}, "vat": {"amount": "0.89", "currency": "CHF"},
    "total": {"amount": "11.89", "currency": "CHF"}, "refunded": {"amount": "0.00", "currency": "CHF"},
    "order_id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11",
    "issued_at": "2026-11-26T09:00:00Z", "due_at": "2026-12-26T09:00:00Z",
    "paid_at": "2026-11-26T09:00:01Z", "cancelled_at": null
}))]
pub struct InvoiceView {
    pub id: String,
    /// Yearly and gapless per issuer: `2026-000001`.
    pub number: String,
    /// `open`, `paid`, `partially_refunded`, `refunded`, `cancelled`.
    pub status: String,
    pub currency: Currency,
    pub customer: InvoiceCustomer,
    pub lines: Vec<InvoiceLineView>,
    /// Sum of the lines' net amounts.
    pub subtotal: Money,
    /// Sum of the lines' VAT.
    pub vat: Money,
    /// Sum of the lines' totals.
    pub total: Money,
    pub refunded: Money,
    pub order_id: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl InvoiceView {
    pub fn new(i: &Invoice, lines: &[InvoiceLine]) -> Self {
        let c = i.currency.as_str();
        Self {
            id: i.id.clone(),
            number: i.number.clone(),
            status: i.status.clone(),
            currency: Currency::from_code(&i.currency),
            customer: InvoiceCustomer {
                name: i.customer_name.clone(),
                address: i.customer_address.clone(),
                country: i.customer_country.clone(),
                vat_number: i.customer_vat_number.clone(),
            },
            lines: lines
                .iter()
                .map(|l| InvoiceLineView {
                    position: l.position,
                    description: l.description.clone(),
                    product_id: l.product_id.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price_minor, c),
                    vat_rate: l.vat_rate.clone(),
                    net: money(l.net_minor, c),
                    vat: money(l.vat_minor, c),
                    total: money(l.total_minor, c),
                    period_start: l.period_start.map(utc),
                    period_end: l.period_end.map(utc),
                })
                .collect(),
            subtotal: money(i.subtotal_minor, c),
            vat: money(i.vat_minor, c),
            total: money(i.total_minor, c),
            refunded: money(i.refunded_minor, c),
            order_id: i.order_id.clone(),
            issued_at: utc(i.issued_at),
            due_at: utc(i.due_at),
            paid_at: i.paid_at.map(utc),
            cancelled_at: i.cancelled_at.map(utc),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct InvoiceList {
    pub data: Vec<InvoiceView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// An order and what it bought.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "ord_01936d7a6b2f7c3e9d4a5b6c7d8e9f11", "status": "paid",
    "invoice_id": "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13", "total": {"amount": "11.89", "currency": "CHF"},
    "products": [], "payment": null,
    "expires_at": "2026-12-26T09:00:00Z", "paid_at": "2026-11-26T09:00:01Z", "cancelled_at": null,
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct OrderView {
    pub id: String,
    /// `open` (waiting for payment), `paid`, `cancelled` (expired unpaid).
    pub status: String,
    pub invoice_id: String,
    /// The invoice's total, VAT included.
    pub total: Money,
    pub products: Vec<ProductView>,
    /// The payment made with this request, if one was asked for.
    pub payment: Option<PaymentView>,
    /// An open order not paid by then is cancelled with its invoice.
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl OrderView {
    pub fn new(o: &Order, products: &[Product], payment: Option<&Payment>) -> Self {
        Self {
            id: o.id.clone(),
            status: o.status.clone(),
            invoice_id: o.invoice_id.clone(),
            total: money(o.total_minor, &o.currency),
            products: products.iter().map(ProductView::from).collect(),
            payment: payment.map(PaymentView::from),
            expires_at: utc(o.expires_at),
            paid_at: o.paid_at.map(utc),
            cancelled_at: o.cancelled_at.map(utc),
            created_at: utc(o.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct OrderList {
    pub data: Vec<OrderView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A card as we keep it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    /// `visa` or `mastercard`.
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
}

/// A way to pay: the prepaid account (always listed, id `prepaid`) or a saved method.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", "type": "card", "label": "Visa ····4242",
    "is_default": true, "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
    "iban": null, "balance": null, "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct PaymentMethodView {
    pub id: String,
    /// `prepaid`, `card`, `twint`, `postfinance`, `paypal`, `ebill`, `bank_transfer`.
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub is_default: bool,
    pub card: Option<CardView>,
    /// For bank accounts, masked.
    pub iban: Option<String>,
    /// For the prepaid account: its balance.
    pub balance: Option<Money>,
    pub created_at: Option<DateTime<Utc>>,
}

impl PaymentMethodView {
    pub fn prepaid(balance: Money, is_default: bool) -> Self {
        Self {
            id: "prepaid".into(),
            kind: "prepaid".into(),
            label: "Prepaid account".into(),
            is_default,
            card: None,
            iban: None,
            balance: Some(balance),
            created_at: None,
        }
    }

    pub fn saved(m: &PaymentMethod, is_default: bool) -> Self {
        Self {
            id: m.id.clone(),
            kind: m.kind.clone(),
            label: m.label.clone(),
            is_default,
            card: match (
                &m.card_brand,
                &m.card_last4,
                m.card_exp_month,
                m.card_exp_year,
            ) {
                (Some(brand), Some(last4), Some(exp_month), Some(exp_year)) => Some(CardView {
                    brand: brand.clone(),
                    last4: last4.clone(),
                    exp_month,
                    exp_year,
                }),
                _ => None,
            },
            iban: m.iban.as_deref().map(crate::services::prepaid::mask_iban),
            balance: None,
            created_at: Some(utc(m.created_at)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"id": "prepaid", "type": "prepaid", "label": "Prepaid account", "is_default": false, "card": null, "iban": null, "balance": {"amount": "120.00", "currency": "CHF"}, "created_at": null},
    {"id": "pm_01936d7a6b2f7c3e9d4a5b6c7d8e9f05", "type": "card", "label": "Visa ····4242", "is_default": true, "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}, "iban": null, "balance": null, "created_at": "2026-11-26T09:00:00Z"}
]}))]
pub struct PaymentMethodList {
    /// The prepaid account first, then saved methods, oldest first.
    pub data: Vec<PaymentMethodView>,
}

/// The prepaid account and its limits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "balance": {"amount": "120.00", "currency": "CHF"},
    "top_up_min": {"amount": "10.00", "currency": "CHF"}, "top_up_max": {"amount": "10000.00", "currency": "CHF"},
    "ceiling": {"amount": "50000.00", "currency": "CHF"}
}))]
pub struct PrepaidAccountView {
    pub balance: Money,
    pub top_up_min: Money,
    pub top_up_max: Money,
    /// The balance never exceeds it.
    pub ceiling: Money,
}

/// One movement of the prepaid account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "ptx_01936d7a6b2f7c3e9d4a5b6c7d8e9f14", "kind": "top_up",
    "amount": {"amount": "100.00", "currency": "CHF"}, "balance_after": {"amount": "120.00", "currency": "CHF"},
    "payment_id": "pay_01936d7a6b2f7c3e9d4a5b6c7d8e9f12", "invoice_id": null, "iban": null,
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct PrepaidTransactionView {
    pub id: String,
    /// `top_up`, `payment`, `withdrawal`, `refund`.
    pub kind: String,
    /// Positive in, negative out.
    pub amount: Money,
    pub balance_after: Money,
    pub payment_id: Option<String>,
    pub invoice_id: Option<String>,
    /// For withdrawals: the account, masked.
    pub iban: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&PrepaidTransaction> for PrepaidTransactionView {
    fn from(t: &PrepaidTransaction) -> Self {
        Self {
            id: t.id.clone(),
            kind: t.kind.clone(),
            amount: money(t.amount_minor, &t.currency),
            balance_after: money(t.balance_after_minor, &t.currency),
            payment_id: t.payment_id.clone(),
            invoice_id: t.invoice_id.clone(),
            iban: t.iban.clone(),
            created_at: utc(t.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct PrepaidTransactionList {
    pub data: Vec<PrepaidTransactionView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
