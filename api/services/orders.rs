//! Orders: items from the catalogue become products (`pending_payment`) and one invoice, issued
//! and numbered in the same transaction; paying it provisions the products. An order left
//! unpaid expires (its invoice is cancelled, keeping its number).

use std::collections::BTreeMap;

use chrono::Datelike;
use rust_decimal::Decimal;

use crate::catalog::{Catalog, Offer};
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::billing::{LineAmounts, line_amounts, period_months, period_name, totals};
use crate::domain::billing_states::ProductKind;
use crate::domain::billing_states::{
    InvoiceStatus, OrderStatus, PaymentMethodKind, PaymentStatus, ProductStatus, failure,
};
use crate::domain::domains::{Contact, DomainName, DomainStatus, TransferState};
use crate::domain::ids::DomainId;
use crate::domain::ids::{InvoiceId, OrderId, OrgId};
use crate::domain::invalid;
use crate::domain::money::{Money, to_minor};
use crate::domain::orgs::Currency;
use crate::domain::page::PageParams;
use crate::error::AppError;
use crate::models::domains;
use crate::models::invoices::{self, Invoice, InvoiceLine};
use crate::models::orders::{self, Order};
use crate::models::organizations::Organization;
use crate::models::products::{self, Product};
use crate::services::activity::{self, Event};
use crate::services::orgs::{self, OrgRequest};
use crate::services::payments::PaymentInput;

pub const MAX_ITEMS: usize = 20;

/// One item as asked for.
pub struct ItemInput {
    pub offer_id: String,
    pub billing_period: String,
    pub options: BTreeMap<String, i64>,
    /// The name to register, for offers of kind `domain` (required there, refused elsewhere).
    pub domain_name: Option<String>,
}

/// A checked item: its offer, period and option quantities (also what a renewal or an upgrade
/// prices).
pub struct Item<'a> {
    pub offer: &'a Offer,
    pub months: i32,
    pub options: BTreeMap<String, i64>,
}

/// Checks items against the catalogue: 1 to `MAX_ITEMS`, each an offer, one of its periods,
/// its options within their range, at or above the period's minimum (R37). Errors point at the
/// item (`/items/{i}/…`).
pub fn check_items<'a>(
    catalog: &'a Catalog,
    items: &[ItemInput],
    currency: Currency,
) -> Result<Vec<Item<'a>>, AppError> {
    let mut errors = Vec::new();
    if items.is_empty() || items.len() > MAX_ITEMS {
        errors.push(invalid("/items", "out_of_range", "give 1 to 20 items"));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(offer) = catalog.offer(&item.offer_id) else {
            errors.push(invalid(
                &format!("/items/{i}/offer_id"),
                "unknown_offer",
                "is not an offer of the catalogue",
            ));
            continue;
        };
        let months = period_months(&item.billing_period).filter(|m| offer.prices.contains_key(m));
        let Some(months) = months else {
            let offered: Vec<&str> = offer.prices.keys().map(|m| period_name(*m)).collect();
            errors.push(invalid(
                &format!("/items/{i}/billing_period"),
                "period_not_offered",
                format!("this offer is billed {}", offered.join(", ")),
            ));
            continue;
        };
        let mut options = BTreeMap::new();
        for (name, qty) in &item.options {
            match offer.options.iter().find(|o| &o.name == name) {
                None => errors.push(invalid(
                    &format!("/items/{i}/options/{name}"),
                    "unknown_option",
                    "is not an option of this offer",
                )),
                // Fewer than the offer includes would be billed as if included: refused, so
                // what is ordered is what the product shows.
                Some(o) if *qty < o.included || *qty > o.max => errors.push(invalid(
                    &format!("/items/{i}/options/{name}"),
                    "out_of_range",
                    format!(
                        "must be between {} (included in the offer) and {}",
                        o.included, o.max
                    ),
                )),
                Some(_) => {
                    options.insert(name.clone(), *qty);
                }
            }
        }
        let item = Item {
            offer,
            months,
            options,
        };
        // Some periods only above an amount (R37): checked once the options are known.
        if errors.is_empty()
            && let Some(e) = below_minimum(&item, currency, &format!("/items/{i}/billing_period"))
        {
            errors.push(e);
        }
        out.push(item);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::validation(errors))
    }
}

