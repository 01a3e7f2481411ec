//! Renewals as the API shows them: the renewals list (R33), the terms an order renews, and pro
//! forma invoices (R34).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::billing::money;
use super::payments::PaymentView;
use super::utc;
use crate::domain::billing::period_name;
use crate::domain::billing_states::ProFormaStatus;
use crate::domain::billing_states::{ChangeStatus, ProductKind, ProductStatus};
use crate::domain::money::Money;
use crate::models::payments::Payment;
use crate::models::pro_formas::ProForma;
use crate::models::renewals::Renewal;
use crate::services::renewals::{DueItem, ProFormaLine};

/// The product a renewal is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewalProduct {
    pub id: String,
    pub name: String,
    pub kind: ProductKind,
    pub status: ProductStatus,
}

/// A period the product can be renewed for.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewalPeriod {
    /// `P1M`, `P3M`, `P1Y` … `P10Y`.
    pub billing_period: &'static str,
    /// One period, options included, before VAT, in the organisation's currency.
    pub price: Money,
    /// The expiry once this renewal is paid (the current expiry plus the period).
    pub renews_to: NaiveDate,
}

/// Whether the product can change to monthly billing now, and from when it would apply.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthlyChange {
    /// The offer bills monthly and one month reaches its minimum amount.
    pub possible: bool,
    /// The current term's end: months already paid are never billed again (R38).
    pub from: Option<NaiveDate>,
}

/// A renewal awaiting payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingRenewal {
    /// The order whose invoice pays it (null while a pro forma awaits a bank transfer).
    pub order_id: Option<String>,
    pub pro_forma_id: Option<String>,
    /// The period chosen: the product's billing period once paid (R36).
    pub billing_period: &'static str,
    pub renews_to: NaiveDate,
}

/// A product in the renewals list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "product": {"id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "name": "Domain .ch", "kind": "domain", "status": "active"},
    "expires_at": "2027-01-15T09:00:00Z", "auto_renew": false, "billing_period": "P1Y",
    "periods": [
        {"billing_period": "P1Y", "price": {"amount": "13.00", "currency": "CHF"}, "renews_to": "2028-01-15"},
        {"billing_period": "P2Y", "price": {"amount": "26.00", "currency": "CHF"}, "renews_to": "2029-01-15"}
    ],
    "latest_renewal_date": "2036-12-03", "pending_renewal": null,
    "monthly": {"possible": false, "from": null}
}))]
pub struct RenewalItem {
    pub product: RenewalProduct,
    /// When the current term ends (in the past for an expired product still renewable).
    pub expires_at: DateTime<Utc>,
    pub auto_renew: bool,
    /// The current billing period.
    pub billing_period: &'static str,
    /// Every period it can be renewed for now (within the horizon, at or above the minimum).
    pub periods: Vec<RenewalPeriod>,
    /// The latest date it may be renewed to (domains: 10 years of registration).
    pub latest_renewal_date: NaiveDate,
    /// A renewal ordered and not paid yet: another cannot be ordered until it is paid or lapses.
    pub pending_renewal: Option<PendingRenewal>,
    pub monthly: MonthlyChange,
}

impl From<&DueItem> for RenewalItem {
    fn from(d: &DueItem) -> Self {
        let p = &d.product;
        Self {
            product: RenewalProduct {
                id: p.id.clone(),
                name: p.name.clone(),
                kind: p.kind,
                status: p.status,
            },
            expires_at: utc(p.expires_at.unwrap_or_default()),
            auto_renew: p.auto_renew,
            billing_period: period_name(p.period_months),
            periods: d
                .periods
                .iter()
                .map(|o| RenewalPeriod {
                    billing_period: period_name(o.months),
                    price: o.price,
                    renews_to: o.renews_to.date(),
                })
                .collect(),
            latest_renewal_date: d.latest.date(),
            pending_renewal: d.pending.as_ref().map(|r| PendingRenewal {
                order_id: r.order_id.clone(),
                pro_forma_id: r.pro_forma_id.clone(),
                billing_period: period_name(r.period_months),
                renews_to: r.period_end.date(),
            }),
            monthly: MonthlyChange {
                possible: d.monthly_from.is_some(),
                from: d.monthly_from.map(|t| t.date()),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [], "next_cursor": null}))]
pub struct RenewalList {
    pub data: Vec<RenewalItem>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One product's term an order (or a pro forma) renews.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "product_id": "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10", "billing_period": "P2Y",
    "period_start": "2027-01-15T09:00:00Z", "period_end": "2029-01-15T09:00:00Z",
    "price": {"amount": "26.00", "currency": "CHF"}, "status": "pending"
}))]
pub struct RenewalTerm {
    pub product_id: String,
    /// The period chosen: the product's billing period once paid (R36).
    pub billing_period: &'static str,
    /// The product's expiry when the renewal was made.
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// One period, options included, before VAT.
    pub price: Money,
    /// `pending` until paid, `applied` once the expiry moved, `voided` when its order or pro
    /// forma lapsed unpaid.
    pub status: ChangeStatus,
}

impl RenewalTerm {
    pub fn of(r: &Renewal, currency: &str) -> Self {
        Self {
            product_id: r.product_id.clone(),
            billing_period: period_name(r.period_months),
            period_start: utc(r.period_start),
            period_end: utc(r.period_end),
            price: money(r.price_minor, currency),
            status: r.status,
        }
    }
}

