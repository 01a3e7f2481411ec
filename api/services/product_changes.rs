//! Changing a product during its term (R37, R38, R42) and moving it to another organisation.
//!
//! - **Billing period** (R37, R38): a period the offer has, whose price (the offer and the
//!   options beyond what it includes, before VAT, in the organisation's currency) reaches the
//!   catalogue's minimum. It is never applied now: it is scheduled for the term's end
//!   (`products.next_period_months`), which the next renewal uses — asked inside the last month
//!   of the term or earlier, the months already paid are never billed again. The answer says
//!   when (`effective_at`) and whether it was asked inside the last month.
//! - **Options** (R42): an increase is an order for the prorated difference until the term's
//!   end (`prorate`), applied once paid (`models::product_changes`); a decrease of an
//!   upgrade-only (kSuite-type) offer is refused, other offers take it at the next term
//!   (`products.next_options`).
//! - **Withdrawing** what is scheduled for the term's end.
//! - **Moving** a product (with what its bundle includes) to another organisation where the
//!   caller is an admin too; its invoices stay where they were issued.

use std::collections::BTreeMap;

use chrono::{Duration, Months, NaiveDateTime};
use rust_decimal::Decimal;

use crate::catalog::{Catalog, Offer};
use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::billing::{line_amounts, period_months, period_name};
use crate::domain::billing_states::{OrderStatus, ProductStatus};
use crate::domain::ids::ProductId;
use crate::domain::invalid;
use crate::domain::money::{Money, round, to_minor};
use crate::domain::orgs::{Currency, Need};
use crate::error::AppError;
use crate::models::orders::{self, Order};
use crate::models::product_changes::{self, ProductChange};
use crate::models::products::{self, Product};
use crate::models::{organizations, renewals};
use crate::services::activity::{self, Event};
use crate::services::orders::{Item, NewLine, below_minimum, issue_invoice, period_price};
use crate::services::orgs::{self, OrgRequest};

/// The prorated part of `difference` (the price of one period) for `remaining_days` of a period
/// of `period_days`: `difference × remaining_days / period_days`, rounded to the minor unit half
/// away from zero (docs/rules.md). Never negative (a decrease or nothing remaining costs
/// nothing). A product renewed ahead has more than one period left: every remaining day is
/// paid for (found by the review: capping at one period made upgrades after an early renewal
/// nearly free).
pub fn prorate(difference: Decimal, remaining_days: i64, period_days: i64) -> Decimal {
    if difference <= Decimal::ZERO || remaining_days <= 0 || period_days <= 0 {
        return round(Decimal::ZERO);
    }
    round(difference * Decimal::from(remaining_days) / Decimal::from(period_days))
}

/// Whole days from `now` to `end`, a started day counting as a day (0 when `end` has passed).
pub fn remaining_days(now: NaiveDateTime, end: NaiveDateTime) -> i64 {
    let secs = (end - now).num_seconds();
    if secs <= 0 {
        0
    } else {
        (secs + 86_399) / 86_400
    }
}

/// The days of the term ending at `end` for a period of `months`.
pub fn period_days(end: NaiveDateTime, months: i32) -> i64 {
    end.checked_sub_months(Months::new(months.max(1) as u32))
        .map_or(0, |start| (end - start).num_days())
}

/// What the product's next term is, for pricing its renewal: the scheduled billing period and
/// option quantities when set (R38, R42), else the current ones. `None` when the offer left the
/// catalogue.
pub fn next_term<'a>(catalog: &'a Catalog, p: &Product) -> Option<Item<'a>> {
    let offer = catalog.offer(&p.offer_id)?;
    Some(Item {
        offer,
        months: p.next_period_months.unwrap_or(p.period_months),
        options: quantities(offer, p.next_options.as_deref().or(Some(&p.options))),
    })
}

/// What `PATCH …/products/{id}` asks for.
#[derive(Debug, Clone, Default)]
pub struct ChangeInput {
    pub billing_period: Option<String>,
    pub options: Option<BTreeMap<String, i64>>,
}

/// What a change did.
pub enum Outcome {
    /// Recorded for the term's end (or an upgrade with nothing left to pay, applied now).
    Changed {
        product: Product,
        /// When what is scheduled applies (the current expiry); `None` when nothing is.
        effective_at: Option<NaiveDateTime>,
        /// Asked inside the last month of the term (R38).
        within_last_month: bool,
    },
    /// An upgrade to pay first: the order (and its open invoice).
    Ordered { order: Order, product: Product },
}

