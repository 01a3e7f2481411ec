//! Auto-renewal settings (R39, R41): per product or several at once (all or nothing), paid only
//! by a saved card; refused within 14 days of expiry (renew first); off at any time. A card
//! removed (or found expired by the scheduler) turns it off for the products it paid and tells
//! the organisation's accounting holders.

use chrono::{Datelike, Duration, NaiveDateTime};

use crate::config::Config;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::billing_states::{MethodType, ProductStatus};
use crate::domain::invalid;
use crate::error::AppError;
use crate::mail;
use crate::models::organizations::Organization;
use crate::models::payment_methods::{self, PaymentMethod};
use crate::models::products::{self, Product};
use crate::models::renewal_schedule;
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;

/// Auto-renewal cannot be turned on this close to the expiry (R41): the first charge would be
/// late (R40 charges 14 days before).
pub const TOO_LATE_DAYS: i64 = 14;

/// How many products one bulk request may name.
pub const MAX_PRODUCTS: usize = 100;

/// What to set.
#[derive(Debug, Clone)]
pub struct Setting {
    pub enabled: bool,
    /// The saved card; omitted, the organisation's default method if it is a card.
    pub payment_method_id: Option<String>,
}

/// Whether a card's expiry (month and year, valid through the month's end) has passed at `now`.
pub fn card_expired(m: &PaymentMethod, now: NaiveDateTime) -> bool {
    match (m.card_exp_year, m.card_exp_month) {
        (Some(y), Some(mo)) => (y, mo as u32) < (now.year(), now.month()),
        _ => false,
    }
}

/// Whether `p` expires within `TOO_LATE_DAYS` of `now`.
pub fn too_late(p: &Product, now: NaiveDateTime) -> bool {
    p.expires_at
        .is_some_and(|e| e - now < Duration::days(TOO_LATE_DAYS))
}

fn needs_card(detail: &str) -> AppError {
    let mut e = AppError::unprocessable(
        "auto_renewal_needs_card",
        format!("Only a saved card can pay automatic renewals: {detail}."),
    );
    e.errors = vec![invalid(
        "/payment_method_id",
        "auto_renewal_needs_card",
        detail.to_string(),
    )];
    e
}

pub fn too_late_error() -> AppError {
    AppError::conflict(
        "auto_renewal_too_late",
        "This product expires within 14 days: automatic renewal would come too late. Renew it \
         first (POST /v1/orgs/{org_id}/renewals); automatic renewal can be turned on for the next \
         term.",
    )
}

/// The saved card that will pay: the one named, or the organisation's default if it is a card;
/// a method of another kind, removed, expired or missing is 422 `auto_renewal_needs_card`.
fn resolve_card(
    conn: &mut DbConnection,
    org: &Organization,
    id: Option<&str>,
    now: NaiveDateTime,
) -> Result<PaymentMethod, AppError> {
    let id = match id.or(org.default_payment_method.as_deref()) {
        Some(id) if id != crate::services::payment_methods::PREPAID => id,
        _ => {
            return Err(needs_card(
                "give payment_method_id: the organisation's default method is not a saved card",
            ));
        }
    };
    let Some(method) = payment_methods::find(conn, &org.id, id)? else {
        return Err(needs_card(
            "is not a saved payment method of this organisation",
        ));
    };
    if method.kind != MethodType::Card {
        return Err(needs_card("this saved method is not a card"));
    }
    if card_expired(&method, now) {
        return Err(needs_card("this card has expired"));
    }
    Ok(method)
}

/// Why auto-renewal cannot be turned on for `p` (409 code and detail), if it cannot.
fn refusal(p: &Product, now: NaiveDateTime) -> Option<(&'static str, String)> {
    if p.status != ProductStatus::Active || p.expires_at.is_none() {
        return Some((
            "product_not_renewable",
            format!(
                "a {} product does not renew automatically",
                p.status.as_str()
            ),
        ));
    }
    if too_late(p, now) {
        return Some((
            "auto_renewal_too_late",
            "expires within 14 days: renew it first".to_string(),
        ));
    }
    None
}

