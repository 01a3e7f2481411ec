//! Renewals (R31, R33–R36): several products renewed on one order and one invoice, each for the
//! period chosen for it, each line's period starting at the product's current expiry (not
//! today). Paying the order moves each expiry exactly once (`models::renewals::apply`, called
//! from `services::order_paid`): one live renewal per product and term (a unique index), and a
//! compare-and-set on the old expiry. The same order serves a customer's request
//! (`renew_products`) and the scheduler's automatic renewals.

use std::collections::{BTreeMap, HashSet};

use chrono::{Months, NaiveDateTime};
use rust_decimal::Decimal;

use crate::catalog::{Catalog, Offer};
use crate::config::Config;
use crate::db::{self, DbConnection};
use crate::domain::billing::{period_months, period_name};
use crate::domain::billing_states::{ChangeStatus, OrderStatus, ProductStatus};
use crate::domain::invalid;
use crate::domain::money::{Money, to_minor};
use crate::domain::orgs::Currency;
use crate::error::AppError;
use crate::models::invoices::Invoice;
use crate::models::orders::{self, Order};
use crate::models::organizations::Organization;
use crate::models::products::{self, Product};
use crate::models::renewals::{self, Renewal};
use crate::services::orders::{Item, NewLine, issue_invoice, item_lines};

pub const MAX_ITEMS: usize = 50;

/// Statuses a product can be renewed from: running, or lapsed but not yet cancelled.
pub const RENEWABLE: [ProductStatus; 3] = [
    ProductStatus::Active,
    ProductStatus::Expired,
    ProductStatus::Suspended,
];

/// One item as asked for: a product and the period to renew it for.
#[derive(Debug, Clone)]
pub struct ItemInput {
    pub product_id: String,
    pub billing_period: String,
}

/// A checked renewal: the product, its offer, the term it buys and its price.
pub struct Term<'a> {
    pub product: Product,
    pub offer: &'a Offer,
    pub months: i32,
    pub options: BTreeMap<String, i64>,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// The options the next term is billed for: a decrease scheduled for it, or the current ones.
pub fn next_options(p: &Product) -> BTreeMap<String, i64> {
    let raw = p.next_options.as_deref().unwrap_or(&p.options);
    serde_json::from_str(raw).unwrap_or_default()
}

/// The price of one period of `months` with `options` (options included, before VAT).
pub fn period_price(
    offer: &Offer,
    months: i32,
    options: &BTreeMap<String, i64>,
    currency: Currency,
) -> Decimal {
    let item = Item {
        offer,
        months,
        options: options.clone(),
    };
    crate::services::orders::period_price(&item, currency)
}

/// The latest date a product may be renewed to: `horizon_months` from now.
pub fn horizon(offer: &Offer, now: NaiveDateTime) -> NaiveDateTime {
    now.checked_add_months(Months::new(offer.lifecycle.horizon_months as u32))
        .unwrap_or(now)
}

/// Why a period cannot be chosen for a product, if it cannot.
pub fn period_refusal(
    offer: &Offer,
    product: &Product,
    months: i32,
    currency: Currency,
    now: NaiveDateTime,
) -> Option<(&'static str, String)> {
    if !offer.prices.contains_key(&months) {
        let offered: Vec<&str> = offer.prices.keys().map(|m| period_name(*m)).collect();
        return Some((
            "period_not_offered",
            format!("this offer is billed {}", offered.join(", ")),
        ));
    }
    let options = next_options(product);
    if let Some(min) = offer.minimum(months, currency)
        && period_price(offer, months, &options, currency) < min
    {
        return Some((
            "period_below_minimum",
            format!(
                "{} is possible from {} a period",
                period_name(months),
                Money::new(min, currency).display()
            ),
        ));
    }
    let start = product.expires_at?;
    let end = start.checked_add_months(Months::new(months as u32))?;
    let latest = horizon(offer, now);
    if end > latest {
        return Some((
            "beyond_renewal_horizon",
            format!(
                "renewing for {} would run to {}; this product can be renewed up to {}",
                period_name(months),
                end.date(),
                latest.date()
            ),
        ));
    }
    None
}