fn product_not_changeable(p: &Product) -> AppError {
    AppError::conflict(
        "product_not_changeable",
        format!(
            "This product is {}: only an active product can change.",
            p.status.as_str()
        ),
    )
}

fn bundled(p: &Product) -> AppError {
    AppError::conflict(
        "bundled_product",
        format!(
            "This product is included in the bundle {}: change or move the bundle.",
            p.bundle_id.as_deref().unwrap_or_default()
        ),
    )
}

/// The option quantities of a product's JSON (every option of the offer; missing ones: what
/// the offer includes).
fn quantities(offer: &Offer, json: Option<&str>) -> BTreeMap<String, i64> {
    let stored: BTreeMap<String, i64> = json
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    offer
        .options
        .iter()
        .map(|o| {
            let q = stored.get(&o.name).copied().unwrap_or(o.included);
            (o.name.clone(), q)
        })
        .collect()
}

fn to_json(options: &BTreeMap<String, i64>) -> String {
    serde_json::to_string(options).unwrap_or_else(|_| "{}".into())
}

/// Changes the billing period and/or options of a product (products and accounting).
pub async fn update(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: ProductId,
    input: ChangeInput,
) -> Result<Outcome, AppError> {
    let (config, catalog, org) = (ctx.config.clone(), ctx.catalog.clone(), org.clone());
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            update_at(c, &config, &catalog, &meta, &org, &id, &input, db::now())
        })
    })
    .await
}