/// Sets auto-renewal of `ids` (all or nothing). `bulk`: errors point at `/product_ids/{i}` in a
/// 422; otherwise the one product's error is its own status (404, 409).
pub async fn set(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    ids: Vec<String>,
    setting: Setting,
    bulk: bool,
    now: NaiveDateTime,
) -> Result<Vec<Product>, AppError> {
    // Shaped like a payment method's id even when it is not used (turning auto-renewal off):
    // the spec declares its pattern, and a malformed value is refused, not ignored (turning it
    // on, an unknown id is 422 `auto_renewal_needs_card` below).
    if !setting.enabled
        && let Some(raw) = setting.payment_method_id.as_deref()
        && crate::domain::ids::PaymentMethodId::parse(raw).is_err()
    {
        return Err(AppError::field(
            "/payment_method_id",
            "invalid_id",
            "is not a payment method id (pm_ and 32 hex digits)",
        ));
    }
    let org = org.clone();
    db::run(pool, move |conn| {
        db::write_retrying(conn, |c| {
            let access = org.authorize(c)?;
            let actor = org.caller.user_id.as_str();
            if bulk && (ids.is_empty() || ids.len() > MAX_PRODUCTS) {
                return Err(AppError::field(
                    "/product_ids",
                    "out_of_range",
                    format!("give 1 to {MAX_PRODUCTS} products"),
                ));
            }
            let card = match setting.enabled {
                true => Some(resolve_card(
                    c,
                    &access.org,
                    setting.payment_method_id.as_deref(),
                    now,
                )?),
                false => None,
            };
            let mut errors = Vec::new();
            let mut found = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let at = format!("/product_ids/{i}");
                if ids[..i].contains(id) {
                    errors.push(invalid(
                        &at,
                        "duplicate_item",
                        "this product is listed twice",
                    ));
                    continue;
                }
                let Some(p) = products::find(c, &org.org_id, id)? else {
                    if !bulk {
                        return Err(AppError::not_found("No such product."));
                    }
                    errors.push(invalid(
                        &at,
                        "unknown_product",
                        "is not a product of this organisation",
                    ));
                    continue;
                };
                if setting.enabled
                    && let Some((code, detail)) = refusal(&p, now)
                {
                    if !bulk {
                        return Err(if code == "auto_renewal_too_late" {
                            too_late_error()
                        } else {
                            AppError::conflict(
                                "product_not_renewable",
                                format!("This product cannot renew automatically: {detail}."),
                            )
                        });
                    }
                    errors.push(invalid(&at, code, detail));
                    continue;
                }
                found.push(p);
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let method_id = card.as_ref().map(|m| m.id.as_str());
            let mut out = Vec::new();
            for p in found {
                let changed = p.auto_renew != setting.enabled
                    || p.auto_renew_payment_method_id.as_deref() != method_id;
                if changed {
                    renewal_schedule::set_auto_renew(
                        c,
                        std::slice::from_ref(&p.id),
                        method_id,
                        now,
                    )?;
                    let event = match method_id {
                        Some(m) => Event::auto_renewal_enabled(actor, &org.org_id, &p.id, m),
                        None => Event::auto_renewal_disabled(
                            Some(actor),
                            &org.org_id,
                            &p.id,
                            "turned_off",
                        ),
                    };
                    activity::record(c, &meta, event)?;
                }
                out.push(renewal_schedule::find_product(c, &p.id)?.unwrap_or(p));
            }
            Ok(out)
        })
    })
    .await
}

/// The facts a renewal mail shows about `p`.
pub fn product_context(p: &Product, kind: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": kind,
        "product_name": p.name,
        "expires_on": p.expires_at.map(|e| e.date().to_string()).unwrap_or_default(),
    })
}

/// Mails every accounting holder of `org_id` (admins, legal representatives, members with
/// `accounting`) the `renewal_notice` of `context` in their language, in the caller's
/// transaction (the outbox); `except`: a user already told (the payer's receipt).
pub fn tell_accounting_holders(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    except: Option<&str>,
    context: serde_json::Value,
) -> Result<usize, AppError> {
    tell_accounting_holders_with(conn, config, org_id, except, context, &[])
}

/// `tell_accounting_holders`, each mail carrying `attachments` (a paid renewal's invoice PDF
/// when the organisation asked for it: `billing_settings::invoice_attachments`, R27).
pub fn tell_accounting_holders_with(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    except: Option<&str>,
    mut context: serde_json::Value,
    attachments: &[mail::Attachment],
) -> Result<usize, AppError> {
    let Some(org) = crate::models::organizations::find(conn, org_id)? else {
        return Ok(0);
    };
    context["organization_name"] = org.name.clone().into();
    let mut sent = 0;
    for (_, user) in renewal_schedule::accounting_holders(conn, org_id)? {
        if Some(user.id.as_str()) == except {
            continue;
        }
        context["first_name"] = user.first_name.clone().into();
        mail::send_with_attachments(
            conn,
            config,
            "renewal_notice",
            &user.language,
            &user.email,
            context.clone(),
            attachments,
        )?;
        sent += 1;
    }
    Ok(sent)
}

/// The card `method_id` went (removed, or found expired): auto-renewal of the products it paid
/// turns off, each with its activity, and the accounting holders are told; in the caller's
/// transaction. Returns the products turned off.
pub fn card_gone(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    actor: Option<&str>,
    method_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Vec<Product>, AppError> {
    let paid = renewal_schedule::paid_by(conn, method_id)?;
    for p in &paid {
        renewal_schedule::set_auto_renew(conn, std::slice::from_ref(&p.id), None, now)?;
        activity::record(
            conn,
            meta,
            Event::auto_renewal_disabled(actor, &p.organization_id, &p.id, reason),
        )?;
        tell_accounting_holders(
            conn,
            config,
            &p.organization_id,
            None,
            product_context(p, "card_removed"),
        )?;
    }
    Ok(paid)
}
