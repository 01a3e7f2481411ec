//! `leman demo-data`: a living API for a newcomer's `make run` — a demo account and an
//! organisation with payment methods, prepaid money, paid and open orders of several kinds —
//! and, with `--invoices N`, N more paid invoices generated fast (for benchmarks).

use std::collections::BTreeMap;

use crate::auth::{Caller, secrets};
use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::actor::Origin;
use crate::domain::billing_states::{InvoiceStatus, MethodType};
use crate::domain::ids::OrgId;
use crate::domain::money::Money;
use crate::domain::orgs::{BillingAddress, Currency, Need, Permission};
use crate::error::AppError;
use crate::models::invoices::{self, Invoice, InvoiceLine};
use crate::models::users;
use crate::services::accounts::{self, SignUp};
use crate::services::orders::{self, ItemInput};
use crate::services::orgs::{self, NewOrganization, OrgRequest};
use crate::services::payment_methods::{self, NewMethod};
use crate::services::payments::{PaymentInput, PaymentMethodKind};

pub const DEMO_EMAIL: &str = "demo@leman.localhost";

fn item(offer: &str, period: &str, options: &[(&str, i64)]) -> ItemInput {
    ItemInput {
        offer_id: offer.into(),
        billing_period: period.into(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
        domain_name: offer
            .starts_with("domain-")
            .then(|| format!("leman-demo.{}", &offer["domain-".len()..])),
    }
}

/// Creates the demo data (once) and `invoices` more paid invoices; returns what to print.
pub async fn create(ctx: &Services, invoices: u64) -> Result<String, AppError> {
    let existing = {
        let pool = ctx.pool.clone();
        db::run(&pool, |c| Ok(users::find_by_email(c, DEMO_EMAIL)?)).await?
    };
    let (user_id, mut message) = match existing {
        Some(u) => (
            u.id,
            format!("demo account {DEMO_EMAIL} exists (its password was printed when it was made)"),
        ),
        None => {
            let password = format!("demo-{}", &secrets::new_secret("")[..16]);
            let user = accounts::create_verified(
                &ctx.pool,
                SignUp {
                    email: DEMO_EMAIL.into(),
                    password: password.clone(),
                    first_name: "Zoë".into(),
                    last_name: "Demo".into(),
                    language: Some("fr".into()),
                    timezone: Some("Europe/Zurich".into()),
                },
            )
            .await?;
            let caller = caller_of(ctx, &user.id).await?;
            populate(ctx, caller).await?;
            (user.id, format!("demo login: {DEMO_EMAIL} / {password}"))
        }
    };
    if invoices > 0 {
        let caller = caller_of(ctx, &user_id).await?;
        let (org, _) = orgs::list_mine(
            &ctx.pool,
            &caller,
            crate::domain::page::PageParams {
                limit: Some(1),
                cursor: None,
            },
        )
        .await?;
        let org_id = org
            .first()
            .map(|(m, _)| m.organization_id.clone())
            .ok_or_else(|| AppError::internal("the demo account has no organisation"))?;
        let config = ctx.config.clone();
        db::run(&ctx.pool, move |conn| {
            generate_invoices(conn, &config, &org_id, invoices)
        })
        .await?;
        message.push_str(&format!("\n{invoices} invoices generated"));
    }
    Ok(message)
}

async fn caller_of(ctx: &Services, user_id: &str) -> Result<Caller, AppError> {
    let id = user_id.to_string();
    let account = db::run(&ctx.pool, move |c| Ok(users::find_caller(c, &id)?))
        .await?
        .ok_or_else(|| AppError::internal("demo account vanished"))?;
    Ok(Caller::acting_as(account))
}

async fn populate(ctx: &Services, caller: Caller) -> Result<(), AppError> {
    let meta = Origin::operator("demo-data");
    let (org, _) = orgs::create(
        &ctx.pool,
        meta.clone(),
        caller.clone(),
        NewOrganization {
            name: "Demo Sàrl".into(),
            country: "CH".into(),
            currency: Currency::Chf,
            billing_address: BillingAddress {
                line1: "Rue du Rhône 12".into(),
                line2: None,
                postal_code: "1204".into(),
                city: "Genève".into(),
            },
            vat_number: Some("CHE-123.456.789".into()),
        },
    )
    .await?;
    // The demo's owner acts as a member would, through the routes' requirements.
    let accounting = OrgRequest {
        caller: caller.clone(),
        org_id: OrgId::from_db(org.id.clone()),
        need: Need::Permission(Permission::Accounting),
    };
    let ordering = OrgRequest {
        need: Need::Both(Permission::Products, Permission::Accounting),
        ..accounting.clone()
    };
    let method = |kind: MethodType, token: Option<&str>, iban: Option<&str>| NewMethod {
        kind,
        token: token.map(str::to_string),
        iban: iban.map(str::to_string),
        label: None,
    };
    let card = payment_methods::create(
        ctx,
        meta.clone(),
        &accounting,
        method(MethodType::Card, Some("tok_visa"), None),
    )
    .await?;
    payment_methods::create(
        ctx,
        meta.clone(),
        &accounting,
        method(MethodType::Twint, None, None),
    )
    .await?;
    payment_methods::create(
        ctx,
        meta.clone(),
        &accounting,
        method(
            MethodType::BankTransfer,
            None,
            Some("CH93 0076 2011 6238 5295 7"),
        ),
    )
    .await?;
    payment_methods::make_default(&ctx.pool, meta.clone(), &accounting, &card.id).await?;
    crate::services::prepaid::top_up(
        ctx,
        meta.clone(),
        &accounting,
        Money::from_minor(30000, Currency::Chf),
        card.id.clone(),
    )
    .await?;
    let by_card = PaymentInput {
        method: PaymentMethodKind::PaymentMethod,
        payment_method_id: Some(card.id.clone()),
    };
    let by_prepaid = PaymentInput {
        method: PaymentMethodKind::Prepaid,
        payment_method_id: None,
    };
    for (items, payment) in [
        (
            vec![
                item("domain-ch", "P2Y", &[]),
                item("ksuite-standard", "P1Y", &[("users", 8)]),
            ],
            Some(by_card),
        ),
        (
            vec![item("web-hosting-starter", "P1Y", &[])],
            Some(by_prepaid),
        ),
        (vec![item("kdrive-solo", "P1M", &[])], None),
    ] {
        orders::create_and_pay(ctx, meta.clone(), &ordering, items, payment).await?;
    }
    Ok(())
}

/// Inserts `n` paid invoices of one line each into the organisation, issued over the current
/// year, numbered from the issuer's counter like any other (a batch's numbers taken at once).
pub fn generate_invoices(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    org_id: &str,
    n: u64,
) -> Result<(), AppError> {
    let org = crate::models::organizations::find(conn, org_id)?
        .ok_or_else(|| AppError::internal("no such organisation"))?;
    let now = db::now();
    let year = chrono::Datelike::year(&now);
    let start_of_year = chrono::NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(now);
    let span = (now - start_of_year).num_seconds().max(1) as u64;
    const BATCH: u64 = 5_000;
    let mut done = 0;
    while done < n {
        let size = BATCH.min(n - done);
        db::write(conn, |c| {
            let first = invoices::reserve_numbers(c, &config.invoice_issuer, year, size as i64)?;
            for i in 0..size {
                let k = done + i;
                // Oldest first, spread evenly over the year so far.
                let issued =
                    start_of_year + chrono::Duration::seconds((k * span / n.max(1)) as i64);
                let id = db::new_id("inv");
                let net = 1000 + (k % 9000) as i64;
                let vat = (net * 81 + 500) / 1000;
                let invoice = Invoice {
                    id: id.clone(),
                    organization_id: org.id.clone(),
                    issuer: config.invoice_issuer.clone(),
                    number: format!("{year}-{:06}", first + i as i64),
                    status: InvoiceStatus::Paid,
                    currency: org.currency.clone(),
                    subtotal_minor: net,
                    vat_minor: vat,
                    total_minor: net + vat,
                    refunded_minor: 0,
                    customer_name: org.name.clone(),
                    customer_address: format!(
                        "{}\n{} {}\n{}",
                        org.address_line1, org.postal_code, org.city, org.country
                    ),
                    customer_country: org.country.clone(),
                    customer_vat_number: org.vat_number.clone(),
                    order_id: None,
                    issued_at: issued,
                    due_at: issued + chrono::Duration::days(30),
                    paid_at: Some(issued),
                    cancelled_at: None,
                    updated_at: issued,
                };
                let line = InvoiceLine {
                    id: db::new_id("inl"),
                    invoice_id: id,
                    position: 1,
                    description: "Web hosting Starter (P1M)".into(),
                    product_id: None,
                    quantity: 1,
                    unit_price_minor: net,
                    vat_rate: "8.1".into(),
                    net_minor: net,
                    vat_minor: vat,
                    total_minor: net + vat,
                    period_start: Some(issued),
                    period_end: issued.checked_add_months(chrono::Months::new(1)),
                };
                invoices::insert(c, &invoice, &[line])?;
            }
            Ok::<_, AppError>(())
        })?;
        done += size;
    }
    Ok(())
}
