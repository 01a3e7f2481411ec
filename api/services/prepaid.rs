//! The prepaid account (R30–R32): topped up from a saved payment method within configured
//! limits, spent on invoices, withdrawn to a bank account. Its ledger is append-only and sums
//! to the balance, which never goes below zero nor above the ceiling (see `models::prepaid`).

use crate::error::Status;
use rust_decimal::Decimal;

use iban::IbanLike as _;

use crate::config::Config;
use crate::context::Services;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::billing_states::{PaymentPurpose, PrepaidTransactionKind};
use crate::domain::money::{Money, parse_amount, to_minor};
use crate::domain::orgs::Currency;
use crate::domain::page::PageParams;
use crate::error::AppError;
use crate::models::payment_methods;
use crate::models::payments::{self, Payment};
use crate::models::prepaid::{self, Moved, Posting, PrepaidTransaction};
use crate::services::activity::{self, Event};
use crate::services::orgs::{self, OrgRequest};
use crate::services::payments::pending_payment;

pub fn currency_mismatch(expected: Currency) -> AppError {
    AppError::unprocessable(
        "currency_mismatch",
        format!(
            "This organisation is billed in {}: give amounts in it.",
            expected.as_str()
        ),
    )
}

/// Money in `currency` met an account holding `held`: refused, nothing moves (money never
/// changes currency one-to-one). The currency lock and the organisation's row lock make it
/// unreachable; the ledger's foreign key to the account's currency holds it in the database.
pub fn other_currency(held: &str, currency: &str) -> AppError {
    AppError::conflict(
        "prepaid_currency_mismatch",
        format!(
            "The prepaid account holds {held}; money in {currency} cannot move in or out of it."
        ),
    )
}

/// Posts a movement of the prepaid account in the caller's transaction (the one way money
/// moves there, see `models::prepaid::post`), after the organisation's lock (the concurrency
/// rule) and before any invoice or payment. When the balance would leave 0..=`ceiling`, the
/// answer is `refused()` and the caller rolls back.
pub fn post(
    conn: &mut DbConnection,
    posting: &Posting<'_>,
    ceiling: i64,
    refused: impl FnOnce() -> AppError,
) -> Result<PrepaidTransaction, AppError> {
    match prepaid::post(conn, posting, ceiling, db::now())? {
        Ok(row) => Ok(row),
        Err(Moved::OtherCurrency(held)) => Err(other_currency(&held, posting.currency)),
        Err(_) => Err(refused()),
    }
}

fn out_of_range(detail: String) -> AppError {
    AppError::unprocessable("amount_out_of_range", detail)
}

/// The amount of a request, in the organisation's currency, checked (all errors at `field`).
pub fn checked_amount(
    amount: &Money,
    org_currency: Currency,
    field: &str,
) -> Result<Decimal, AppError> {
    let value = parse_amount(amount.amount, field).map_err(|e| AppError::validation(vec![e]))?;
    if amount.currency != org_currency {
        return Err(currency_mismatch(org_currency));
    }
    Ok(value)
}

/// An IBAN, checked (country format and checksum) and in its compact form.
pub fn parse_iban(raw: &str, field: &str) -> Result<iban::Iban, AppError> {
    raw.trim()
        .to_ascii_uppercase()
        .parse::<iban::Iban>()
        .map_err(|_| {
            AppError::field(
                field,
                "invalid_iban",
                "is not a valid IBAN (check digits and country format)",
            )
        })
}

/// `CH93 **** **** **** *957 2`: enough to recognise an account, not to use it.
pub fn mask_iban(compact: &str) -> String {
    let chars: Vec<char> = compact.chars().collect();
    let n = chars.len();
    let masked: String = chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 4 || i + 5 >= n { *c } else { '*' })
        .collect();
    masked
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct Account {
    pub balance: Money,
    pub currency: Currency,
}

/// The balance (accounting).
pub async fn account(pool: &Pool, org: &OrgRequest) -> Result<Account, AppError> {
    let access = org.access(pool).await?;
    let currency = Currency::from_code(&access.org.currency);
    let org_id = access.org.id.clone();
    let minor = db::run(pool, move |conn| Ok(prepaid::balance(conn, &org_id)?)).await?;
    Ok(Account {
        balance: Money::from_minor(minor, currency),
        currency,
    })
}