/// The price of one period of an item in `currency`: the offer and the options beyond what it
/// includes, before VAT.
pub fn period_price(item: &Item<'_>, currency: Currency) -> Decimal {
    item_lines(item, currency, Decimal::ZERO)
        .iter()
        .map(|l| l.3.net)
        .sum()
}

/// The catalogue's minimum for the item's period when its price is below it (R37): a field
/// error at `pointer` naming the minimum (`period_below_minimum`).
pub fn below_minimum(
    item: &Item<'_>,
    currency: Currency,
    pointer: &str,
) -> Option<crate::error::FieldError> {
    let minimum = item.offer.minimum(item.months, currency)?;
    let price = period_price(item, currency);
    (price < minimum).then(|| {
        invalid(
            pointer,
            "period_below_minimum",
            format!(
                "billed {} this costs {} a period; this period needs at least {}",
                period_name(item.months),
                Money::new(price, currency).display(),
                Money::new(minimum, currency).display()
            ),
        )
    })
}

/// Invoice lines of one item: the offer for its period, then each option beyond what the
/// offer includes.
pub fn item_lines(
    item: &Item<'_>,
    currency: Currency,
    vat_rate: Decimal,
) -> Vec<(String, i64, Decimal, LineAmounts)> {
    let period = period_name(item.months);
    let base = item.offer.prices[&item.months].get(currency);
    let mut lines = vec![(
        format!("{} ({period})", item.offer.name),
        1,
        base,
        line_amounts(1, base, vat_rate),
    )];
    for o in &item.offer.options {
        let wanted = item.options.get(&o.name).copied().unwrap_or(o.included);
        let extra = wanted - o.included;
        if extra > 0 {
            let unit = o.prices[&item.months].get(currency);
            lines.push((
                format!(
                    "{}: {extra} beyond the {} included ({period})",
                    o.description, o.included
                ),
                extra,
                unit,
                line_amounts(extra, unit, vat_rate),
            ));
        }
    }
    lines
}

/// The invoice lines of an ordered item for `org` (VAT by its country and the offer's
/// category), each naming `product_id`, the period running from issue.
pub fn order_lines(
    catalog: &Catalog,
    org: &Organization,
    item: &Item<'_>,
    product_id: Option<&str>,
) -> Vec<NewLine> {
    let rate = catalog.vat.rate(&org.country, &item.offer.vat_category);
    item_lines(item, Currency::from_code(&org.currency), rate)
        .into_iter()
        .map(|(description, quantity, unit_price, amounts)| NewLine {
            description,
            product_id: product_id.map(str::to_string),
            quantity,
            unit_price,
            vat_rate: rate,
            amounts,
            months: item.months,
            period: None,
        })
        .collect()
}

/// One line of an invoice to issue.
pub struct NewLine {
    pub description: String,
    pub product_id: Option<String>,
    pub quantity: i64,
    pub unit_price: Decimal,
    /// Percent.
    pub vat_rate: Decimal,
    pub amounts: LineAmounts,
    /// The period the line covers, from issue.
    pub months: i32,
    /// The period the line covers when it does not start at issue (a renewal starts at the
    /// product's expiry): (start, end).
    pub period: Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)>,
}

/// Issues an invoice in the caller's transaction: numbered now (gapless per issuer and year),
/// immutable from then on.
pub fn issue_invoice(
    conn: &mut DbConnection,
    config: &Config,
    org: &Organization,
    order_id: Option<&str>,
    lines: Vec<NewLine>,
    now: chrono::NaiveDateTime,
) -> Result<Invoice, AppError> {
    let amounts: Vec<LineAmounts> = lines.iter().map(|l| l.amounts).collect();
    let total = totals(&amounts);
    let id = db::new_id("inv");
    let number = invoices::next_number(conn, &config.invoice_issuer, now.year())?;
    let address = [
        Some(org.address_line1.clone()),
        org.address_line2.clone(),
        Some(format!("{} {}", org.postal_code, org.city)),
        Some(org.country.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n");
    let invoice = Invoice {
        id: id.clone(),
        organization_id: org.id.clone(),
        issuer: config.invoice_issuer.clone(),
        number,
        status: InvoiceStatus::Open,
        currency: org.currency.clone(),
        subtotal_minor: to_minor(total.net),
        vat_minor: to_minor(total.vat),
        total_minor: to_minor(total.total),
        refunded_minor: 0,
        customer_name: org.name.clone(),
        customer_address: address,
        customer_country: org.country.clone(),
        customer_vat_number: org.vat_number.clone(),
        order_id: order_id.map(str::to_string),
        issued_at: now,
        due_at: now + chrono::Duration::days(config.order_expiry_days),
        paid_at: None,
        cancelled_at: None,
        updated_at: now,
    };
    let rows: Vec<InvoiceLine> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| InvoiceLine {
            id: db::new_id("inl"),
            invoice_id: id.clone(),
            position: i as i32 + 1,
            description: l.description,
            product_id: l.product_id,
            quantity: l.quantity,
            unit_price_minor: to_minor(l.unit_price),
            vat_rate: l.vat_rate.normalize().to_string(),
            net_minor: to_minor(l.amounts.net),
            vat_minor: to_minor(l.amounts.vat),
            total_minor: to_minor(l.amounts.total),
            period_start: Some(l.period.map_or(now, |p| p.0)),
            period_end: match l.period {
                Some((_, end)) => Some(end),
                None => now.checked_add_months(chrono::Months::new(l.months.max(1) as u32)),
            },
        })
        .collect();
    invoices::insert(conn, &invoice, &rows)?;
    Ok(invoice)
}

/// What an order request asks for.
pub struct NewOrder<'a> {
    pub items: &'a [ItemInput],
    pub payment: Option<&'a PaymentInput>,
    /// Per item, the domain name checked by `check_domain_names` (None for other kinds).
    pub domains: &'a [Option<DomainName>],
}