/// `update` in the caller's transaction, at `now`.
#[allow(clippy::too_many_arguments)]
pub fn update_at(
    conn: &mut DbConnection,
    config: &Config,
    catalog: &Catalog,
    meta: &Origin,
    org: &OrgRequest,
    id: &str,
    input: &ChangeInput,
    now: NaiveDateTime,
) -> Result<Outcome, AppError> {
    let access = org.authorize(conn)?;
    let product = products::find(conn, &access.org.id, id)?
        .ok_or_else(|| AppError::not_found("No such product."))?;
    if input.billing_period.is_none() && input.options.is_none() {
        return Err(AppError::validation(vec![invalid(
            "",
            "nothing_to_change",
            "give billing_period, options or both",
        )]));
    }
    if product.bundle_id.is_some() {
        return Err(bundled(&product));
    }
    let Some(expires) = product
        .expires_at
        .filter(|e| product.status == ProductStatus::Active && *e > now)
    else {
        return Err(product_not_changeable(&product));
    };
    let offer = catalog.offer(&product.offer_id).ok_or_else(|| {
        AppError::conflict(
            "product_not_changeable",
            "This product's offer is no longer in the catalogue: it cannot change.",
        )
    })?;
    let currency = Currency::from_code(&product.currency);
    let current = quantities(offer, Some(&product.options));

    // What is asked, checked like an order's item.
    let mut errors = Vec::new();
    let mut wanted = current.clone();
    for (name, qty) in input.options.iter().flatten() {
        let pointer = format!("/options/{name}");
        match offer.options.iter().find(|o| &o.name == name) {
            None => errors.push(invalid(
                &pointer,
                "unknown_option",
                "is not an option of this offer",
            )),
            Some(o) if *qty < o.included || *qty > o.max => errors.push(invalid(
                &pointer,
                "out_of_range",
                format!(
                    "must be between {} (included in the offer) and {}",
                    o.included, o.max
                ),
            )),
            Some(_) => {
                wanted.insert(name.clone(), *qty);
            }
        }
    }
    let months = match &input.billing_period {
        None => None,
        Some(p) => match period_months(p).filter(|m| offer.prices.contains_key(m)) {
            Some(m) => Some(m),
            None => {
                let offered: Vec<&str> = offer.prices.keys().map(|m| period_name(*m)).collect();
                errors.push(invalid(
                    "/billing_period",
                    "period_not_offered",
                    format!("this offer is billed {}", offered.join(", ")),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }

    let decreased = wanted.iter().any(|(n, q)| *q < current[n]);
    if decreased && offer.lifecycle.upgrade_only {
        return Err(AppError::conflict(
            "downgrade_not_allowed",
            format!(
                "{} only goes up: options cannot be decreased, now or at the next term.",
                offer.name
            ),
        ));
    }
    // The term's end: the period and options of the next term, which must reach the minimum.
    let next_months = months.unwrap_or(product.next_period_months.unwrap_or(product.period_months));
    let next_options = match &input.options {
        Some(_) => wanted.clone(),
        None => quantities(
            offer,
            product.next_options.as_deref().or(Some(&product.options)),
        ),
    };
    let next_item = Item {
        offer,
        months: next_months,
        options: next_options.clone(),
    };
    let pointer = if input.billing_period.is_some() {
        "/billing_period"
    } else {
        "/options"
    };
    if let Some(e) = below_minimum(&next_item, currency, pointer) {
        return Err(AppError::validation(vec![e]));
    }
    // Now: every increase (paid for the rest of the term); decreases wait for the next term.
    let now_options: BTreeMap<String, i64> = current
        .iter()
        .map(|(n, q)| (n.clone(), (*q).max(wanted[n])))
        .collect();
    let increased = now_options != current;
    if increased && product_changes::pending_of_product(conn, &product.id)?.is_some() {
        return Err(change_pending());
    }
    // An upgrade and a renewal waiting at once would each apply over the other's options.
    if increased
        && !crate::models::renewals::pending_of_products(conn, std::slice::from_ref(&product.id))?
            .is_empty()
    {
        return Err(AppError::conflict(
            "renewal_pending",
            "A renewal of this product awaits payment: pay it or let it lapse before upgrading.",
        ));
    }
    let next_period = match months {
        Some(m) if m == product.period_months => None,
        Some(m) => Some(m),
        None => product.next_period_months,
    };
    let next_options_json = match &input.options {
        Some(_) => (next_options != now_options).then(|| to_json(&next_options)),
        None => product.next_options.clone(),
    };
    let scheduled_changed =
        next_period != product.next_period_months || next_options_json != product.next_options;
    if scheduled_changed {
        products::schedule(
            conn,
            &product.id,
            next_period,
            next_options_json.as_deref(),
            now,
        )?;
    }
    let within_last_month = expires
        .checked_sub_months(Months::new(1))
        .is_some_and(|edge| now >= edge);
    let user = org.caller.user_id.as_str();

    if increased {
        let outcome = upgrade(
            conn,
            config,
            catalog,
            meta,
            user,
            &access.org,
            &product,
            offer,
            (&current, &now_options),
            expires,
            now,
        )?;
        return Ok(match outcome {
            Some(order) => Outcome::Ordered {
                order,
                product: reload(conn, &product)?,
            },
            None => Outcome::Changed {
                product: reload(conn, &product)?,
                effective_at: scheduled_or_none(conn, &product, expires)?,
                within_last_month,
            },
        });
    }
    let product = reload(conn, &product)?;
    if scheduled_changed {
        activity::record(conn, meta, Event::product_change_scheduled(user, &product))?;
    }
    let effective_at =
        (product.next_period_months.is_some() || product.next_options.is_some()).then_some(expires);
    Ok(Outcome::Changed {
        product,
        effective_at,
        within_last_month,
    })
}

fn change_pending() -> AppError {
    AppError::conflict(
        "change_pending",
        "An upgrade of this product waits for its order to be paid: pay it, or let it lapse.",
    )
}

fn reload(conn: &mut DbConnection, p: &Product) -> Result<Product, AppError> {
    products::find(conn, &p.organization_id, &p.id)?
        .ok_or_else(|| AppError::internal("product vanished"))
}

fn scheduled_or_none(
    conn: &mut DbConnection,
    p: &Product,
    expires: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, AppError> {
    let p = reload(conn, p)?;
    Ok((p.next_period_months.is_some() || p.next_options.is_some()).then_some(expires))
}

/// An increase of options: an order for the prorated difference until `expires` (one line per
/// option), and the pending change it pays; or, when nothing is left to pay, the options at
/// once. Returns the order, if one was made.
#[allow(clippy::too_many_arguments)]
fn upgrade(
    conn: &mut DbConnection,
    config: &Config,
    catalog: &Catalog,
    meta: &Origin,
    user: &str,
    org: &crate::models::organizations::Organization,
    product: &Product,
    offer: &Offer,
    (current, now_options): (&BTreeMap<String, i64>, &BTreeMap<String, i64>),
    expires: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Option<Order>, AppError> {
    let currency = Currency::from_code(&product.currency);
    let rate = catalog.vat.rate(&org.country, &offer.vat_category);
    let (remaining, days) = (
        remaining_days(now, expires),
        period_days(expires, product.period_months),
    );
    let period = period_name(product.period_months);
    let mut lines = Vec::new();
    for o in &offer.options {
        let added = now_options[&o.name] - current[&o.name];
        if added <= 0 {
            continue;
        }
        let Some(unit) = o.prices.get(&product.period_months) else {
            continue;
        };
        let amount = prorate(Decimal::from(added) * unit.get(currency), remaining, days);
        if amount <= Decimal::ZERO {
            continue;
        }
        lines.push(NewLine {
            description: format!(
                "{}: {added} more for {remaining} of the term's {days} days ({period}, until {})",
                o.description,
                expires.format("%Y-%m-%d")
            ),
            product_id: Some(product.id.clone()),
            quantity: 1,
            unit_price: amount,
            vat_rate: rate,
            amounts: line_amounts(1, amount, rate),
            months: product.period_months,
            period: Some((now, expires)),
        });
    }
    let new_price = to_minor(period_price(
        &Item {
            offer,
            months: product.period_months,
            options: now_options.clone(),
        },
        currency,
    ));
    let options_json = to_json(now_options);
    let options_value = serde_json::to_value(now_options).unwrap_or_default();
    if lines.is_empty() {
        products::set_options(conn, &product.id, &options_json, new_price, now)?;
        activity::record(
            conn,
            meta,
            Event::product_upgraded(user, product, &options_value),
        )?;
        return Ok(None);
    }
    let order_id = db::new_id("ord");
    let invoice = issue_invoice(conn, config, org, Some(&order_id), lines, now)?;
    let order = Order {
        id: order_id,
        organization_id: org.id.clone(),
        status: OrderStatus::Open,
        invoice_id: invoice.id.clone(),
        currency: org.currency.clone(),
        total_minor: invoice.total_minor,
        created_by: user.to_string(),
        expires_at: now + Duration::days(config.order_expiry_days),
        paid_at: None,
        cancelled_at: None,
        created_at: now,
    };
    orders::insert(conn, &order)?;
    let change = ProductChange {
        id: db::new_id("pch"),
        organization_id: org.id.clone(),
        product_id: product.id.clone(),
        order_id: order.id.clone(),
        options: options_json,
        status: crate::domain::billing_states::ChangeStatus::Pending,
        created_at: now,
        settled_at: None,
        price_minor: Some(new_price),
    };
    match product_changes::insert(conn, &change) {
        Err(e) if db::is_unique_violation(&e) => return Err(change_pending()),
        other => other?,
    };
    activity::record(
        conn,
        meta,
        Event::product_upgrade_ordered(
            user,
            product,
            &order,
            &options_value,
            Money::from_minor(order.total_minor, currency),
        ),
    )?;
    Ok(Some(order))
}

/// Withdraws what is scheduled for the term's end (billing period and options).
pub async fn withdraw(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: ProductId,
) -> Result<Product, AppError> {
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            let access = org.authorize(c)?;
            let product = products::find(c, &access.org.id, &id)?
                .ok_or_else(|| AppError::not_found("No such product."))?;
            if product.next_period_months.is_none() && product.next_options.is_none() {
                return Err(AppError::conflict(
                    "no_scheduled_change",
                    "Nothing is scheduled for this product's term end.",
                ));
            }
            let now = db::now();
            activity::record(
                c,
                &meta,
                Event::product_change_withdrawn(&org.caller.user_id, &product),
            )?;
            products::schedule(c, &product.id, None, None, now)?;
            reload(c, &product)
        })
    })
    .await
}

/// Moves a product (a bundle with what it includes) to `target`, where the caller must be an
/// admin or legal representative too. Returns the moved product.
pub async fn move_product(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: ProductId,
    target: String,
) -> Result<Product, AppError> {
    let (org, catalog) = (org.clone(), ctx.catalog.clone());
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            move_at(c, &catalog, &meta, &org, &id, &target, db::now())
        })
    })
    .await
}

