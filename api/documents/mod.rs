//! Billing documents as PDF, rendered from plain data (no database here): the invoice (R24),
//! the credit note and the pro forma invoice (R28), A4, in Helvetica (a font every PDF reader
//! has: nothing embedded), in one of the five languages of the Manager. A CHF document that
//! asks for money carries a Swiss QR-bill payment part (`qrbill`), a EUR one an EPC QR code
//! (`epc`).
//!
//! Rendering is deterministic: the same document gives the same bytes (no clock, no random
//! identifier, no hash-map order), so its hash is its `ETag` and it can be tested byte for byte.

mod canvas;
pub mod epc;
mod layout;
pub mod metrics;
pub mod qr;
pub mod qrbill;
pub mod texts;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

pub use layout::{credit_note_pdf, invoice_pdf, pro_forma_pdf};

/// A postal address, structured as the QR-bill wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    /// The street without its number (may be empty).
    pub street: String,
    /// The building number (may be empty).
    pub building_number: String,
    /// A further line (c/o, PO box…), printed on the document but not in the QR code, whose
    /// structured address has no place for it.
    pub extra_line: Option<String>,
    pub postal_code: String,
    pub town: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl Address {
    /// The lines printed on the document.
    pub fn lines(&self) -> Vec<String> {
        let street = [self.street.trim(), self.building_number.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        [
            Some(self.name.clone()),
            Some(street),
            self.extra_line.clone(),
            Some(format!("{} {}", self.postal_code, self.town)),
            Some(self.country.clone()),
        ]
        .into_iter()
        .flatten()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
    }
}

/// `line` ("Rue du Rhône 12", "12 rue de la Paix", "Bahnhofstrasse") as street and building
/// number: a trailing or leading number (`12`, `12a`, `12-14`) is the building's.
pub fn split_street(line: &str) -> (String, String) {
    let line = line.trim();
    let is_number = |w: &str| {
        w.len() <= 16
            && w.chars().next().is_some_and(|c| c.is_ascii_digit())
            && w.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '/'))
    };
    if let Some((street, last)) = line.rsplit_once(' ')
        && is_number(last)
        && !street.trim().is_empty()
    {
        return (street.trim().to_string(), last.to_string());
    }
    if let Some((first, street)) = line.split_once(' ') {
        let first = first.trim_end_matches(',');
        if is_number(first) && !street.trim().is_empty() {
            return (street.trim().to_string(), first.to_string());
        }
    }
    (line.to_string(), String::new())
}

/// An issuer or customer: its address and VAT number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub address: Address,
    pub vat_number: Option<String>,
}

/// One line of an invoice or pro forma.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub description: String,
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub quantity: i64,
    pub unit_price_minor: i64,
    /// Percent, as stored (`8.1`).
    pub vat_rate: String,
    pub net_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
}

/// The VAT of one rate: on how much, how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatRow {
    pub rate: String,
    pub net_minor: i64,
    pub vat_minor: i64,
}

/// The lines' VAT grouped by rate, lowest rate first.
pub fn vat_rows(lines: &[Line]) -> Vec<VatRow> {
    let mut by_rate: BTreeMap<Decimal, (i64, i64)> = BTreeMap::new();
    for l in lines {
        let rate: Decimal = l.vat_rate.parse().unwrap_or_default();
        let row = by_rate.entry(rate.normalize()).or_default();
        row.0 += l.net_minor;
        row.1 += l.vat_minor;
    }
    by_rate
        .into_iter()
        .map(|(rate, (net_minor, vat_minor))| VatRow {
            rate: rate.to_string(),
            net_minor,
            vat_minor,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal_minor: i64,
    pub vat_minor: i64,
    pub total_minor: i64,
}

/// How a payment was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Prepaid,
    Card,
    BankTransfer,
    /// Another saved method (`twint`, `paypal`…), by its name.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub date: NaiveDate,
    pub method: Method,
    pub amount_minor: i64,
}

/// A credit note listed on its invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditNoteRow {
    pub number: String,
    pub date: NaiveDate,
    pub amount_minor: i64,
    pub to_prepaid: bool,
}

/// How the document asks for its money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentCode {
    QrBill(Box<qrbill::QrBill>),
    Epc(epc::Epc),
}

/// A final invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub number: String,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub paid: Option<NaiveDate>,
    pub currency: String,
    pub issuer: Party,
    pub customer: Party,
    pub lines: Vec<Line>,
    pub totals: Totals,
    pub payments: Vec<PaymentRow>,
    pub credit_notes: Vec<CreditNoteRow>,
    /// What was refunded in all (shown when no credit note tells it).
    pub refunded_minor: i64,
    pub code: Option<PaymentCode>,
}

/// A credit note: what a refund gave back of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditNote {
    pub number: String,
    pub issued: NaiveDate,
    pub invoice_number: String,
    pub invoice_issued: NaiveDate,
    pub currency: String,
    pub issuer: Party,
    pub customer: Party,
    pub vat_rows: Vec<VatRow>,
    pub totals: Totals,
    /// Credited to the prepaid account (else refunded to the original means of payment).
    pub to_prepaid: bool,
}

/// A pro forma invoice: of no legal, tax or accounting value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProForma {
    pub number: String,
    pub issued: NaiveDate,
    pub valid_until: NaiveDate,
    pub currency: String,
    pub issuer: Party,
    pub customer: Party,
    pub lines: Vec<Line>,
    pub totals: Totals,
    pub transfer_reference: Option<String>,
    pub code: Option<PaymentCode>,
}

/// An amount as the documents print it: `1 234.50`, `-12.00`.
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}", qrbill::amount_display(minor.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_split_from_their_numbers() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(split_street("Rue du Rhône 12"), s("Rue du Rhône", "12"));
        assert_eq!(split_street("12 rue de la Paix"), s("rue de la Paix", "12"));
        assert_eq!(
            split_street("12, rue de la Paix"),
            s("rue de la Paix", "12")
        );
        assert_eq!(split_street("Bahnhofstrasse 3a"), s("Bahnhofstrasse", "3a"));
        assert_eq!(split_street("Bahnhofstrasse"), s("Bahnhofstrasse", ""));
        assert_eq!(split_street("Case postale"), s("Case postale", ""));
        assert_eq!(split_street("42"), s("42", ""));
    }

    #[test]
    fn vat_is_grouped_by_rate() {
        let line = |rate: &str, net, vat| Line {
            description: "x".into(),
            period: None,
            quantity: 1,
            unit_price_minor: net,
            vat_rate: rate.into(),
            net_minor: net,
            vat_minor: vat,
            total_minor: net + vat,
        };
        let rows = vat_rows(&[
            line("8.1", 1000, 81),
            line("2.6", 500, 13),
            line("8.10", 2000, 162),
        ]);
        assert_eq!(
            rows,
            vec![
                VatRow {
                    rate: "2.6".into(),
                    net_minor: 500,
                    vat_minor: 13
                },
                VatRow {
                    rate: "8.1".into(),
                    net_minor: 3000,
                    vat_minor: 243
                },
            ]
        );
    }

    #[test]
    fn money_prints_signs_and_thousands() {
        assert_eq!(money(123456), "1 234.56");
        assert_eq!(money(-1200), "-12.00");
        assert_eq!(money(0), "0.00");
    }
}