/// Creates the order, its products and its open invoice, in one transaction.
pub fn create(
    conn: &mut DbConnection,
    config: &Config,
    catalog: &Catalog,
    meta: &Origin,
    org: &OrgRequest,
    request: NewOrder<'_>,
) -> Result<Order, AppError> {
    let NewOrder {
        items,
        payment,
        domains: names,
    } = request;
    let (caller, org_id) = (&org.caller, &org.org_id);
    let access = org.authorize(conn)?;
    let checked = check_items(catalog, items, Currency::from_code(&access.org.currency))?;
    // A payment that cannot even start is refused before anything is created.
    if let Some(p) = payment
        && p.method == PaymentMethodKind::PaymentMethod
    {
        crate::services::payment_methods::may_pay(
            conn,
            org_id,
            p.payment_method_id.as_deref(),
            "/payment/payment_method_id",
        )?;
    }
    let org = access.org;
    let currency = Currency::from_code(&org.currency);
    let now = db::now();
    let order_id = db::new_id("ord");
    let mut lines = Vec::new();
    let mut new_products = Vec::new();
    let mut new_domains = Vec::new();
    for (i, item) in checked.iter().enumerate() {
        let product_id = db::new_id("prd");
        let item_lines = order_lines(catalog, &org, item, Some(&product_id));
        let price: Decimal = item_lines.iter().map(|l| l.amounts.net).sum();
        lines.extend(item_lines);
        // A bundle's included offers become products of their own in the same order, at no
        // price and without an invoice line, activated with it (the bundle's line bills them).
        for included in &item.offer.lifecycle.includes {
            let Some(offer) = catalog.offer(included) else {
                continue;
            };
            new_products.push(Product {
                id: db::new_id("prd"),
                organization_id: org.id.clone(),
                offer_id: offer.id.clone(),
                kind: offer.kind,
                name: offer.name.clone(),
                period_months: item.months,
                options: "{}".into(),
                status: ProductStatus::PendingPayment,
                auto_renew: false,
                price_minor: 0,
                currency: org.currency.clone(),
                order_id: order_id.clone(),
                started_at: None,
                expires_at: None,
                cancelled_at: None,
                created_at: now,
                updated_at: now,
                auto_renew_payment_method_id: None,
                next_period_months: None,
                next_options: None,
                bundle_id: Some(product_id.clone()),
                reminded_for: None,
                reminder_stage: None,
                status_changed_at: None,
            });
        }
        let domain = names.get(i).cloned().flatten();
        if let Some(name) = &domain {
            new_domains.push((i, name.clone(), product_id.clone()));
        }
        new_products.push(Product {
            id: product_id,
            organization_id: org.id.clone(),
            offer_id: item.offer.id.clone(),
            kind: item.offer.kind,
            name: domain
                .as_ref()
                .map_or_else(|| item.offer.name.clone(), |d| d.unicode.clone()),
            period_months: item.months,
            options: serde_json::to_string(&item.options).unwrap_or_else(|_| "{}".into()),
            status: ProductStatus::PendingPayment,
            auto_renew: false,
            price_minor: to_minor(price),
            currency: org.currency.clone(),
            order_id: order_id.clone(),
            started_at: None,
            expires_at: None,
            cancelled_at: None,
            created_at: now,
            updated_at: now,
            auto_renew_payment_method_id: None,
            next_period_months: None,
            next_options: None,
            bundle_id: None,
            reminded_for: None,
            reminder_stage: None,
            status_changed_at: None,
        });
    }
    let invoice = issue_invoice(conn, config, &org, Some(&order_id), lines, now)?;
    let order = Order {
        id: order_id,
        organization_id: org.id.clone(),
        status: OrderStatus::Open,
        invoice_id: invoice.id.clone(),
        currency: org.currency.clone(),
        total_minor: invoice.total_minor,
        created_by: caller.user_id.clone(),
        expires_at: now + chrono::Duration::days(config.order_expiry_days),
        paid_at: None,
        cancelled_at: None,
        created_at: now,
    };
    orders::insert(conn, &order)?;
    for p in &new_products {
        products::insert(conn, p)?;
    }
    if !new_domains.is_empty() {
        let user = crate::models::users::find(conn, &caller.user_id)?
            .ok_or_else(|| AppError::internal("the ordering user vanished"))?;
        let contact = default_contact(&org, &user);
        for (i, name, product_id) in new_domains {
            insert_domain(conn, &org.id, &product_id, &name, &contact, i, now)?;
        }
    }
    activity::record(
        conn,
        meta,
        Event::order_created(
            &caller.user_id,
            &org.id,
            &order,
            &invoice,
            &new_products,
            currency,
        ),
    )?;
    // Paying from the prepaid account happens in this transaction: a balance that does not
    // cover it refuses the whole order (402), leaving neither an order nor a used number.
    if payment.is_some_and(|p| p.method == PaymentMethodKind::Prepaid) {
        crate::services::payments::pay_from_prepaid(conn, config, meta, &caller.user_id, &invoice)?;
    }
    Ok(order)
}