/// A page of the ledger, newest first.
pub async fn ledger(
    pool: &Pool,
    org: &OrgRequest,
    page: PageParams,
) -> Result<(Vec<PrepaidTransaction>, Option<String>), AppError> {
    orgs::page_in(pool, org, page, prepaid::page, |t| (t.created_at, &t.id)).await
}

/// Credits a succeeded top-up payment, in the caller's transaction (from the charge's answer or
/// the provider's webhook). The ceiling was checked when it was asked for: money already taken
/// is always credited.
pub fn credit_top_up(
    conn: &mut DbConnection,
    config: &Config,
    meta: &Origin,
    payment: &Payment,
) -> Result<(), AppError> {
    let balance = post(
        conn,
        &Posting {
            organization_id: &payment.organization_id,
            kind: PrepaidTransactionKind::TopUp,
            amount_minor: payment.amount_minor,
            currency: &payment.currency,
            payment_id: Some(&payment.id),
            invoice_id: None,
            iban: None,
            created_by: Some(&payment.created_by),
        },
        i64::MAX,
        || AppError::internal("a credit cannot fail"),
    )?
    .balance_after_minor;
    let currency = Currency::from_code(&payment.currency);
    let method = crate::services::payments::method_label(conn, payment)?;
    crate::services::payments::send_receipt(
        conn,
        config,
        "top_up_receipt",
        &payment.created_by,
        &payment.organization_id,
        serde_json::json!({
            "amount": Money::from_minor(payment.amount_minor, currency).display(),
            "balance": Money::from_minor(balance, currency).display(),
            "method": method,
        }),
    )?;
    activity::record(
        conn,
        meta,
        Event::prepaid_topped_up(payment, currency, balance),
    )?;
    Ok(())
}

/// What became of a top-up.
pub enum TopUp {
    Credited(Payment),
    Pending(Payment),
}

/// Tops the account up by `amount` from the saved method `payment_method_id`.
pub async fn top_up(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    amount: Money,
    payment_method_id: String,
) -> Result<TopUp, AppError> {
    let config = ctx.config.clone();
    let (payment, method) = db::run(&ctx.pool, {
        let (config, org) = (config.clone(), org.clone());
        move |conn| {
            db::write_retrying(conn, |c| {
                let access = org.authorize(c)?;
                let (caller, org_id) = (&org.caller, &org.org_id);
                let currency = Currency::from_code(&access.org.currency);
                let value = checked_amount(&amount, currency, "/amount")?;
                if value < config.prepaid_top_up_min || value > config.prepaid_top_up_max {
                    return Err(out_of_range(format!(
                        "A top-up is between {} and {}.",
                        Money::new(config.prepaid_top_up_min, currency).display(),
                        Money::new(config.prepaid_top_up_max, currency).display()
                    )));
                }
                // Pending top-ups count: once confirmed they are credited whatever the ceiling.
                prepaid::lock(c, org_id, currency.as_str(), db::now())?;
                let coming =
                    prepaid::balance(c, org_id)? + payments::pending_top_ups_minor(c, org_id)?;
                if coming + to_minor(value) > to_minor(config.prepaid_ceiling) {
                    return Err(out_of_range(format!(
                        "The balance, with the top-ups still being confirmed, may not exceed {}.",
                        Money::new(config.prepaid_ceiling, currency).display()
                    )));
                }
                let method =
                    payment_methods::find(c, org_id, &payment_method_id)?.ok_or_else(|| {
                        AppError::field(
                            "/payment_method_id",
                            "unknown_payment_method",
                            "is not a saved payment method of this organisation",
                        )
                    })?;
                let payment = pending_payment(
                    org_id,
                    PaymentPurpose::TopUp,
                    &method,
                    to_minor(value),
                    currency.as_str(),
                    &caller.user_id,
                );
                payments::insert(c, &payment)?;
                Ok((payment, method))
            })
        }
    })
    .await?;
    Ok(
        match crate::services::payments::charge_and_record(ctx, config, meta, payment, method)
            .await?
            .map_err(AppError::from)?
        {
            crate::services::payments::Outcome::Succeeded(p) => TopUp::Credited(p),
            crate::services::payments::Outcome::Pending(p) => TopUp::Pending(p),
        },
    )
}

