//! Pro forma invoices made on request (R28): the price of selected products (their next renewal
//! period, at today's price with their options) or of offers (as an order would price them),
//! with VAT as an invoice would charge it, numbered `PF-YYYY-NNNNNN` outside the invoice
//! sequence. Of no legal, tax or accounting value; making one is free and changes nothing else:
//! no order, no renewal, no payment, no invoice number.
//!
//! The pricing is the orders' and renewals' own (`orders::check_items` and `order_lines`,
//! `renewals::check_items` and `lines`), item by item so that each error points at its item.

use std::collections::{BTreeMap, HashSet};

use chrono::{Months, NaiveDateTime};

use crate::catalog::Catalog;
use crate::context::Services;
use crate::db;
use crate::db::DbConnection;
use crate::domain::actor::Origin;
use crate::domain::billing::period_name;
use crate::domain::ids::path_id;
use crate::domain::invalid;
use crate::error::{AppError, FieldError};
use crate::models::organizations::Organization;
use crate::models::pro_formas::ProForma;
use crate::models::products;
use crate::services::activity::{self, Event};
use crate::services::orders::{self, NewLine};
use crate::services::orgs::OrgRequest;
use crate::services::renewals;

/// How many items one pro forma prices.
pub const MAX_ITEMS: usize = 50;

/// How long a pro forma's prices hold.
pub const VALID_DAYS: i64 = 30;

/// One item as asked for: a product of the organisation (`product_id`, optionally for another
/// of its periods), or an offer of the catalogue (`offer_id`, a period, options).
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub product_id: Option<String>,
    pub offer_id: Option<String>,
    pub billing_period: Option<String>,
    pub options: Option<BTreeMap<String, i64>>,
}

/// Moves a checker's errors about its one item (`/items/0…`) to item `i`.
fn at_item(mut e: AppError, i: usize) -> AppError {
    for f in &mut e.errors {
        if let Some(rest) = f.field.strip_prefix("/items/0") {
            f.field = format!("/items/{i}{rest}");
        }
    }
    e
}

/// The lines of one product item: its next renewal term, checked as a renewal would be.
fn product_lines(
    conn: &mut DbConnection,
    catalog: &Catalog,
    org: &Organization,
    product_id: &str,
    billing_period: Option<&str>,
    now: NaiveDateTime,
) -> Result<Vec<NewLine>, AppError> {
    // Not shaped like a product id, or another organisation's: the same answer as unknown.
    let unknown = || {
        AppError::validation(vec![invalid(
            "/items/0/product_id",
            "unknown_product",
            "is not a product of this organisation",
        )])
    };
    let id = path_id(product_id, "prd", "product").map_err(|_| unknown())?;
    let product = products::find(conn, &org.id, &id)?.ok_or_else(unknown)?;
    let period = match billing_period {
        Some(p) => p.to_string(),
        None => period_name(product.next_period_months.unwrap_or(product.period_months)).into(),
    };
    let item = renewals::ItemInput {
        product_id: id,
        billing_period: period,
    };
    let terms = renewals::check_items(conn, catalog, org, &[item], now)?;
    Ok(renewals::lines(catalog, org, &terms))
}

/// The lines of one offer item, as an order prices it (its period from today).
fn offer_lines(
    catalog: &Catalog,
    org: &Organization,
    input: &ItemInput,
    offer_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<NewLine>, AppError> {
    let Some(period) = input.billing_period.clone() else {
        return Err(AppError::validation(vec![invalid(
            "/items/0/billing_period",
            "required",
            "an offer is priced for one of its periods (`P1M`, `P1Y` …)",
        )]));
    };
    let item = orders::ItemInput {
        offer_id: offer_id.to_string(),
        billing_period: period,
        options: input.options.clone().unwrap_or_default(),
        domain_name: None,
    };
    let currency = crate::domain::orgs::Currency::from_code(&org.currency);
    let checked = orders::check_items(catalog, std::slice::from_ref(&item), currency)?;
    Ok(checked
        .iter()
        .flat_map(|item| {
            let end = now
                .checked_add_months(Months::new(item.months.max(1) as u32))
                .unwrap_or(now);
            orders::order_lines(catalog, org, item, None)
                .into_iter()
                .map(move |mut l| {
                    l.period = Some((now, end));
                    l
                })
        })
        .collect())
}

/// Prices `items` for `org`: the lines, in the items' order. Every item's errors at once.
pub fn price(
    conn: &mut DbConnection,
    catalog: &Catalog,
    org: &Organization,
    items: &[ItemInput],
    now: NaiveDateTime,
) -> Result<Vec<NewLine>, AppError> {
    // Too many items are refused before any is looked at.
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(AppError::validation(vec![invalid(
            "/items",
            "out_of_range",
            format!("give 1 to {MAX_ITEMS} items"),
        )]));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let priced = match (&item.product_id, &item.offer_id) {
            (Some(product_id), None) => {
                if item.options.is_some() {
                    Err(AppError::validation(vec![invalid(
                        "/items/0/options",
                        "not_allowed",
                        "a product is priced with its own options",
                    )]))
                } else if !seen.insert(product_id.as_str()) {
                    Err(AppError::validation(vec![invalid(
                        "/items/0/product_id",
                        "duplicate_item",
                        "this product is listed twice",
                    )]))
                } else {
                    product_lines(
                        conn,
                        catalog,
                        org,
                        product_id,
                        item.billing_period.as_deref(),
                        now,
                    )
                }
            }
            (None, Some(offer_id)) => offer_lines(catalog, org, item, offer_id, now),
            _ => Err(AppError::validation(vec![invalid(
                "/items/0",
                "product_or_offer",
                "give either `product_id` or `offer_id`",
            )])),
        };
        match priced {
            Ok(l) => lines.extend(l),
            Err(e) if e.code == "validation_failed" => errors.extend(at_item(e, i).errors),
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(AppError::validation(errors))
    }
}

/// Makes a pro forma of `items` for the caller's organisation (holders of `accounting`): priced,
/// numbered and stored with one activity record, in one transaction. Nothing else changes.
pub async fn create(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    items: Vec<ItemInput>,
) -> Result<ProForma, AppError> {
    let catalog = ctx.catalog.clone();
    let request = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            let access = request.authorize(c)?;
            let org = &access.org;
            let user = request.caller.user_id.to_string();
            let now = db::now();
            let lines = price(c, &catalog, org, &items, now)?;
            // The transfer's reference names the pro forma itself (no payment is made).
            let pro_forma = renewals::store_pro_forma(
                c,
                org,
                &user,
                &lines,
                crate::services::payments::transfer_reference,
                now + chrono::Duration::days(VALID_DAYS),
                now,
            )?;
            activity::record(
                c,
                &meta,
                Event::pro_forma_created(&user, &pro_forma, &items_summary(&items)),
            )?;
            Ok(pro_forma)
        })
    })
    .await
}