fn name_taken(i: usize) -> AppError {
    AppError::validation(vec![invalid(
        &format!("/items/{i}/domain_name"),
        "domain_not_available",
        "is registered already, or ordered by someone else",
    )])
}

/// The contact a new domain starts with (owner, admin and tech alike): the organisation's name
/// and address, the ordering person's name and email. Changed later through the contacts route.
pub fn default_contact(org: &Organization, user: &crate::models::users::User) -> Contact {
    Contact {
        name: user.full_name(),
        organization: Some(org.name.clone()),
        address_line1: org.address_line1.clone(),
        address_line2: org.address_line2.clone(),
        postal_code: org.postal_code.clone(),
        city: org.city.clone(),
        country: org.country.clone(),
        email: user.email.clone(),
        phone: None,
    }
}

/// The `registering` row of an ordered name, in the order's transaction: the partial unique
/// index on live names makes a second live order of one name fail here (422).
fn insert_domain(
    conn: &mut DbConnection,
    org_id: &str,
    product_id: &str,
    name: &DomainName,
    contact: &Contact,
    i: usize,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    if domains::live_by_name(conn, &name.ascii)?.is_some() {
        return Err(name_taken(i));
    }
    let json = serde_json::to_string(contact).map_err(|e| AppError::internal(e.to_string()))?;
    let row = domains::Domain {
        id: db::new_id(DomainId::PREFIX),
        organization_id: org_id.to_string(),
        product_id: product_id.to_string(),
        name: name.ascii.clone(),
        unicode_name: name.unicode.clone(),
        tld: name.tld.clone(),
        status: DomainStatus::Registering,
        registry_statuses: "[]".into(),
        locked: false,
        privacy: false,
        owner_contact: json.clone(),
        admin_contact: json.clone(),
        tech_contact: json,
        registered_at: None,
        expires_at: None,
        last_transferred_at: None,
        owner_changed_at: None,
        transfer_state: TransferState::None,
        transfer_state_at: None,
        transfer_code_expires_at: None,
        transfer_requested_by: None,
        transfer_completes_at: None,
        created_at: now,
        updated_at: now,
    };
    match domains::insert(conn, &row) {
        Ok(_) => Ok(()),
        Err(e) if db::is_unique_violation(&e) => Err(name_taken(i)),
        Err(e) => Err(e.into()),
    }
}

