//! What the billing views share. Money is always `{"amount": "12.50", "currency": "CHF"}`;
//! the views themselves are by resource: `catalog`, `products`, `orders`, `invoices`,
//! `payments` (payments and payment methods) and `prepaid`.

use crate::domain::money::Money;
use crate::domain::orgs::Currency;

/// An amount in minor units of a stored currency code, as shown.
pub(crate) fn money(minor: i64, currency: &str) -> Money {
    Money::from_minor(minor, Currency::from_code(currency))
}