/// Checks the items against the organisation's products (locked by the caller's
/// `OrgRequest::authorize`): each a renewable product of this organisation, once, for a period
/// its offer has, within the horizon, at or above the period's minimum, with no renewal of the
/// same term pending. Errors point at the item (`/items/{i}/…`).
pub fn check_items<'a>(
    conn: &mut DbConnection,
    catalog: &'a Catalog,
    org: &Organization,
    items: &[ItemInput],
    now: NaiveDateTime,
) -> Result<Vec<Term<'a>>, AppError> {
    let mut errors = Vec::new();
    if items.is_empty() || items.len() > MAX_ITEMS {
        errors.push(invalid(
            "/items",
            "out_of_range",
            format!("give 1 to {MAX_ITEMS} items"),
        ));
    }
    let currency = Currency::from_code(&org.currency);
    let ids: Vec<String> = items.iter().map(|i| i.product_id.clone()).collect();
    let pending: HashSet<String> = renewals::pending_of_products(conn, &ids)?
        .into_iter()
        .map(|r| r.product_id)
        .collect();
    let mut seen = HashSet::new();
    let mut terms = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("/items/{i}/product_id");
        if !seen.insert(item.product_id.as_str()) {
            errors.push(invalid(
                &at,
                "duplicate_item",
                "this product is listed twice",
            ));
            continue;
        }
        // Another organisation's product is the same answer as an unknown one.
        let Some(product) = products::find(conn, &org.id, &item.product_id)? else {
            errors.push(invalid(
                &at,
                "unknown_product",
                "is not a product of this organisation",
            ));
            continue;
        };
        if !RENEWABLE.contains(&product.status) || product.expires_at.is_none() {
            errors.push(invalid(
                &at,
                "product_not_renewable",
                format!("a {} product cannot be renewed", product.status.as_str()),
            ));
            continue;
        }
        if product.bundle_id.is_some() {
            errors.push(invalid(
                &at,
                "bundled_product",
                "this product renews with its bundle",
            ));
            continue;
        }
        if pending.contains(&product.id) {
            errors.push(invalid(
                &at,
                "renewal_pending",
                "a renewal of this product awaits payment: pay or let its order lapse",
            ));
            continue;
        }
        let Some(offer) = catalog.offer(&product.offer_id) else {
            errors.push(invalid(
                &at,
                "offer_withdrawn",
                "this offer is no longer sold",
            ));
            continue;
        };
        let pointer = format!("/items/{i}/billing_period");
        let Some(months) = period_months(&item.billing_period) else {
            errors.push(invalid(
                &pointer,
                "period_not_offered",
                "is not a billing period",
            ));
            continue;
        };
        if let Some((code, detail)) = period_refusal(offer, &product, months, currency, now) {
            errors.push(invalid(&pointer, code, detail));
            continue;
        }
        let start = product.expires_at.unwrap_or(now);
        let end = start
            .checked_add_months(Months::new(months as u32))
            .unwrap_or(start);
        let options = next_options(&product);
        terms.push(Term {
            product,
            offer,
            months,
            options,
            start,
            end,
        });
    }
    if errors.is_empty() {
        Ok(terms)
    } else {
        Err(AppError::validation(errors))
    }
}