/// What was asked for, for the activity record: the products and offers priced.
fn items_summary(items: &[ItemInput]) -> serde_json::Value {
    items
        .iter()
        .map(|i| match (&i.product_id, &i.offer_id) {
            (Some(p), _) => {
                serde_json::json!({"product_id": p, "billing_period": i.billing_period})
            }
            (_, o) => serde_json::json!({"offer_id": o, "billing_period": i.billing_period}),
        })
        .collect()
}

/// Credits, in the caller's transaction (the organisation locked, the provider's event recorded
/// once), a bank transfer that quoted `pro_forma`'s reference — a pro forma made on request,
/// which has no payment of its own. The money arrived, so it is never dropped: its amount (the
/// pro forma's total: the reference names it) goes in full to the organisation's prepaid
/// account, whatever the ceiling and whether the pro forma lapsed, through a succeeded bank
/// transfer payment (a top-up) linked to the pro forma. The first such payment settles the pro
/// forma (`credited`, and it keeps it); a later transfer quoting it is credited the same way.
/// Nothing is ordered or invoiced. The requester, still a member, is mailed a receipt; one
/// activity. Money in another currency than the organisation's is refused (409, rolled back)
/// like any movement of the prepaid account: the currency lock makes it unreachable.
pub fn credit_transfer(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    meta: &Origin,
    pro_forma: &ProForma,
) -> Result<crate::models::payments::Payment, AppError> {
    use crate::domain::billing_states::{
        PaymentMethodKind, PaymentPurpose, PaymentStatus, PrepaidTransactionKind,
    };
    use crate::domain::money::Money;
    use crate::domain::orgs::Currency;
    use crate::models::{memberships, organizations, payments, pro_formas};
    let org = organizations::find(conn, &pro_forma.organization_id)?
        .ok_or_else(|| AppError::internal("pro forma's organisation vanished"))?;
    if org.currency != pro_forma.currency {
        return Err(crate::services::prepaid::other_currency(
            &org.currency,
            &pro_forma.currency,
        ));
    }
    let now = db::now();
    let payment = crate::models::payments::Payment {
        id: db::new_id("pay"),
        organization_id: pro_forma.organization_id.clone(),
        invoice_id: None,
        purpose: PaymentPurpose::TopUp,
        method: PaymentMethodKind::BankTransfer,
        payment_method_id: None,
        amount_minor: pro_forma.total_minor,
        currency: pro_forma.currency.clone(),
        status: PaymentStatus::Succeeded,
        // The reference is the pro forma's (several transfers may quote it; references of
        // payments are unique): the pro forma names it.
        gateway_reference: None,
        failure_code: None,
        refunded_minor: 0,
        created_by: pro_forma.created_by.clone(),
        created_at: now,
        settled_at: Some(now),
        pro_forma_id: Some(pro_forma.id.clone()),
    };
    payments::insert(conn, &payment)?;
    crate::services::outgoing_webhooks::payment_succeeded(conn, &payment)?;
    let row = crate::services::prepaid::post(
        conn,
        &crate::models::prepaid::Posting {
            organization_id: &payment.organization_id,
            kind: PrepaidTransactionKind::TopUp,
            amount_minor: payment.amount_minor,
            currency: &payment.currency,
            payment_id: Some(&payment.id),
            invoice_id: None,
            iban: None,
            created_by: None,
        },
        // Money that arrived is credited whatever the ceiling.
        i64::MAX,
        || AppError::internal("a credit cannot fail"),
    )?;
    let settled = pro_formas::mark_credited(conn, &pro_forma.id, &payment.id, now)?;
    let currency = Currency::from_code(&payment.currency);
    // The requester is told, unless they left the organisation since.
    if memberships::find(conn, &org.id, &pro_forma.created_by)?.is_some() {
        crate::services::payments::send_receipt(
            conn,
            config,
            "top_up_receipt",
            &pro_forma.created_by,
            &org.id,
            serde_json::json!({
                "amount": Money::from_minor(payment.amount_minor, currency).display(),
                "balance": Money::from_minor(row.balance_after_minor, currency).display(),
                "method": PaymentMethodKind::BankTransfer.as_str(),
                "pro_forma_number": pro_forma.number,
            }),
        )?;
    }
    activity::record(
        conn,
        meta,
        Event::pro_forma_credited(
            pro_forma,
            &payment,
            &row.id,
            row.balance_after_minor,
            settled,
        ),
    )?;
    Ok(payment)
}