/// A line of a pro forma, as it will be invoiced.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProFormaLineView {
    pub description: String,
    pub product_id: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    /// Percent.
    #[schema(example = "8.1")]
    pub vat_rate: String,
    pub net: Money,
    pub vat: Money,
    pub total: Money,
    pub billing_period: &'static str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// A pro forma invoice (R34): what a bank transfer will pay, numbered `PF-YYYY-NNNNNN` outside
/// the invoice sequence and of no legal value. The numbered invoice is issued when the money
/// arrives (`invoice_id`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pf_01936d7a6b2f7c3e9d4a5b6c7d8e9f30", "number": "PF-2026-000001",
    "status": "awaiting_transfer", "legal_value": false,
    "note": "Pro forma invoice: no legal, tax or accounting value. The invoice is issued when the payment arrives.",
    "subtotal": {"amount": "26.00", "currency": "CHF"}, "vat": {"amount": "2.11", "currency": "CHF"},
    "total": {"amount": "28.11", "currency": "CHF"}, "lines": [], "renewals": [],
    "bank_transfer": {"iban": "CH93 0076 2011 6238 5295 7", "beneficiary": "Leman SA, Genève", "reference": "LMN-PF-2026-000001-9F31AB"},
    "payment": null, "order_id": null, "invoice_id": null,
    "created_at": "2026-12-03T09:00:00Z", "expires_at": "2027-01-02T09:00:00Z"
}))]
pub struct ProFormaView {
    pub id: String,
    pub number: String,
    /// `awaiting_transfer`, `paid` (its invoice issued), `lapsed` (unpaid in time: its
    /// renewals voided, or a pro forma made on request past its validity; money that still
    /// arrives goes to the prepaid account) or `credited` (made on request: a transfer quoting
    /// it arrived and was credited in full to the prepaid account — nothing ordered or
    /// invoiced; `payment` is the one that settled it).
    pub status: ProFormaStatus,
    /// Always false: a pro forma is not an invoice.
    pub legal_value: bool,
    pub note: &'static str,
    pub subtotal: Money,
    pub vat: Money,
    pub total: Money,
    pub lines: Vec<ProFormaLineView>,
    pub renewals: Vec<RenewalTerm>,
    /// Where to send the transfer, and the reference to quote.
    pub bank_transfer: Option<super::payments::TransferInstructions>,
    /// The awaited transfer (with the request that made it); for a `credited` pro forma, the
    /// first transfer that arrived quoting it (a top-up of the prepaid account).
    pub payment: Option<PaymentView>,
    /// The order and invoice issued when the transfer arrived.
    pub order_id: Option<String>,
    pub invoice_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Unpaid by then, it lapses.
    pub expires_at: DateTime<Utc>,
}

pub const PRO_FORMA_NOTE: &str = "Pro forma invoice: no legal, tax or accounting value. The invoice is issued when the payment arrives.";

impl ProFormaView {
    pub fn new(
        p: &ProForma,
        lines: &[ProFormaLine],
        renewals: &[Renewal],
        payment: Option<&Payment>,
        now: chrono::NaiveDateTime,
    ) -> Self {
        let c = p.currency.as_str();
        let status = if p.invoice_id.is_some() {
            ProFormaStatus::Paid
        } else if p.credited_payment_id.is_some() {
            // Made on request, its transfer arrived (even after it lapsed): credited.
            ProFormaStatus::Credited
        } else if (renewals.is_empty()
            || renewals.iter().any(|r| r.status == ChangeStatus::Pending))
            && p.expires_at > now
        {
            // A pro forma made on request (no renewals) holds its prices until it expires.
            ProFormaStatus::AwaitingTransfer
        } else {
            ProFormaStatus::Lapsed
        };
        Self {
            id: p.id.clone(),
            number: p.number.clone(),
            status,
            legal_value: false,
            note: PRO_FORMA_NOTE,
            subtotal: money(p.subtotal_minor, c),
            vat: money(p.vat_minor, c),
            total: money(p.total_minor, c),
            lines: lines
                .iter()
                .map(|l| ProFormaLineView {
                    description: l.description.clone(),
                    product_id: l.product_id.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price_minor, c),
                    vat_rate: l.vat_rate.clone(),
                    net: money(l.net_minor, c),
                    vat: money(l.vat_minor, c),
                    total: money(l.total_minor, c),
                    billing_period: period_name(l.period_months),
                    period_start: utc(l.period_start),
                    period_end: utc(l.period_end),
                })
                .collect(),
            renewals: renewals.iter().map(|r| RenewalTerm::of(r, c)).collect(),
            bank_transfer: p.transfer_reference.as_ref().map(|reference| {
                super::payments::TransferInstructions {
                    iban: super::payments::PROVIDER_IBAN,
                    beneficiary: "Leman SA, Genève",
                    reference: reference.clone(),
                }
            }),
            payment: payment.map(|pay| {
                let mut view = PaymentView::from(pay);
                // A credited transfer quoted the pro forma's own reference.
                if let (Some(t), Some(reference)) = (&mut view.bank_transfer, &p.transfer_reference)
                    && t.reference.is_empty()
                {
                    t.reference = reference.clone();
                }
                view
            }),
            order_id: p.order_id.clone(),
            invoice_id: p.invoice_id.clone(),
            created_at: utc(p.created_at),
            expires_at: utc(p.expires_at),
        }
    }
}