/// Withdraws `amount` to the bank account `iban` (a sensitive action): refused, changing
/// nothing, when the balance does not cover it.
pub async fn withdraw(
    ctx: &Services,
    meta: Origin,
    org: &OrgRequest,
    amount: Money,
    iban: String,
) -> Result<PrepaidTransaction, AppError> {
    let config = ctx.config.clone();
    let org = org.clone();
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            let access = org.authorize(c)?;
            let (caller, org_id) = (&org.caller, &org.org_id);
            caller.require_recent_auth()?;
            let currency = Currency::from_code(&access.org.currency);
            let value = checked_amount(&amount, currency, "/amount")?;
            let iban = parse_iban(&iban, "/iban")?;
            let masked = mask_iban(iban.electronic_str());
            let t = post(
                c,
                &Posting {
                    organization_id: org_id,
                    kind: PrepaidTransactionKind::Withdrawal,
                    amount_minor: -to_minor(value),
                    currency: currency.as_str(),
                    payment_id: None,
                    invoice_id: None,
                    iban: Some(&masked),
                    created_by: Some(&caller.user_id),
                },
                i64::MAX,
                || {
                    AppError::new(
                        Status::Conflict,
                        "insufficient_prepaid_balance",
                        "The balance does not cover this withdrawal.",
                    )
                },
            )?;
            let balance = t.balance_after_minor;
            crate::services::payments::send_receipt(
                c,
                &config,
                "withdrawal_receipt",
                &caller.user_id,
                org_id,
                serde_json::json!({
                    "amount": Money::new(value, currency).display(),
                    "balance": Money::from_minor(balance, currency).display(),
                    "iban": masked,
                }),
            )?;
            activity::record(
                c,
                &meta,
                Event::prepaid_withdrawn(
                    &caller.user_id,
                    org_id,
                    &t.id,
                    Money::new(value, currency),
                    Money::from_minor(balance, currency),
                    &masked,
                ),
            )?;
            Ok(t)
        })
    })
    .await
}

/// Property tests (issue 15, part 7): any text is an IBAN or a 422, never a panic; an IBAN
/// parses back from its electronic and its print form, any case; a masked IBAN shows its ends.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const IBANS: [&str; 5] = [
        "CH9300762011623852957",
        "CH4431999123000889012",
        "DE89370400440532013000",
        "LI21088100002324013AA",
        "GB29NWBK60161331926819",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_an_iban_or_a_422(
            raw in prop_oneof![any::<String>(), "[A-Za-z]{2}[0-9]{2}[ 0-9A-Za-z]{10,34}"]
        ) {
            match parse_iban(&raw, "/iban") {
                Ok(iban) => {
                    let compact = iban.electronic_str().to_string();
                    let compact = compact.as_str();
                    let again = parse_iban(compact, "/iban").unwrap();
                    prop_assert_eq!(again.electronic_str(), compact);
                    let masked = mask_iban(compact);
                    prop_assert!(masked.starts_with(&compact[..4]));
                }
                Err(e) => prop_assert_eq!(e.status.as_u16(), 422),
            }
            let _ = mask_iban(&raw);
        }

        #[test]
        fn an_iban_parses_back_from_either_form_in_any_case(
            i in 0..IBANS.len(),
            lower in any::<bool>(),
            print in any::<bool>(),
            spaces in " {0,2}",
        ) {
            let iban: iban::Iban = IBANS[i].parse().unwrap();
            let written = if print { iban.to_string() } else { IBANS[i].to_string() };
            let written = if lower { written.to_lowercase() } else { written };
            let raw = format!("{spaces}{written}{spaces}");
            let parsed = parse_iban(&raw, "/iban").unwrap();
            prop_assert_eq!(parsed.electronic_str(), IBANS[i]);
            // Masked: the country, check digits and the last five characters only.
            let masked: String = mask_iban(IBANS[i]).chars().filter(|c| *c != ' ').collect();
            prop_assert_eq!(masked.len(), IBANS[i].len());
            prop_assert_eq!(masked.chars().filter(|c| *c != '*').count(), 9);
        }
    }
}