/// The invoice lines of checked terms: each product's offer and options for its period, the
/// period starting at its current expiry.
pub fn lines(catalog: &Catalog, org: &Organization, terms: &[Term<'_>]) -> Vec<NewLine> {
    let currency = Currency::from_code(&org.currency);
    let mut out = Vec::new();
    for t in terms {
        let rate = catalog.vat.rate(&org.country, &t.offer.vat_category);
        let item = Item {
            offer: t.offer,
            months: t.months,
            options: t.options.clone(),
        };
        for (description, quantity, unit_price, amounts) in item_lines(&item, currency, rate) {
            out.push(NewLine {
                description: format!("Renewal: {description}"),
                product_id: Some(t.product.id.clone()),
                quantity,
                unit_price,
                vat_rate: rate,
                amounts,
                months: t.months,
                period: Some((t.start, t.end)),
            });
        }
    }
    out
}

/// The pending renewal rows of checked terms, paid by `order_id` (or awaiting `pro_forma_id`).
pub fn renewal_rows(
    org: &Organization,
    terms: &[Term<'_>],
    order_id: Option<&str>,
    pro_forma_id: Option<&str>,
    automatic: bool,
    now: NaiveDateTime,
) -> Vec<Renewal> {
    let currency = Currency::from_code(&org.currency);
    terms
        .iter()
        .map(|t| Renewal {
            id: db::new_id("rnw"),
            organization_id: org.id.clone(),
            product_id: t.product.id.clone(),
            order_id: order_id.map(str::to_string),
            pro_forma_id: pro_forma_id.map(str::to_string),
            period_start: t.start,
            period_end: t.end,
            period_months: t.months,
            price_minor: to_minor(period_price(t.offer, t.months, &t.options, currency)),
            options: serde_json::to_string(&t.options).unwrap_or_else(|_| "{}".into()),
            status: ChangeStatus::Pending,
            automatic,
            attempts: 0,
            next_attempt_at: None,
            last_failure: None,
            created_at: now,
            settled_at: None,
        })
        .collect()
}

/// Records pending renewals; a live renewal of the same term (a concurrent request, or the
/// scheduler) is 409 `renewal_pending` and the caller rolls back.
pub fn insert_renewals(conn: &mut DbConnection, rows: &[Renewal]) -> Result<(), AppError> {
    for r in rows {
        if let Err(e) = renewals::insert(conn, r) {
            return Err(if db::is_unique_violation(&e) {
                AppError::conflict(
                    "renewal_pending",
                    "A renewal of this product for this term is already under way.",
                )
            } else {
                e.into()
            });
        }
    }
    Ok(())
}

/// What the scheduler or a customer renews in one order.
pub struct RenewalOrder<'o, 'a> {
    pub org: &'o Organization,
    /// The requester (the scheduler passes whoever turned auto-renewal on, or an owner).
    pub created_by: &'o str,
    pub terms: &'o [Term<'a>],
    /// Made by the scheduler (auto-renewal).
    pub automatic: bool,
}

/// Creates, in the caller's transaction (the organisation locked), one order with one open
/// invoice renewing every checked term, and its pending renewals.
pub fn create_order(
    conn: &mut DbConnection,
    config: &Config,
    catalog: &Catalog,
    request: RenewalOrder<'_, '_>,
    now: NaiveDateTime,
) -> Result<(Order, Invoice, Vec<Renewal>), AppError> {
    let RenewalOrder {
        org,
        created_by,
        terms,
        automatic,
    } = request;
    let order_id = db::new_id("ord");
    let invoice = issue_invoice(
        conn,
        config,
        org,
        Some(&order_id),
        lines(catalog, org, terms),
        now,
    )?;
    let order = Order {
        id: order_id,
        organization_id: org.id.clone(),
        status: OrderStatus::Open,
        invoice_id: invoice.id.clone(),
        currency: org.currency.clone(),
        total_minor: invoice.total_minor,
        created_by: created_by.to_string(),
        expires_at: now + chrono::Duration::days(config.order_expiry_days),
        paid_at: None,
        cancelled_at: None,
        created_at: now,
    };
    orders::insert(conn, &order)?;
    let rows = renewal_rows(org, terms, Some(&order.id), None, automatic, now);
    insert_renewals(conn, &rows)?;
    Ok((order, invoice, rows))
}
