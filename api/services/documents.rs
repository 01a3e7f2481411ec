//! Billing documents as PDFs: an organisation's invoice (final only once paid, R24), credit
//! note or pro forma (R28), in the organisation's invoice language unless one is asked for.
//! This gathers what each document shows — the invoice as issued (its customer snapshot, lines,
//! totals), its payment and credit notes, the issuer from the configuration — and hands it to
//! the renderer (`crate::documents`), which is deterministic: the same document gives the same
//! bytes.

use chrono::NaiveDateTime;

use crate::config::{Config, IssuerSettings};
use crate::db::{self, DbConnection, Pool};
use crate::documents::epc::Epc;
use crate::documents::qrbill::{self, QrBill, Reference};
use crate::documents::{self as doc, Address, Party, PaymentCode};
use crate::domain::Language;
use crate::domain::billing_states::{InvoiceStatus, PaymentMethodKind};
use crate::domain::documents::{DocumentKind, RenderedDocument};
use crate::error::AppError;
use crate::models::invoices::{self, Invoice};
use crate::models::organizations::{self, Organization};
use crate::models::payments::{self, Payment};
use crate::models::{credit_notes, pro_formas};
use crate::services::orgs::OrgRequest;
use crate::services::{billing_settings, renewals};

/// Renders `org_id`'s document `kind`/`id` in `language` (default: the organisation's invoice
/// language). Not found when the document is not the organisation's; an invoice not yet paid
/// is 409 `invoice_not_paid` (pointing to its pro forma when one exists, else to
/// `create_pro_forma`), a cancelled one 409 `invoice_cancelled`.
pub fn render(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    kind: DocumentKind,
    id: &str,
    language: Option<Language>,
) -> Result<RenderedDocument, AppError> {
    let language = match language {
        Some(l) => l,
        None => billing_settings::parse_language(
            &billing_settings::effective(conn, org_id)?.invoice_language,
        ),
    };
    match kind {
        DocumentKind::Invoice => invoice(conn, config, org_id, id, language),
        DocumentKind::CreditNote => credit_note(conn, config, org_id, id, language),
        DocumentKind::ProForma => pro_forma(conn, config, org_id, id, language),
    }
}

/// `render` for a request: the caller's access to the organisation first (404 for another
/// organisation's ids, 403 without the permission), then the document, on the blocking pool.
pub async fn get(
    pool: &Pool,
    config: std::sync::Arc<Config>,
    org: &OrgRequest,
    kind: DocumentKind,
    id: String,
    language: Option<Language>,
) -> Result<RenderedDocument, AppError> {
    let access = org.access(pool).await?;
    db::run(pool, move |conn| {
        render(conn, &config, &access.org.id, kind, &id, language)
    })
    .await
}

fn day(at: NaiveDateTime) -> chrono::NaiveDate {
    at.date()
}

fn issuer(settings: &IssuerSettings) -> Party {
    Party {
        address: Address {
            name: settings.name.clone(),
            street: settings.street.clone(),
            building_number: settings.building_number.clone(),
            extra_line: None,
            postal_code: settings.postal_code.clone(),
            town: settings.town.clone(),
            country: settings.country.clone(),
        },
        vat_number: settings.vat_number.clone(),
    }
}