fn unknown_organization() -> AppError {
    AppError::field(
        "/organization_id",
        "unknown_organization",
        "is not an organisation you belong to",
    )
}

/// `move_product` in the caller's transaction.
pub fn move_at(
    conn: &mut DbConnection,
    catalog: &Catalog,
    meta: &Origin,
    org: &OrgRequest,
    id: &str,
    target: &str,
    now: NaiveDateTime,
) -> Result<Product, AppError> {
    // Both organisations are locked, in id order (like account deletion and expiring orders), so
    // two moves in opposite directions never wait on each other in a cycle.
    let mut both = [org.org_id.as_str(), target];
    both.sort();
    for o in both {
        organizations::lock(conn, o)?;
    }
    let access = org.authorize(conn)?;
    let product = products::find(conn, &access.org.id, id)?
        .ok_or_else(|| AppError::not_found("No such product."))?;
    if target == access.org.id {
        return Err(AppError::field(
            "/organization_id",
            "same_organization",
            "is the organisation the product is in",
        ));
    }
    // The target as any route about it would see it: not a member (or no such organisation) is
    // the same unknown organisation, a member who is not an admin is 403.
    let to = match orgs::authorize(conn, &org.caller, target, Need::Admin) {
        Err(e) if e.status == crate::error::Status::NotFound => {
            return Err(unknown_organization());
        }
        other => other?,
    };
    if product.bundle_id.is_some() {
        return Err(bundled(&product));
    }
    if catalog
        .offer(&product.offer_id)
        .is_some_and(|o| o.lifecycle.upgrade_only)
    {
        return Err(AppError::conflict(
            "product_not_movable",
            format!(
                "{} products stay in the organisation that ordered them.",
                product.name
            ),
        ));
    }
    if !matches!(
        product.status,
        ProductStatus::Active | ProductStatus::Expired | ProductStatus::Suspended
    ) {
        return Err(product_not_changeable(&product));
    }
    if product.currency != to.org.currency {
        return Err(AppError::conflict(
            "currency_mismatch",
            format!(
                "This product is billed in {}, the other organisation in {}.",
                product.currency, to.org.currency
            ),
        ));
    }
    let mut ids = vec![product.id.clone()];
    ids.extend(
        products::of_bundle(conn, &product.id)?
            .into_iter()
            .map(|p| p.id),
    );
    for pid in &ids {
        if product_changes::pending_of_product(conn, pid)?.is_some() {
            return Err(change_pending());
        }
    }
    if !renewals::pending_of_products(conn, &ids)?.is_empty() {
        return Err(AppError::conflict(
            "renewal_pending",
            "A renewal of this product waits for its payment: pay it, or let it lapse, first.",
        ));
    }
    let user = org.caller.user_id.as_str();
    products::move_to(conn, &ids, &access.org.id, &to.org.id, now)?;
    activity::record(
        conn,
        meta,
        Event::product_moved_out(user, &access.org.id, &to.org.id, &product.id, &ids),
    )?;
    activity::record(
        conn,
        meta,
        Event::product_moved_in(user, &to.org.id, &access.org.id, &product.id, &ids),
    )?;
    products::find(conn, &to.org.id, &product.id)?
        .ok_or_else(|| AppError::internal("moved product vanished"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn r42_prorated_difference_is_rounded_to_the_cent() {
        // 5 users at 19.00 a year = 95.00; 100 of 365 days: 26.0273… → 26.03.
        assert_eq!(prorate(d("95.00"), 100, 365), d("26.03"));
        // Half a cent rounds away from zero: 0.05 × 1/2 = 0.025 → 0.03.
        assert_eq!(prorate(d("0.05"), 1, 2), d("0.03"));
        assert_eq!(prorate(d("95.00"), 365, 365), d("95.00"));
        // Renewed ahead: every remaining day is paid (95.00 × 400 / 365 = 104.109… → 104.11).
        assert_eq!(prorate(d("95.00"), 400, 365), d("104.11"));
        assert_eq!(prorate(d("95.00"), 0, 365), d("0.00"));
        assert_eq!(prorate(d("-5.00"), 10, 365), d("0.00"));
    }

    #[test]
    fn days_count_a_started_day_and_the_term_from_its_end() {
        let end = chrono::NaiveDate::from_ymd_opt(2027, 3, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert_eq!(remaining_days(end - Duration::hours(1), end), 1);
        assert_eq!(remaining_days(end - Duration::days(10), end), 10);
        assert_eq!(remaining_days(end + Duration::hours(1), end), 0);
        assert_eq!(period_days(end, 12), 365);
        assert_eq!(period_days(end, 1), 28);
    }

    proptest! {
        #[test]
        fn r42_proration_is_never_negative_nor_more_than_the_difference_per_period_left(
            cents in -100_000i64..10_000_000,
            remaining in -10i64..5000,
            period in 1i64..4000,
        ) {
            let difference = Decimal::new(cents, 2);
            let p = prorate(difference, remaining, period);
            prop_assert!(p >= Decimal::ZERO);
            // At most the difference for each started period left.
            let periods = Decimal::from((remaining.max(0) + period - 1) / period);
            prop_assert!(p <= difference.max(Decimal::ZERO) * periods);
            prop_assert_eq!(p.scale(), 2);
            if remaining <= 0 {
                prop_assert_eq!(p, Decimal::ZERO);
            }
            if remaining == period && cents > 0 {
                prop_assert_eq!(p, difference);
            }
        }

        #[test]
        fn r42_more_days_never_cost_less(
            cents in 1i64..10_000_000,
            a in 0i64..400,
            b in 0i64..400,
        ) {
            let difference = Decimal::new(cents, 2);
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(prorate(difference, lo, 365) <= prorate(difference, hi, 365));
        }
    }
}
