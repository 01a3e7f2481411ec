//! Payment profiles (R29): saved methods for faster payment, one of them (or the prepaid
//! account) the default. Cards come as a token from the provider's hosted form; we keep its
//! brand, last four digits and expiry only.

use iban::IbanLike as _;

use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::billing_states::MethodType;
use crate::domain::ids::PaymentMethodId;
use crate::error::AppError;
use crate::models::organizations::Organization;
use crate::models::payment_methods::{self, PaymentMethod};
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;
use crate::services::prepaid::{mask_iban, parse_iban};

/// The id under which the prepaid account is listed and chosen as the default.
pub const PREPAID: &str = "prepaid";

pub struct NewMethod {
    pub kind: MethodType,
    pub token: Option<String>,
    pub iban: Option<String>,
    pub label: Option<String>,
}

/// The saved method `id` that may pay for the organisation (its own, not removed), in the
/// caller's transaction; otherwise the field error at `pointer`. Paying an invoice and ordering
/// with a payment both ask it, so a method refused by one is refused by the other.
pub fn may_pay(
    conn: &mut DbConnection,
    org_id: &str,
    id: Option<&str>,
    pointer: &str,
) -> Result<PaymentMethod, AppError> {
    let id = id.ok_or_else(|| {
        AppError::field(
            pointer,
            "required",
            "give the saved payment method to charge",
        )
    })?;
    payment_methods::find(conn, org_id, id)?.ok_or_else(|| {
        AppError::field(
            pointer,
            "unknown_payment_method",
            "is not a payment method of this organisation",
        )
    })
}

/// The organisation (with its default), its saved methods and its prepaid balance (minor units).
pub async fn list(
    pool: &Pool,
    org: &OrgRequest,
) -> Result<(Organization, Vec<PaymentMethod>, i64), AppError> {
    let access = org.access(pool).await?;
    let org = access.org;
    let id = org.id.clone();
    let (methods, balance) = db::run(pool, move |conn| {
        Ok((
            payment_methods::list(conn, &id)?,
            crate::models::prepaid::balance(conn, &id)?,
        ))
    })
    .await?;
    Ok((org, methods, balance))
}

/// Saves a method.
pub async fn create(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    input: NewMethod,
) -> Result<PaymentMethod, AppError> {
    let org_id = org.org_id.clone();
    let now = db::now();
    let mut method = PaymentMethod {
        id: db::new_id("pm"),
        organization_id: org_id.to_string(),
        kind: input.kind,
        label: String::new(),
        card_brand: None,
        card_last4: None,
        card_exp_month: None,
        card_exp_year: None,
        iban: None,
        gateway_token: None,
        created_at: now,
        deleted_at: None,
    };
    match input.kind {
        MethodType::Card => {
            let token = input
                .token
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| {
                    AppError::field(
                        "/token",
                        "required",
                        "a card is saved from the provider's token",
                    )
                })?;
            let gateway = ctx.gateway.clone();
            let t = token.clone();
            let card = tokio::task::spawn_blocking(move || gateway.card_details(&t))
                .await
                .map_err(|e| AppError::internal(e.to_string()))?
                .map_err(|_| {
                    AppError::field(
                        "/token",
                        "invalid_card_token",
                        "is not a card token the payment provider knows",
                    )
                })?;
            method.label = format!("{} ····{}", capitalise(&card.brand), card.last4);
            method.card_brand = Some(card.brand);
            method.card_last4 = Some(card.last4);
            method.card_exp_month = Some(card.exp_month);
            method.card_exp_year = Some(card.exp_year);
            method.gateway_token = Some(token);
        }
        MethodType::BankTransfer => {
            let raw = input.iban.ok_or_else(|| {
                AppError::field("/iban", "required", "a bank account needs its IBAN")
            })?;
            let iban = parse_iban(&raw, "/iban")?;
            method.label = format!("IBAN {}", mask_iban(iban.electronic_str()));
            method.iban = Some(iban.electronic_str().to_string());
        }
        kind => {
            method.label = input
                .label
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| default_label(kind).to_string());
            method.gateway_token = Some(format!("{}_{}", kind.as_str(), &method.id));
        }
    }
    if method.label.chars().count() > 100 {
        return Err(AppError::field(
            "/label",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    let (row, org) = (method.clone(), org.clone());
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            org.authorize(c)?;
            let caller = &org.caller;
            payment_methods::insert(c, &row)?;
            activity::record(
                c,
                &meta,
                Event::payment_method_added(&caller.user_id, &org_id, &row),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(method)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn default_label(kind: MethodType) -> &'static str {
    match kind {
        MethodType::Twint => "TWINT",
        MethodType::Postfinance => "PostFinance",
        MethodType::Paypal => "PayPal",
        MethodType::Ebill | MethodType::Card | MethodType::BankTransfer => "eBill",
    }
}

/// Removes a saved method; the prepaid account is not removable. A card that paid automatic
/// renewals turns them off, and the organisation's accounting holders are told (R39).
pub async fn delete(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    raw_id: &str,
) -> Result<(), AppError> {
    if raw_id == PREPAID {
        return Err(AppError::conflict(
            "prepaid_not_deletable",
            "The prepaid account is always there; withdraw its balance instead.",
        ));
    }
    let id = PaymentMethodId::parse(raw_id)?;
    let org = org.clone();
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let (caller, org_id) = (&org.caller, &org.org_id);
            payment_methods::find(c, org_id, &id)?
                .ok_or_else(|| AppError::not_found("No such payment method."))?;
            payment_methods::delete(c, &id, db::now())?;
            crate::services::auto_renewal::card_gone(
                c,
                &config,
                &meta,
                Some(&caller.user_id),
                &id,
                "card_removed",
                db::now(),
            )?;
            if access.org.default_payment_method.as_deref() == Some(id.as_str()) {
                payment_methods::set_default(c, org_id, None)?;
            }
            activity::record(
                c,
                &meta,
                Event::payment_method_removed(&caller.user_id, org_id, &id),
            )?;
            Ok(())
        })
    })
    .await
}

/// Makes a saved method, or the prepaid account (`prepaid`), the default.
pub async fn make_default(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    raw_id: &str,
) -> Result<(), AppError> {
    let id = if raw_id == PREPAID {
        raw_id.to_string()
    } else {
        PaymentMethodId::parse(raw_id)?.into_inner()
    };
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            org.authorize(c)?;
            let (caller, org_id) = (&org.caller, &org.org_id);
            if id != PREPAID {
                payment_methods::find(c, org_id, &id)?
                    .ok_or_else(|| AppError::not_found("No such payment method."))?;
            }
            payment_methods::set_default(c, org_id, Some(&id))?;
            activity::record(
                c,
                &meta,
                Event::payment_method_made_default(&caller.user_id, org_id, &id),
            )?;
            Ok(())
        })
    })
    .await
}