/// The organisation's billing address as invoices store it (one line each).
fn stored_address(org: &Organization) -> String {
    [
        Some(org.address_line1.clone()),
        org.address_line2.clone(),
        Some(format!("{} {}", org.postal_code, org.city)),
        Some(org.country.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n")
}

fn structured(
    name: &str,
    line1: &str,
    line2: Option<&str>,
    postal_code: &str,
    town: &str,
    country: &str,
) -> Address {
    let (street, building_number) = doc::split_street(line1);
    Address {
        name: name.to_string(),
        street,
        building_number,
        extra_line: line2.map(str::to_string).filter(|l| !l.trim().is_empty()),
        postal_code: postal_code.to_string(),
        town: town.to_string(),
        country: country.to_string(),
    }
}

fn org_party(org: &Organization) -> Party {
    Party {
        address: structured(
            &org.name,
            &org.address_line1,
            org.address_line2.as_deref(),
            &org.postal_code,
            &org.city,
            &org.country,
        ),
        vat_number: org.vat_number.clone(),
    }
}

/// The customer as the invoice was issued to: its stored snapshot (`line1`, [`line2`],
/// `postal code town`, `country`), structured again — from the organisation's own fields when
/// they still give the same text, else by reading the lines.
fn customer_of(invoice: &Invoice, org: Option<&Organization>) -> Party {
    if let Some(org) = org
        && stored_address(org) == invoice.customer_address
        && org.name == invoice.customer_name
    {
        let mut party = org_party(org);
        party.vat_number = invoice.customer_vat_number.clone();
        return party;
    }
    let mut lines: Vec<&str> = invoice.customer_address.lines().collect();
    if lines.len() > 1 && lines.last() == Some(&invoice.customer_country.as_str()) {
        lines.pop();
    }
    let town_line = if lines.len() > 1 { lines.pop() } else { None };
    let (postal_code, town) = town_line
        .and_then(|l| l.split_once(' '))
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .unwrap_or_default();
    let line1 = lines.first().copied().unwrap_or_default();
    let line2 = (lines.len() > 1).then(|| lines[1..].join(", "));
    Party {
        address: structured(
            &invoice.customer_name,
            line1,
            line2.as_deref(),
            &postal_code,
            &town,
            &invoice.customer_country,
        ),
        vat_number: invoice.customer_vat_number.clone(),
    }
}

/// Digits only (`2026-000123` → `2026000123`).
/// The number of the pro forma whose QR code carries the structured `reference`: its QR
/// reference (`2`, the number's digits, the check digit) or its creditor reference (`RF…PF` and
/// the digits). Banks may report that instead of the transfer reference of the message.
pub fn pro_forma_number_of(reference: &str) -> Option<String> {
    let compact: String = reference
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let body = if qrbill::is_valid_qr_reference(&compact) {
        compact[..26]
            .trim_start_matches('0')
            .strip_prefix('2')?
            .to_string()
    } else if qrbill::is_valid_creditor_reference(&compact) {
        compact.get(4..)?.strip_prefix("PF")?.to_string()
    } else {
        return None;
    };
    (body.len() == 10 && body.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("PF-{}-{}", &body[..4], &body[4..]))
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// How a document of `currency` asks for `total_minor`: a Swiss QR-bill for CHF (with the
/// QR-IBAN and a QR reference when one is configured, else the IBAN and a creditor reference),
/// an EPC QR code for EUR; nothing when there is nothing to pay. The references come from the
/// document's number: `prefix` (1 invoice, 2 pro forma) then its digits, with the check digit
/// (QRR); `INV`/`PF` then its digits (SCOR, ISO 11649).
fn payment_code(
    settings: &IssuerSettings,
    currency: &str,
    total_minor: i64,
    (prefix, letters, number): (char, &str, &str),
    debtor: &Address,
    message: String,
) -> Option<PaymentCode> {
    if total_minor <= 0 {
        return None;
    }
    let scor = qrbill::creditor_reference(&format!("{letters}{}", digits(number)));
    match currency {
        "CHF" => {
            let (account, reference) = match &settings.qr_iban {
                Some(qr_iban) => (
                    qr_iban.clone(),
                    Reference::Qrr(qrbill::qr_reference(&format!("{prefix}{}", digits(number)))),
                ),
                None => (settings.iban.clone(), Reference::Scor(scor)),
            };
            let debtor = (!debtor.postal_code.trim().is_empty() && !debtor.town.trim().is_empty())
                .then(|| debtor.clone());
            Some(PaymentCode::QrBill(Box::new(QrBill {
                account,
                creditor: issuer(settings).address,
                amount_minor: Some(total_minor),
                currency: "CHF".into(),
                debtor,
                reference,
                message,
            })))
        }
        "EUR" => Some(PaymentCode::Epc(Epc {
            bic: settings.bic.clone(),
            name: settings.name.clone(),
            iban: settings.iban.clone(),
            amount_minor: total_minor,
            reference: Some(scor),
            text: String::new(),
        })),
        _ => None,
    }
}

/// The refusal of an open invoice's PDF: its pro forma is the document to use (a `Link` to it),
/// or one can be made (`create_pro_forma`).
fn not_paid(conn: &mut DbConnection, org_id: &str, invoice: &Invoice) -> AppError {
    match pro_formas::of_invoice(conn, &invoice.id, invoice.order_id.as_deref()) {
        Ok(Some(pf)) => AppError::conflict(
            "invoice_not_paid",
            format!(
                "Invoice {} is not paid yet: its final PDF exists once it is. Its pro forma {} ({}) can be downloaded meanwhile.",
                invoice.number, pf.number, pf.id
            ),
        )
        .with_header(
            "link",
            format!(
                "</v1/orgs/{org_id}/pro-forma-invoices/{}/pdf>; rel=\"alternate\"; type=\"application/pdf\"",
                pf.id
            ),
        ),
        _ => AppError::conflict(
            "invoice_not_paid",
            format!(
                "Invoice {} is not paid yet: its final PDF exists once it is. Meanwhile, create a pro forma of what it bills (POST /v1/orgs/{org_id}/pro-forma-invoices, operation create_pro_forma).",
                invoice.number
            ),
        )
        .with_header(
            "link",
            format!("</v1/orgs/{org_id}/pro-forma-invoices>; rel=\"create-form\""),
        ),
    }
}

fn method_of(conn: &mut DbConnection, p: &Payment) -> Result<doc::Method, AppError> {
    Ok(match p.method {
        PaymentMethodKind::Prepaid => doc::Method::Prepaid,
        PaymentMethodKind::BankTransfer => doc::Method::BankTransfer,
        PaymentMethodKind::PaymentMethod => {
            match crate::services::payments::method_label(conn, p)?.as_str() {
                "card" => doc::Method::Card,
                "bank_transfer" => doc::Method::BankTransfer,
                "twint" => doc::Method::Other("TWINT".into()),
                "postfinance" => doc::Method::Other("PostFinance".into()),
                "paypal" => doc::Method::Other("PayPal".into()),
                "ebill" => doc::Method::Other("eBill".into()),
                other => doc::Method::Other(other.to_string()),
            }
        }
    })
}

fn invoice(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    id: &str,
    language: Language,
) -> Result<RenderedDocument, AppError> {
    let inv =
        invoices::find(conn, org_id, id)?.ok_or_else(|| AppError::not_found("No such invoice."))?;
    match inv.status {
        InvoiceStatus::Open => return Err(not_paid(conn, org_id, &inv)),
        InvoiceStatus::Cancelled => {
            return Err(AppError::conflict(
                "invoice_cancelled",
                format!(
                    "Invoice {} was cancelled unpaid: it has no final PDF.",
                    inv.number
                ),
            ));
        }
        InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded => {}
    }
    let lines = invoices::lines(conn, &inv.id)?;
    let org = organizations::find_any(conn, org_id)?;
    let customer = customer_of(&inv, org.as_ref());
    let mut payments_rows = vec![];
    if let Some(p) = payments::succeeded_for_invoice(conn, &inv.id)? {
        payments_rows.push(doc::PaymentRow {
            date: day(p.settled_at.unwrap_or(p.created_at)),
            method: method_of(conn, &p)?,
            amount_minor: p.amount_minor,
        });
    }
    let notes = credit_notes::of_invoice(conn, &inv.id)?
        .into_iter()
        .map(|cn| doc::CreditNoteRow {
            number: cn.number,
            date: day(cn.issued_at),
            amount_minor: cn.total_minor,
            to_prepaid: cn.destination == "prepaid",
        })
        .collect();
    let words = doc::texts::texts(language);
    let code = payment_code(
        &config.issuer,
        &inv.currency,
        inv.total_minor,
        ('1', "INV", &inv.number),
        &customer.address,
        format!("{} {}", words.invoice, inv.number),
    );
    let document = doc::Invoice {
        number: inv.number.clone(),
        issued: day(inv.issued_at),
        due: day(inv.due_at),
        paid: inv.paid_at.map(day),
        currency: inv.currency.clone(),
        issuer: issuer(&config.issuer),
        customer,
        lines: lines
            .iter()
            .map(|l| doc::Line {
                description: l.description.clone(),
                period: l
                    .period_start
                    .zip(l.period_end)
                    .map(|(s, e)| (day(s), day(e))),
                quantity: l.quantity,
                unit_price_minor: l.unit_price_minor,
                vat_rate: l.vat_rate.clone(),
                net_minor: l.net_minor,
                vat_minor: l.vat_minor,
                total_minor: l.total_minor,
            })
            .collect(),
        totals: doc::Totals {
            subtotal_minor: inv.subtotal_minor,
            vat_minor: inv.vat_minor,
            total_minor: inv.total_minor,
        },
        payments: payments_rows,
        credit_notes: notes,
        refunded_minor: inv.refunded_minor,
        code,
    };
    Ok(RenderedDocument {
        filename: format!("invoice-{}.pdf", inv.number),
        bytes: doc::invoice_pdf(&document, language),
    })
}

/// One VAT row of a credit note, as stored.
#[derive(serde::Deserialize)]
struct StoredVatRow {
    rate: String,
    net_minor: i64,
    vat_minor: i64,
}

fn credit_note(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    id: &str,
    language: Language,
) -> Result<RenderedDocument, AppError> {
    let cn = credit_notes::find(conn, org_id, id)?
        .ok_or_else(|| AppError::not_found("No such credit note."))?;
    let inv = invoices::find(conn, org_id, &cn.invoice_id)?
        .ok_or_else(|| AppError::internal(format!("credit note {} without its invoice", cn.id)))?;
    let org = organizations::find_any(conn, org_id)?;
    let rows: Vec<StoredVatRow> = serde_json::from_str(&cn.vat_breakdown)
        .map_err(|e| AppError::internal(format!("credit note {}: VAT rows: {e}", cn.id)))?;
    let document = doc::CreditNote {
        number: cn.number.clone(),
        issued: day(cn.issued_at),
        invoice_number: inv.number.clone(),
        invoice_issued: day(inv.issued_at),
        currency: cn.currency.clone(),
        issuer: issuer(&config.issuer),
        customer: customer_of(&inv, org.as_ref()),
        vat_rows: rows
            .into_iter()
            .map(|r| doc::VatRow {
                rate: r.rate,
                net_minor: r.net_minor,
                vat_minor: r.vat_minor,
            })
            .collect(),
        totals: doc::Totals {
            subtotal_minor: cn.subtotal_minor,
            vat_minor: cn.vat_minor,
            total_minor: cn.total_minor,
        },
        to_prepaid: cn.destination == "prepaid",
    };
    Ok(RenderedDocument {
        filename: format!("credit-note-{}.pdf", cn.number),
        bytes: doc::credit_note_pdf(&document, language),
    })
}

fn pro_forma(
    conn: &mut DbConnection,
    config: &Config,
    org_id: &str,
    id: &str,
    language: Language,
) -> Result<RenderedDocument, AppError> {
    let pf = pro_formas::find(conn, org_id, id)?
        .ok_or_else(|| AppError::not_found("No such pro forma invoice."))?;
    let org = organizations::find_any(conn, org_id)?
        .ok_or_else(|| AppError::not_found("No such organisation."))?;
    let customer = org_party(&org);
    let words = doc::texts::texts(language);
    let message = pf
        .transfer_reference
        .clone()
        .unwrap_or_else(|| format!("{} {}", words.pro_forma, pf.number));
    let code = payment_code(
        &config.issuer,
        &pf.currency,
        pf.total_minor,
        ('2', "PF", &pf.number),
        &customer.address,
        message,
    );
    let document = doc::ProForma {
        number: pf.number.clone(),
        issued: day(pf.created_at),
        valid_until: day(pf.expires_at),
        currency: pf.currency.clone(),
        issuer: issuer(&config.issuer),
        customer,
        lines: renewals::pro_forma_lines(&pf)
            .into_iter()
            .map(|l| doc::Line {
                description: l.description,
                period: (l.period_start != l.period_end)
                    .then(|| (day(l.period_start), day(l.period_end))),
                quantity: l.quantity,
                unit_price_minor: l.unit_price_minor,
                vat_rate: l.vat_rate,
                net_minor: l.net_minor,
                vat_minor: l.vat_minor,
                total_minor: l.total_minor,
            })
            .collect(),
        totals: doc::Totals {
            subtotal_minor: pf.subtotal_minor,
            vat_minor: pf.vat_minor,
            total_minor: pf.total_minor,
        },
        transfer_reference: pf.transfer_reference.clone(),
        code,
    };
    Ok(RenderedDocument {
        filename: format!("pro-forma-{}.pdf", pf.number),
        bytes: doc::pro_forma_pdf(&document, language),
    })
}

/// Property tests (issue 15, part 7): any reference a bank reports maps to a pro forma number
/// or none, never a panic; both structured references of a pro forma's QR code map back to it.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_reported_reference_is_a_pro_forma_number_or_none(
            raw in prop_oneof![any::<String>(), "[0-9 ]{20,34}", "(RF|rf)[0-9]{2}(PF|pf)[0-9 ]{8,14}"]
        ) {
            if let Some(number) = pro_forma_number_of(&raw) {
                prop_assert!(number.starts_with("PF-") && number.len() == 14);
            }
        }

        #[test]
        fn both_references_of_a_pro_forma_map_back_to_it(
            year in 2000u32..10000,
            n in 0u32..1_000_000,
            grouped in any::<bool>(),
            lower in any::<bool>(),
        ) {
            let number = format!("PF-{year}-{n:06}");
            // As `payment_code` makes them: QRR with prefix 2, SCOR with the letters PF.
            let qrr = qrbill::Reference::Qrr(qrbill::qr_reference(&format!("2{}", digits(&number))));
            let scor = qrbill::Reference::Scor(qrbill::creditor_reference(&format!("PF{}", digits(&number))));
            for reference in [qrr, scor] {
                let written = if grouped {
                    reference.display()
                } else {
                    match &reference {
                        qrbill::Reference::Qrr(v) | qrbill::Reference::Scor(v) => v.clone(),
                    }
                };
                let written = if lower { written.to_lowercase() } else { written };
                prop_assert_eq!(pro_forma_number_of(&written), Some(number.clone()));
            }
        }
    }
}
