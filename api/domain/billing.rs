//! Billing arithmetic: periods, invoice lines and totals. The rounding rule (docs/rules.md):
//! each line's net amount is quantity × unit price (exact: prices have cents, quantities are
//! whole); its VAT is net × rate, rounded to the cent half away from zero; its total is net +
//! VAT. An invoice's subtotal, VAT and total are the sums of its lines' — so the totals always
//! equal the sum of the rounded lines, and no amount is rounded twice.

use rust_decimal::Decimal;

use super::money::round;

/// Billing periods, in months, as the API names them (ISO 8601 durations).
pub const PERIODS: [(i32, &str); 12] = [
    (1, "P1M"),
    (3, "P3M"),
    (12, "P1Y"),
    (24, "P2Y"),
    (36, "P3Y"),
    (48, "P4Y"),
    (60, "P5Y"),
    (72, "P6Y"),
    (84, "P7Y"),
    (96, "P8Y"),
    (108, "P9Y"),
    (120, "P10Y"),
];

/// Months of a period name (`P1M`, `P3M`, `P1Y` … `P10Y`).
pub fn period_months(name: &str) -> Option<i32> {
    PERIODS.iter().find(|(_, n)| *n == name).map(|(m, _)| *m)
}

/// The name of a period of `months`.
pub fn period_name(months: i32) -> &'static str {
    PERIODS
        .iter()
        .find(|(m, _)| *m == months)
        .map(|(_, n)| *n)
        .unwrap_or("P1M")
}

/// The amounts of one invoice line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAmounts {
    pub net: Decimal,
    pub vat: Decimal,
    pub total: Decimal,
}

/// One line: `quantity` × `unit_price` with VAT at `vat_rate` percent.
pub fn line_amounts(quantity: i64, unit_price: Decimal, vat_rate: Decimal) -> LineAmounts {
    let net = round(Decimal::from(quantity) * unit_price);
    let vat = round(net * vat_rate / Decimal::from(100));
    LineAmounts {
        net,
        vat,
        total: net + vat,
    }
}

/// An invoice's totals: the sums of its lines.
pub fn totals(lines: &[LineAmounts]) -> LineAmounts {
    lines.iter().fold(
        LineAmounts {
            net: round(Decimal::ZERO),
            vat: round(Decimal::ZERO),
            total: round(Decimal::ZERO),
        },
        |acc, l| LineAmounts {
            net: acc.net + l.net,
            vat: acc.vat + l.vat,
            total: acc.total + l.total,
        },
    )
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
    fn periods_are_iso_durations() {
        assert_eq!(period_months("P1Y"), Some(12));
        assert_eq!(period_months("P10Y"), Some(120));
        assert_eq!(period_months("P2M"), None);
        assert_eq!(period_name(3), "P3M");
    }

    #[test]
    fn a_line_rounds_its_vat_once() {
        let l = line_amounts(3, d("19.90"), d("8.1"));
        assert_eq!((l.net, l.vat, l.total), (d("59.70"), d("4.84"), d("64.54")));
        // 0.05 × 8.1 % = 0.00405: rounds to nothing.
        assert_eq!(line_amounts(1, d("0.05"), d("8.1")).vat, d("0.00"));
        // 10.00 × 2.5 % = 0.25 exactly; 0.30 × 2.5 % = 0.0075 → 0.01 (half away from zero).
        assert_eq!(line_amounts(1, d("0.30"), d("2.5")).vat, d("0.01"));
        assert_eq!(line_amounts(2, d("5.00"), d("0")).total, d("10.00"));
    }

    proptest! {
        /// Totals are the sums of the rounded lines, have cents, and nothing is lost.
        #[test]
        fn totals_equal_the_sum_of_rounded_lines(
            lines in proptest::collection::vec((1i64..1000, 1i64..10_000_000, 0u32..3), 0..30)
        ) {
            let rates = [d("8.1"), d("2.6"), d("0")];
            let amounts: Vec<LineAmounts> = lines
                .iter()
                .map(|(q, cents, r)| line_amounts(*q, Decimal::new(*cents, 2), rates[*r as usize]))
                .collect();
            let t = totals(&amounts);
            let sum = |f: fn(&LineAmounts) -> Decimal| amounts.iter().map(f).sum::<Decimal>();
            prop_assert_eq!(t.net, sum(|l| l.net));
            prop_assert_eq!(t.vat, sum(|l| l.vat));
            prop_assert_eq!(t.total, sum(|l| l.total));
            prop_assert_eq!(t.total, t.net + t.vat);
            for l in &amounts {
                prop_assert!(l.net.scale() <= 2 && l.vat.scale() <= 2);
                prop_assert_eq!(l.total, l.net + l.vat);
                // The VAT is within half a cent of the exact value.
                let exact = l.net * rates.iter().find(|r| round(l.net * **r / Decimal::from(100)) == l.vat).copied().unwrap_or_default() / Decimal::from(100);
                prop_assert!((l.vat - exact).abs() <= d("0.005"));
            }
        }
    }
}

/// Property tests (issue 15, part 7): any text is a period or none; every period round-trips.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_a_known_period_or_none(raw in prop_oneof![any::<String>(), "P[0-9]{1,3}[YMD]"]) {
            if let Some(months) = period_months(&raw) {
                prop_assert_eq!(period_name(months), raw.as_str());
            }
        }

        #[test]
        fn every_period_round_trips_through_its_name(i in 0..PERIODS.len()) {
            let (months, name) = PERIODS[i];
            prop_assert_eq!(period_months(name), Some(months));
            prop_assert_eq!(period_name(months), name);
        }
    }
}
