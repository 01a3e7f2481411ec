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
use crate::models::pro_formas::{self, ProForma};
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
    // A lapsed product's term starts at its old expiry: one that would end already is no use.
    if end <= now {
        return Some((
            "period_already_over",
            format!(
                "renewing for {} would end on {}, already past: choose a longer period",
                period_name(months),
                end.date()
            ),
        ));
    }
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
        if crate::models::product_changes::pending_of_product(conn, &product.id)?.is_some() {
            errors.push(invalid(
                &at,
                "change_pending",
                "an upgrade of this product awaits payment: pay it or let it lapse first",
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

// ---------------------------------------------------------------------------------------------
// The renewals list (R33).

/// How far ahead the default list looks (R33: the next 2 months).
pub const DEFAULT_WINDOW_MONTHS: u32 = 2;

/// One period a product can be renewed for.
pub struct PeriodOption {
    pub months: i32,
    /// One period, options included, before VAT, in the organisation's currency.
    pub price: Money,
    /// The new expiry once paid.
    pub renews_to: NaiveDateTime,
}

/// One line of the renewals list.
pub struct DueItem {
    pub product: Product,
    pub periods: Vec<PeriodOption>,
    /// The latest date it may be renewed to (the horizon).
    pub latest: NaiveDateTime,
    /// The renewal awaiting payment, if any.
    pub pending: Option<Renewal>,
    /// From when a change to monthly would apply, when one is possible now (R36–R38).
    pub monthly_from: Option<NaiveDateTime>,
}

/// The list's filter: `all` every renewable product, else those due within the window.
pub struct ListFilter {
    pub all: bool,
    pub kinds: Vec<crate::domain::billing_states::ProductKind>,
}

/// What a product of the list offers, at `now`.
pub fn due_item(
    catalog: &Catalog,
    product: Product,
    pending: Option<Renewal>,
    now: NaiveDateTime,
) -> DueItem {
    let currency = Currency::from_code(&product.currency);
    let start = product.expires_at.unwrap_or(now);
    let (mut periods, mut latest, mut monthly_from) = (Vec::new(), now, None);
    if let Some(offer) = catalog.offer(&product.offer_id) {
        latest = horizon(offer, now);
        let options = next_options(&product);
        for &months in offer.prices.keys() {
            if period_refusal(offer, &product, months, currency, now).is_some() {
                continue;
            }
            periods.push(PeriodOption {
                months,
                price: Money::new(period_price(offer, months, &options, currency), currency),
                renews_to: start
                    .checked_add_months(Months::new(months as u32))
                    .unwrap_or(start),
            });
        }
        // Monthly from the term's end (R38: never billing again months already paid), when the
        // offer bills monthly and one month reaches its minimum (R37).
        let monthly = offer.prices.contains_key(&1)
            && product.period_months != 1
            && offer
                .minimum(1, currency)
                .is_none_or(|min| period_price(offer, 1, &options, currency) >= min);
        if monthly {
            monthly_from = Some(start);
        }
    }
    DueItem {
        product,
        periods,
        latest,
        pending,
        monthly_from,
    }
}

/// A keyset page of the organisation's renewable products, soonest expiry first (accounting).
pub async fn list(
    ctx: &crate::context::Services,
    org: &crate::services::orgs::OrgRequest,
    filter: ListFilter,
    page: crate::domain::page::PageParams,
) -> Result<(Vec<DueItem>, Option<String>), AppError> {
    let now = db::now();
    let catalog = ctx.catalog.clone();
    let due = renewals::DueFilter {
        statuses: RENEWABLE.to_vec(),
        kinds: filter.kinds,
        until: (!filter.all).then(|| {
            now.checked_add_months(Months::new(DEFAULT_WINDOW_MONTHS))
                .unwrap_or(now)
        }),
    };
    crate::services::orgs::page_in(
        &ctx.pool,
        org,
        page,
        move |c, org_id, after, limit| {
            let rows = renewals::page_due(c, org_id, &due, after, limit)?;
            let ids: Vec<String> = rows.iter().map(|p| p.id.clone()).collect();
            let mut pending: std::collections::HashMap<String, Renewal> =
                renewals::pending_of_products(c, &ids)?
                    .into_iter()
                    .map(|r| (r.product_id.clone(), r))
                    .collect();
            Ok(rows
                .into_iter()
                .map(|p| {
                    let pending = pending.remove(&p.id);
                    due_item(&catalog, p, pending, now)
                })
                .collect())
        },
        |d: &DueItem| {
            (
                d.product.expires_at.unwrap_or_default(),
                d.product.id.as_str(),
            )
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Renewing (R31, R34–R36).

/// One line of a pro forma, as it will be invoiced (stored as JSON).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProFormaLine {
    pub description: String,
    pub product_id: Option<String>,
    pub quantity: i64,
    pub unit_price_minor: i64,
    /// Percent, e.g. "8.1".
    pub vat_rate: String,
    pub net_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
    pub period_months: i32,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
}

impl ProFormaLine {
    fn of(l: &NewLine, now: NaiveDateTime) -> Self {
        let (start, end) = l.period.unwrap_or((now, now));
        ProFormaLine {
            description: l.description.clone(),
            product_id: l.product_id.clone(),
            quantity: l.quantity,
            unit_price_minor: to_minor(l.unit_price),
            vat_rate: l.vat_rate.normalize().to_string(),
            net_minor: to_minor(l.amounts.net),
            vat_minor: to_minor(l.amounts.vat),
            total_minor: to_minor(l.amounts.total),
            period_months: l.months,
            period_start: start,
            period_end: end,
        }
    }

    /// The invoice line it becomes, to the minor unit what the pro forma showed.
    fn to_line(&self, currency: Currency) -> NewLine {
        let amount = |minor| Money::from_minor(minor, currency).amount;
        NewLine {
            description: self.description.clone(),
            product_id: self.product_id.clone(),
            quantity: self.quantity,
            unit_price: amount(self.unit_price_minor),
            vat_rate: self.vat_rate.parse().unwrap_or(Decimal::ZERO),
            amounts: crate::domain::billing::LineAmounts {
                net: amount(self.net_minor),
                vat: amount(self.vat_minor),
                total: amount(self.total_minor),
            },
            months: self.period_months,
            period: Some((self.period_start, self.period_end)),
        }
    }
}

/// The lines of a pro forma.
pub fn pro_forma_lines(p: &ProForma) -> Vec<ProFormaLine> {
    serde_json::from_str(&p.lines).unwrap_or_default()
}

/// What a renewal request made.
pub enum Renewed {
    /// An order and its invoice (paid, being paid, or open), the renewed products and the
    /// payment made with the request.
    Order {
        order: Order,
        products: Vec<Product>,
        renewals: Vec<Renewal>,
        payment: Option<crate::models::payments::Payment>,
    },
    /// A bank transfer awaited: the pro forma, its renewals and the pending transfer.
    ProForma {
        pro_forma: ProForma,
        renewals: Vec<Renewal>,
        payment: crate::models::payments::Payment,
    },
}

/// Numbers and stores, in the caller's transaction, a pro forma of `new_lines` for `org`, priced
/// to the minor unit as their invoice would be, quoting the transfer reference `reference` makes
/// of its number and id, valid until `expires_at`.
pub fn store_pro_forma(
    conn: &mut DbConnection,
    org: &Organization,
    created_by: &str,
    new_lines: &[NewLine],
    reference: impl FnOnce(&str, &str) -> String,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<ProForma, AppError> {
    use chrono::Datelike;
    let amounts: Vec<_> = new_lines.iter().map(|l| l.amounts).collect();
    let total = crate::domain::billing::totals(&amounts);
    let stored: Vec<ProFormaLine> = new_lines.iter().map(|l| ProFormaLine::of(l, now)).collect();
    let id = db::new_id("pf");
    let number = pro_formas::next_number(conn, now.year())?;
    let pro_forma = ProForma {
        transfer_reference: Some(reference(&number, &id)),
        id,
        organization_id: org.id.clone(),
        number,
        currency: org.currency.clone(),
        subtotal_minor: to_minor(total.net),
        vat_minor: to_minor(total.vat),
        total_minor: to_minor(total.total),
        lines: serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into()),
        order_id: None,
        invoice_id: None,
        created_by: created_by.to_string(),
        created_at: now,
        expires_at,
        credited_payment_id: None,
        credited_at: None,
    };
    pro_formas::insert(conn, &pro_forma)?;
    Ok(pro_forma)
}

/// Creates, in the caller's transaction, a pro forma for checked terms, its pending renewals
/// (no order yet) and the pending bank transfer that will pay it (R34). No invoice number is
/// used: the invoice is issued when the money arrives.
pub fn create_pro_forma(
    conn: &mut DbConnection,
    config: &Config,
    catalog: &Catalog,
    org: &Organization,
    created_by: &str,
    terms: &[Term<'_>],
    now: NaiveDateTime,
) -> Result<(ProForma, Vec<Renewal>, crate::models::payments::Payment), AppError> {
    let payment_id = db::new_id("pay");
    let pro_forma = store_pro_forma(
        conn,
        org,
        created_by,
        &lines(catalog, org, terms),
        |number, _| crate::services::payments::transfer_reference(number, &payment_id),
        now + chrono::Duration::days(config.order_expiry_days),
        now,
    )?;
    let id = pro_forma.id.clone();
    let reference = pro_forma.transfer_reference.clone().unwrap_or_default();
    let rows = renewal_rows(org, terms, None, Some(&id), false, now);
    insert_renewals(conn, &rows)?;
    let payment = crate::models::payments::Payment {
        id: payment_id,
        organization_id: org.id.clone(),
        invoice_id: None,
        purpose: crate::domain::billing_states::PaymentPurpose::Invoice,
        method: crate::domain::billing_states::PaymentMethodKind::BankTransfer,
        payment_method_id: None,
        amount_minor: pro_forma.total_minor,
        currency: pro_forma.currency.clone(),
        status: crate::domain::billing_states::PaymentStatus::Pending,
        gateway_reference: Some(reference),
        failure_code: None,
        refunded_minor: 0,
        created_by: created_by.to_string(),
        created_at: now,
        settled_at: None,
        pro_forma_id: Some(id),
    };
    crate::models::payments::insert(conn, &payment)?;
    Ok((pro_forma, rows, payment))
}

/// Renews `items` for the caller's organisation (`renew_products`): one order and invoice
/// (paid from the prepaid account in the same transaction, by a saved method right after, or
/// left open), or, paid by bank transfer, a pro forma first (R34).
pub async fn renew(
    ctx: &crate::context::Services,
    meta: crate::domain::actor::Origin,
    org: &crate::services::orgs::OrgRequest,
    items: Vec<ItemInput>,
    payment: Option<crate::services::payments::PaymentInput>,
) -> Result<Renewed, AppError> {
    use crate::domain::billing_states::PaymentMethodKind as Kind;
    let (config, catalog) = (ctx.config.clone(), ctx.catalog.clone());
    let method = payment.as_ref().map(|p| p.method);
    let made = db::run(&ctx.pool, {
        let (org, meta, payment) = (org.clone(), meta.clone(), payment.clone());
        move |conn| {
            db::write_retrying(conn, |c| {
                let access = org.authorize(c)?;
                let user = org.caller.user_id.as_str();
                let now = db::now();
                if let Some(p) = payment.as_ref().filter(|p| p.method == Kind::PaymentMethod) {
                    crate::services::payment_methods::may_pay(
                        c,
                        &org.org_id,
                        p.payment_method_id.as_deref(),
                        "/payment/payment_method_id",
                    )?;
                }
                let terms = check_items(c, &catalog, &access.org, &items, now)?;
                if method == Some(Kind::BankTransfer) {
                    let (pf, rows, transfer) =
                        create_pro_forma(c, &config, &catalog, &access.org, user, &terms, now)?;
                    crate::services::activity::record(
                        c,
                        &meta,
                        crate::services::activity::Event::pro_forma_issued(user, &pf, &rows),
                    )?;
                    return Ok(Renewed::ProForma {
                        pro_forma: pf,
                        renewals: rows,
                        payment: transfer,
                    });
                }
                let request = RenewalOrder {
                    org: &access.org,
                    created_by: user,
                    terms: &terms,
                    automatic: false,
                };
                let (order, invoice, rows) = create_order(c, &config, &catalog, request, now)?;
                crate::services::activity::record(
                    c,
                    &meta,
                    crate::services::activity::Event::renewal_ordered(
                        user, &order, &invoice, &rows, false,
                    ),
                )?;
                // From the prepaid account in this transaction: a balance that does not cover
                // it refuses the whole renewal (402), leaving no order and no used number.
                let mut paid = None;
                if method == Some(Kind::Prepaid) {
                    paid = Some(crate::services::payments::pay_from_prepaid(
                        c, &config, &meta, user, &invoice,
                    )?);
                }
                let products = terms.iter().map(|t| t.product.clone()).collect();
                Ok(Renewed::Order {
                    order,
                    products,
                    renewals: rows,
                    payment: paid,
                })
            })
        }
    })
    .await?;
    let Renewed::Order { order, .. } = &made else {
        return Ok(made);
    };
    if let Some(input) = payment.filter(|p| p.method == Kind::PaymentMethod) {
        let invoice_id = crate::domain::ids::InvoiceId::from_db(order.invoice_id.clone());
        let paid =
            crate::services::payments::attempt_invoice_payment(ctx, meta, org, invoice_id, input)
                .await;
        // A charge that did not go through is on record and shown with the order (it stays
        // open, payable later); anything else that failed the request is answered as it is.
        if let Err(e) = paid
            && e.status.is_server_error()
            && !e.is_retryable()
        {
            return Err(e);
        }
    }
    let (org_id, id) = (org.org_id.clone(), order.id.clone());
    db::run(&ctx.pool, move |conn| {
        let (order, products, renewals) = of_order(conn, &org_id, &id)?
            .ok_or_else(|| AppError::internal("renewal order vanished"))?;
        let payment = crate::models::payments::latest_for_invoice(conn, &order.invoice_id)?;
        Ok(Renewed::Order {
            order,
            products,
            renewals,
            payment,
        })
    })
    .await
}

/// A renewal order, the products it renews and its renewals.
pub type RenewalOrderRows = (Order, Vec<Product>, Vec<Renewal>);

/// A renewal order of the organisation with the products it renews and its renewals.
pub fn of_order(
    conn: &mut DbConnection,
    org_id: &str,
    order_id: &str,
) -> Result<Option<RenewalOrderRows>, AppError> {
    let Some(order) = orders::find(conn, org_id, order_id)? else {
        return Ok(None);
    };
    let rows = renewals::of_order(conn, &order.id)?;
    let mut products = Vec::new();
    for r in &rows {
        if let Some(p) = products::find(conn, org_id, &r.product_id)? {
            products.push(p);
        }
    }
    Ok(Some((order, products, rows)))
}

/// Issues, in the caller's transaction (the organisation locked, the transfer just settled), the
/// order and its numbered invoice from a pro forma whose bank transfer arrived, and links them:
/// the pro forma to both, its renewals and the payment to the order's invoice. Returns the
/// payment (now of the invoice) and the open invoice, for the payment to complete.
pub fn invoice_pro_forma(
    conn: &mut DbConnection,
    config: &Config,
    payment: &crate::models::payments::Payment,
    now: NaiveDateTime,
) -> Result<(crate::models::payments::Payment, Invoice), AppError> {
    let pf_id = payment
        .pro_forma_id
        .as_deref()
        .ok_or_else(|| AppError::internal("not a pro forma's payment"))?;
    let pf = pro_formas::find_any(conn, pf_id)?
        .ok_or_else(|| AppError::internal("paid pro forma vanished"))?;
    let org = crate::models::organizations::find(conn, &pf.organization_id)?
        .ok_or_else(|| AppError::internal("pro forma's organisation vanished"))?;
    let currency = Currency::from_code(&pf.currency);
    let new_lines = pro_forma_lines(&pf)
        .iter()
        .map(|l| l.to_line(currency))
        .collect();
    let order_id = db::new_id("ord");
    let invoice = issue_invoice(conn, config, &org, Some(&order_id), new_lines, now)?;
    let order = Order {
        id: order_id,
        organization_id: org.id.clone(),
        status: OrderStatus::Open,
        invoice_id: invoice.id.clone(),
        currency: pf.currency.clone(),
        total_minor: invoice.total_minor,
        created_by: pf.created_by.clone(),
        expires_at: now + chrono::Duration::days(config.order_expiry_days),
        paid_at: None,
        cancelled_at: None,
        created_at: now,
    };
    orders::insert(conn, &order)?;
    if !pro_formas::mark_invoiced(conn, &pf.id, &order.id, &invoice.id)? {
        return Err(AppError::internal("pro forma invoiced twice"));
    }
    renewals::attach_order(conn, &pf.id, &order.id)?;
    pro_formas::attach_invoice(conn, &payment.id, &invoice.id)?;
    let mut paid = payment.clone();
    paid.invoice_id = Some(invoice.id.clone());
    Ok((paid, invoice))
}

/// Lapses the pro formas unpaid past their time (the `expire_orders` job): each one's pending
/// transfer fails (`superseded`: money that still arrives goes to the prepaid account) and its
/// renewals are voided, so the products can be renewed again. Returns how many.
pub fn lapse_pro_formas(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, AppError> {
    use crate::domain::billing_states::{PaymentStatus, failure};
    let mut due = pro_formas::lapsed(conn, now, 500)?;
    // Several organisations in one transaction: locked in id order (as `orders::expire_due`).
    due.sort_by(|a, b| a.1.cmp(&b.1));
    let mut n = 0;
    for (pf_id, org_id) in due {
        // The organisation's lock first: a transfer settling now either finished (the pro forma
        // is invoiced) or finds its payment failed and credits the money.
        crate::models::organizations::lock(conn, &org_id)?;
        let Some(pf) = pro_formas::find_any(conn, &pf_id)?.filter(|p| p.order_id.is_none()) else {
            continue;
        };
        let transfer = pro_formas::pending_transfer(conn, &pf.id)?;
        if let Some(t) = &transfer {
            crate::models::payments::settle(
                conn,
                &t.id,
                PaymentStatus::Failed,
                Some(failure::SUPERSEDED),
                None,
                now,
            )?;
        }
        let voided = renewals::void_of_pro_forma(conn, &pf.id, now)?;
        crate::services::activity::record(
            conn,
            &crate::domain::actor::Origin::system("expire_orders"),
            crate::services::activity::Event::pro_forma_lapsed(
                &pf,
                transfer.as_ref().map(|t| t.id.as_str()),
                voided,
            ),
        )?;
        n += 1;
    }
    Ok(n)
}

/// One pro forma of the organisation (accounting), with its awaited or last transfer.
pub async fn get_pro_forma(
    pool: &db::Pool,
    org: &crate::services::orgs::OrgRequest,
    id: String,
) -> Result<
    (
        ProForma,
        Vec<Renewal>,
        Option<crate::models::payments::Payment>,
    ),
    AppError,
> {
    let access = org.access(pool).await?;
    db::run(pool, move |conn| {
        let pf = pro_formas::find(conn, &access.org.id, &id)?
            .ok_or_else(|| AppError::not_found("No such pro forma invoice."))?;
        let rows = renewals::of_pro_forma(conn, &pf.id)?;
        // Credited (a pro forma made on request whose transfer arrived): the payment that first
        // settled it, not a later transfer quoting it too.
        let payment = match &pf.credited_payment_id {
            Some(id) => crate::models::payments::find(conn, id)?,
            None => pro_formas::latest_payment(conn, &pf.id)?,
        };
        Ok((pf, rows, payment))
    })
    .await
}

/// The products a renewal order renews and its terms (none for an order of new products), for
/// showing the order.
pub async fn order_terms(
    pool: &db::Pool,
    order: &Order,
) -> Result<(Vec<Product>, Vec<Renewal>), AppError> {
    let (org_id, id) = (order.organization_id.clone(), order.id.clone());
    db::run(pool, move |conn| {
        Ok(of_order(conn, &org_id, &id)?
            .map(|(_, products, rows)| (products, rows))
            .unwrap_or_default())
    })
    .await
}