/// The domain names of an order's items, checked before its transaction: present exactly for
/// offers of kind `domain`, well formed, under the offer's extension, not twice in the order,
/// and available at the registry (asked here, outside any transaction; the order's transaction
/// checks again that no live registration of ours holds it). Unknown offers are left to
/// `check_items`.
pub async fn check_domain_names(
    ctx: &Services,
    items: &[ItemInput],
) -> Result<Vec<Option<DomainName>>, AppError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let pointer = format!("/items/{i}/domain_name");
        let offer = ctx.catalog.offer(&item.offer_id);
        let is_domain = offer.is_some_and(|o| o.kind == ProductKind::Domain);
        let name = match (&item.domain_name, is_domain) {
            (None, true) => {
                errors.push(invalid(
                    &pointer,
                    "required",
                    "is required for a domain offer",
                ));
                None
            }
            (Some(_), false) if offer.is_some() => {
                errors.push(invalid(
                    &pointer,
                    "not_a_domain_offer",
                    "is only for offers of kind domain",
                ));
                None
            }
            (Some(raw), true) => match DomainName::parse(raw, &pointer) {
                Err(e) => {
                    errors.push(e);
                    None
                }
                Ok(name) => {
                    let ext = ctx.catalog.extensions.of_offer(&item.offer_id);
                    if ext.is_none_or(|e| e.tld != name.tld) {
                        errors.push(invalid(
                            &pointer,
                            "domain_offer_mismatch",
                            format!(
                                "is not under the extension this offer sells (.{})",
                                ext.map_or("?", |e| e.tld.as_str())
                            ),
                        ));
                        None
                    } else if !seen.insert(name.ascii.clone()) {
                        errors.push(invalid(
                            &pointer,
                            "duplicate_domain_name",
                            "is ordered twice in this order",
                        ));
                        None
                    } else {
                        Some(name)
                    }
                }
            },
            _ => None,
        };
        out.push(name);
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    for (i, name) in out.iter().enumerate() {
        let Some(name) = name else { continue };
        let registry = ctx.registry.clone();
        let ascii = name.ascii.clone();
        let answer = tokio::task::spawn_blocking(move || registry.check(&ascii))
            .await
            .map_err(|e| AppError::internal(e.to_string()))?
            .map_err(crate::registry::problem)?;
        if !answer.available {
            errors.push(invalid(
                &format!("/items/{i}/domain_name"),
                "domain_not_available",
                answer.reason.map_or_else(
                    || "is registered already".to_string(),
                    |r| format!("is not available ({r})"),
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::validation(errors))
    }
}

/// A page of the organisation's orders, newest first (accounting).
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
    statuses: Vec<OrderStatus>,
    page: PageParams,
) -> Result<(Vec<(Order, Vec<Product>)>, Option<String>), AppError> {
    orgs::page_in(
        pool,
        org,
        page,
        move |c, org, before, limit| {
            let page = orders::page(c, org, &statuses, before, limit)?;
            // The page's products in one query, not one per order.
            let ids: Vec<String> = page.iter().map(|o| o.id.clone()).collect();
            let mut by_order: std::collections::HashMap<String, Vec<Product>> =
                std::collections::HashMap::new();
            for p in products::of_orders(c, &ids)? {
                by_order.entry(p.order_id.clone()).or_default().push(p);
            }
            Ok(page
                .into_iter()
                .map(|o| {
                    let items = by_order.remove(&o.id).unwrap_or_default();
                    (o, items)
                })
                .collect())
        },
        |(o, _)| (o.created_at, &o.id),
    )
    .await
}

/// One order with its products (accounting).
pub async fn get(
    pool: &Pool,
    org: &OrgRequest,
    id: OrderId,
) -> Result<(Order, Vec<Product>), AppError> {
    let access = org.access(pool).await?;
    db::run(pool, move |conn| {
        let order = orders::find(conn, &access.org.id, &id)?
            .ok_or_else(|| AppError::not_found("No such order."))?;
        let items = products::of_order(conn, &order.id)?;
        Ok((order, items))
    })
    .await
}

/// Cancels open orders whose time ran out, with their invoices (keeping their numbers) and
/// their unpaid products; an order whose payment is under way waits for it. Returns how many.
pub fn expire_due(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<usize> {
    let mut n = 0;
    let mut due = orders::expired(conn, now, 500)?;
    // One transaction locks several organisations: in id order, like account deletion, so the
    // two never wait on each other in a cycle.
    due.sort_by(|a, b| a.organization_id.cmp(&b.organization_id));
    for order in due {
        // The concurrency rule: the organisation's lock before its payments, invoice and order
        // (a payment being made now either finishes first or finds the order cancelled).
        crate::models::organizations::lock(conn, &order.organization_id)?;
        let Some(order) = orders::find(conn, &order.organization_id, &order.id)?
            .filter(|o| o.status == OrderStatus::Open)
        else {
            continue;
        };
        // A transfer announced but not arrived does not keep the order alive (its money, if it
        // comes, goes to the prepaid account); a payment the provider is confirming does.
        let transfer =
            crate::models::payments::pending_transfer_for_invoice(conn, &order.invoice_id)?;
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
        if crate::models::payments::live_for_invoice(conn, &order.invoice_id)? {
            continue;
        }
        if !orders::mark_cancelled(conn, &order.id, now)? {
            continue;
        }
        invoices::transition(
            conn,
            &order.invoice_id,
            InvoiceStatus::Open,
            InvoiceStatus::Cancelled,
            now,
        )?;
        products::cancel_unpaid_of_order(conn, &order.id, now)?;
        // Its names are free again.
        domains::cancel_registering_of_order(conn, &order.id, now)?;
        crate::models::renewals::void_of_order(conn, &order.id, now)?;
        crate::models::product_changes::void_of_order(conn, &order.id, now)?;
        activity::record(
            conn,
            &Origin::system("expire_orders"),
            Event::order_expired(&order, transfer.as_ref()),
        )?;
        n += 1;
    }
    Ok(n)
}

/// Creates the order (one transaction), then pays it when `payment` is given. A payment that
/// fails leaves the order open, its invoice payable later; the answer shows the attempt.
pub async fn create_and_pay(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    items: Vec<ItemInput>,
    payment: Option<PaymentInput>,
) -> Result<
    (
        Order,
        Vec<Product>,
        Option<crate::models::payments::Payment>,
    ),
    AppError,
> {
    let org_id: OrgId = org.org_id.clone();
    let (config, catalog) = (ctx.config.clone(), ctx.catalog.clone());
    // Who may order is answered before what is ordered (an outsider gets 404, not a 422 on a
    // name); then the names are checked, the registry asked outside any transaction.
    if items.iter().any(|i| i.domain_name.is_some()) {
        org.access(&ctx.pool).await?;
    }
    let names = check_domain_names(ctx, &items).await?;
    let order = db::run(&ctx.pool, {
        let (org, meta, payment) = (org.clone(), meta.clone(), payment.clone());
        move |conn| {
            db::write_retrying(conn, |c| {
                let request = NewOrder {
                    items: &items,
                    payment: payment.as_ref(),
                    domains: &names,
                };
                create(c, &config, &catalog, &meta, &org, request)
            })
        }
    })
    .await?;
    if let Some(input) = payment.filter(|p| p.method != PaymentMethodKind::Prepaid) {
        let invoice_id = InvoiceId::from_db(order.invoice_id.clone());
        let paid =
            crate::services::payments::attempt_invoice_payment(ctx, meta, org, invoice_id, input)
                .await;
        // A charge that did not go through (declined, or the provider unreachable) is on record
        // and shown with the order; so is a refusal (4xx) or a conflict worth a retry. Anything
        // else failed the request.
        if let Err(e) = paid
            && e.status.is_server_error()
            && !e.is_retryable()
        {
            return Err(e);
        }
    }
    let (id, invoice_id) = (order.id.clone(), order.invoice_id.clone());
    db::run(&ctx.pool, move |conn| {
        let order = orders::find(conn, &org_id, &id)?
            .ok_or_else(|| AppError::internal("order vanished"))?;
        let items = products::of_order(conn, &id)?;
        let payment = crate::models::payments::latest_for_invoice(conn, &invoice_id)?;
        Ok((order, items, payment))
    })
    .await
}

/// Pays an open order's invoice.
pub async fn pay(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: OrderId,
    input: PaymentInput,
) -> Result<crate::services::payments::Outcome, AppError> {
    let request = org.clone();
    let order = db::run(&ctx.pool, move |conn| {
        request.authorize(conn)?;
        orders::find(conn, &request.org_id, &id)?
            .ok_or_else(|| AppError::not_found("No such order."))
    })
    .await?;
    let invoice_id = InvoiceId::from_db(order.invoice_id);
    crate::services::payments::pay_invoice(ctx, meta, org, invoice_id, input).await
}
