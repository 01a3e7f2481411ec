//! Money: exact decimals (`rust_decimal`) in code and in the API (`{"amount": "12.50",
//! "currency": "CHF"}`), whole minor units (cents) in the database. No float anywhere.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invalid;
use super::orgs::Currency;
use crate::error::FieldError;

/// Decimal places of the currencies we bill in (CHF and EUR both have cents).
pub const SCALE: u32 = 2;

/// An amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"amount": "12.50", "currency": "CHF"}))]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// A decimal string with at most two decimals, e.g. `"12.50"`.
    #[serde(
        serialize_with = "rust_decimal::serde::str::serialize",
        deserialize_with = "plain_decimal"
    )]
    #[schema(value_type = String, pattern = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$", example = "12.50")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self {
            amount: amount.round_dp(SCALE),
            currency,
        }
    }

    /// From whole minor units (cents), as stored.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        let mut amount = Decimal::new(minor, SCALE);
        amount.rescale(SCALE);
        Self { amount, currency }
    }

    /// Whole minor units (cents), for storage. The amount must have at most two decimals
    /// (`parse_amount` guarantees it for input; computed amounts are rounded first).
    pub fn minor(&self) -> i64 {
        to_minor(self.amount)
    }

    /// `CHF 54.05`, for mails.
    pub fn display(&self) -> String {
        let mut amount = self.amount;
        amount.rescale(SCALE);
        format!("{} {amount}", self.currency.as_str())
    }
}

/// A decimal string as the spec writes it: an optional minus, digits, optionally a point and
/// digits. `rust_decimal` alone would also take `1e3`, `1_000` or `+5`. More than two decimals
/// or too large an amount are left to [`parse_amount`], which names the problem.
fn plain_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw = String::deserialize(d)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 28 && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = raw.strip_prefix('-').unwrap_or(&raw);
    let plain = match unsigned.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(unsigned),
    };
    if !plain {
        return Err(serde::de::Error::custom(format!(
            "{raw:?} is not a decimal amount such as \"12.50\""
        )));
    }
    raw.parse().map_err(serde::de::Error::custom)
}

/// Minor units of an amount already rounded to cents.
/// An amount past what `i64` holds saturates (never a panic: `rust_decimal`'s `*` panics on
/// overflow).
pub fn to_minor(amount: Decimal) -> i64 {
    let saturated = if amount.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    };
    amount
        .round_dp(SCALE)
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|minor| minor.to_i64())
        .unwrap_or(saturated)
}

/// Rounds to cents, half away from zero (the commercial rule; see docs/rules.md).
pub fn round(amount: Decimal) -> Decimal {
    let mut r = amount.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(SCALE);
    r
}

/// An amount a customer asks to move: positive, at most two decimals, at most 1,000,000.
pub fn parse_amount(amount: Decimal, field: &str) -> Result<Decimal, FieldError> {
    if amount.scale() > SCALE && amount.normalize().scale() > SCALE {
        return Err(invalid(
            field,
            "too_many_decimals",
            "must have at most two decimals",
        ));
    }
    if amount <= Decimal::ZERO {
        return Err(invalid(field, "not_positive", "must be more than zero"));
    }
    if amount > Decimal::from(1_000_000) {
        return Err(invalid(field, "too_large", "must be at most 1000000"));
    }
    Ok(round(amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_are_plain_decimal_strings() {
        let parse = |raw: &str| {
            serde_json::from_value::<Money>(serde_json::json!({"amount": raw, "currency": "CHF"}))
                .map(|m| m.amount)
        };
        for ok in ["12.50", "0.5", "-3", "020.00", "1000000", "12.505"] {
            assert_eq!(parse(ok).unwrap(), d(ok), "{ok}");
        }
        for bad in [
            "1e3", "1_000", "+20.00", " 1", "1.", ".5", "", "-", "1,5", "NaN", "１２",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
        let number = serde_json::json!({"amount": 12.5, "currency": "CHF"});
        assert!(serde_json::from_value::<Money>(number).is_err());
    }

    /// Issue 9, finding 11: like every other object, `Money` names an unknown field.
    #[test]
    fn f11_money_refuses_unknown_fields() {
        let body = br#"{"amount": {"amount": "12.50", "currency": "CHF", "fx_rate": "0.5"}}"#;
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            amount: Money,
        }
        // The HTTP layer turns this error into a 422 at `/amount/fx_rate` (tests/api/errors.rs).
        let e = serde_json::from_slice::<Body>(body).unwrap_err();
        assert!(e.to_string().contains("unknown field `fx_rate`"), "{e}");
    }

    #[test]
    fn minor_units_round_trip_exactly() {
        for cents in [0, 1, 5, 99, 100, 1234567, -250] {
            let m = Money::from_minor(cents, Currency::Chf);
            assert_eq!(m.minor(), cents);
        }
        assert_eq!(
            Money::from_minor(1250, Currency::Chf).amount.to_string(),
            "12.50"
        );
        assert_eq!(Money::from_minor(5, Currency::Eur).display(), "EUR 0.05");
        assert_eq!(
            serde_json::to_value(Money::from_minor(1250, Currency::Chf)).unwrap(),
            serde_json::json!({"amount": "12.50", "currency": "CHF"})
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_cents() {
        assert_eq!(round(d("0.005")).to_string(), "0.01");
        assert_eq!(round(d("0.004")).to_string(), "0.00");
        assert_eq!(round(d("-0.005")).to_string(), "-0.01");
        assert_eq!(round(d("4.455")).to_string(), "4.46");
        assert_eq!(round(d("2")).to_string(), "2.00");
    }

    #[test]
    fn amounts_asked_for_are_positive_cents() {
        assert_eq!(parse_amount(d("12.5"), "/a").unwrap().to_string(), "12.50");
        assert_eq!(
            parse_amount(d("12.500"), "/a").unwrap().to_string(),
            "12.50"
        );
        assert_eq!(
            parse_amount(d("12.505"), "/a").unwrap_err().code,
            "too_many_decimals"
        );
        assert_eq!(parse_amount(d("0"), "/a").unwrap_err().code, "not_positive");
        assert_eq!(
            parse_amount(d("-1"), "/a").unwrap_err().code,
            "not_positive"
        );
        assert_eq!(
            parse_amount(d("1000000.01"), "/a").unwrap_err().code,
            "too_large"
        );
    }
}

/// Property tests (issue 15, part 7): any amount string is a `Money` or an error, never a panic;
/// stored minor units and the API's decimal strings round-trip.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn money_from(raw: &str) -> Result<Money, serde_json::Error> {
        serde_json::from_value(serde_json::json!({"amount": raw, "currency": "CHF"}))
    }

    /// Any decimal `rust_decimal` can hold.
    fn any_decimal() -> impl Strategy<Value = Decimal> {
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            0u32..=28,
        )
            .prop_map(|(lo, mid, hi, negative, scale)| {
                Decimal::from_parts(lo, mid, hi, negative, scale)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_amount_string_is_money_or_an_error(
            raw in prop_oneof![any::<String>(), "-?[0-9]{0,30}(\\.[0-9]{0,30})?"]
        ) {
            if let Ok(m) = money_from(&raw) {
                // Whatever was read, checking and storing it cannot panic either.
                if let Ok(v) = parse_amount(m.amount, "/amount") {
                    prop_assert!(v > Decimal::ZERO && v <= Decimal::from(1_000_000));
                    prop_assert_eq!(v.scale(), SCALE);
                }
                let _ = m.minor();
                let _ = m.display();
            }
        }

        #[test]
        fn a_decimal_string_with_at_most_two_decimals_reads_exactly(
            whole in "-?[0-9]{1,12}",
            fraction in proptest::option::of("[0-9]{1,2}"),
        ) {
            let raw = match &fraction {
                Some(f) => format!("{whole}.{f}"),
                None => whole.clone(),
            };
            let m = money_from(&raw).unwrap();
            prop_assert_eq!(m.amount, raw.parse::<Decimal>().unwrap());
        }

        #[test]
        fn stored_minor_units_round_trip_through_money_and_json(minor in any::<i64>()) {
            let m = Money::from_minor(minor, Currency::Chf);
            prop_assert_eq!(m.minor(), minor);
            let json = serde_json::to_value(m).unwrap();
            let back: Money = serde_json::from_value(json).unwrap();
            prop_assert_eq!(back, m);
            prop_assert_eq!(back.minor(), minor);
        }

        #[test]
        fn any_decimal_is_checked_rounded_and_stored_without_panic(amount in any_decimal()) {
            let _ = to_minor(amount);
            let _ = round(amount);
            if let Ok(v) = parse_amount(amount, "/amount") {
                prop_assert_eq!(v, amount);
                prop_assert_eq!(Money::from_minor(to_minor(v), Currency::Chf).amount, v);
            }
        }
    }

    /// Found by the property above: `to_minor` multiplied by 100 with `*`, which panics past
    /// `rust_decimal`'s range; it now saturates like its conversion to `i64` already did.
    #[test]
    fn minor_units_of_an_amount_past_the_decimal_range_saturate() {
        assert_eq!(to_minor(Decimal::MAX), i64::MAX);
        assert_eq!(to_minor(Decimal::MIN), i64::MIN);
        assert_eq!(to_minor(Decimal::new(-1_234, 2)), -1_234);
    }
}
