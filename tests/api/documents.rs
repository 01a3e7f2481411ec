//! Billing documents (R24, R28): the invoice and pro forma PDFs — their text in each language
//! (extracted with lopdf), their QR codes found in the file and decoded (rqrr) then checked
//! field by field against the Swiss QR-bill guidelines 2.3 and the EPC guidelines, the same
//! bytes every time (`ETag`, 304), and who may have them.

use std::collections::BTreeMap;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, billing_app, card, create_token, get_json, ok, problem, send, send_with,
};

const LANGUAGES: [&str; 5] = ["en", "fr", "de", "it", "es"];

/// The words the test looks for, per language: invoice, VAT, "on", total, payments received,
/// refunds heading, the pro forma's "no value" sentence.
fn words(lang: &str) -> [&'static str; 7] {
    match lang {
        "en" => [
            "Invoice",
            "VAT",
            "on",
            "Total",
            "Payments received",
            "Refunds (credit notes)",
            "This pro forma invoice has no legal, tax or accounting value.",
        ],
        "fr" => [
            "Facture",
            "TVA",
            "sur",
            "Total",
            "Paiements reçus",
            "Remboursements (notes de crédit)",
            "Cette facture pro forma n'a aucune valeur légale, fiscale ou comptable.",
        ],
        "de" => [
            "Rechnung",
            "MWST",
            "auf",
            "Total",
            "Erhaltene Zahlungen",
            "Rückerstattungen (Gutschriften)",
            "Diese Proforma-Rechnung hat keinen rechtlichen, steuerlichen oder buchhalterischen Wert.",
        ],
        "it" => [
            "Fattura",
            "IVA",
            "su",
            "Totale",
            "Pagamenti ricevuti",
            "Rimborsi (note di credito)",
            "Questa fattura proforma non ha alcun valore legale, fiscale o contabile.",
        ],
        "es" => [
            "Factura",
            "IVA",
            "sobre",
            "Total",
            "Pagos recibidos",
            "Reembolsos (notas de crédito)",
            "Esta factura proforma no tiene ningún valor legal, fiscal ni contable.",
        ],
        _ => unreachable!(),
    }
}

/// The QR-bill's titles and headings per language (Spanish documents use English: the
/// guidelines allow only de, fr, it and en).
fn qr_words(lang: &str) -> [&'static str; 4] {
    match lang {
        "de" => [
            "Empfangsschein",
            "Zahlteil",
            "Konto / Zahlbar an",
            "Zahlbar durch",
        ],
        "fr" => [
            "Récépissé",
            "Section paiement",
            "Compte / Payable à",
            "Payable par",
        ],
        "it" => [
            "Ricevuta",
            "Sezione pagamento",
            "Conto / Pagabile a",
            "Pagabile da",
        ],
        _ => [
            "Receipt",
            "Payment part",
            "Account / Payable to",
            "Payable by",
        ],
    }
}

/// An amount as the documents print it: `1 234.50`.
fn printed(amount: &str) -> String {
    let d: Decimal = amount.parse().unwrap();
    let s = format!("{:.2}", d.abs());
    let (units, cents) = s.split_once('.').unwrap();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let sign = if d.is_sign_negative() && !d.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{cents}")
}

fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("the body is a PDF lopdf parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("its text extracts")
}

/// The QR codes of the PDF: each image XObject found in the file, drawn again 8 pixels a module
/// with a quiet zone of 4 modules, and decoded by rqrr.
fn qr_payloads(pdf: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut found = vec![];
    for object in doc.objects.values() {
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        let subtype = stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok();
        if subtype != Some(&b"Image"[..]) {
            continue;
        }
        let n = stream.dict.get(b"Width").unwrap().as_i64().unwrap() as usize;
        assert_eq!(
            stream
                .dict
                .get(b"BitsPerComponent")
                .unwrap()
                .as_i64()
                .unwrap(),
            1
        );
        let bits = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        let row = n.div_ceil(8);
        let (scale, quiet) = (8usize, 4usize);
        let side = (n + 2 * quiet) * scale;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (mx, my) = (x / scale, y / scale);
            if mx < quiet || my < quiet || mx >= n + quiet || my >= n + quiet {
                return 255;
            }
            let (mx, my) = (mx - quiet, my - quiet);
            if bits[my * row + mx / 8] & (0x80 >> (mx % 8)) == 0 {
                0
            } else {
                255
            }
        });
        for grid in img.detect_grids() {
            found.push(grid.decode().expect("the QR code decodes").1);
        }
    }
    found
}

/// The modulo 10 recursive check digit (SIX), written again here independently of the app.
fn mod10(digits: &str) -> u32 {
    let table = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];
    let mut carry = 0usize;
    for d in digits.chars() {
        carry = table[(carry + d.to_digit(10).unwrap() as usize) % 10];
    }
    ((10 - carry) % 10) as u32
}

/// ISO 7064 MOD 97-10 over letters (10–35) and digits: 1 for a valid IBAN or RF reference
/// (its first four characters moved to the end).
fn mod97_valid(code: &str) -> bool {
    let moved = format!("{}{}", &code[4..], &code[..4]);
    let mut r = 0u32;
    for c in moved.chars() {
        let v = c.to_digit(36).unwrap();
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r == 1
}

async fn pdf(
    app: &TestApp,
    who: &str,
    path: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res = send(app, Method::GET, path, who, None).await;
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.bytes().await.unwrap().to_vec())
}

/// A CHF organisation of `s` (legal representative) named `name`, with one product paid by
/// card: (organisation, invoice id, the invoice as the API shows it).
async fn paid_chf_invoice(
    app: &TestApp,
    s: &crate::helpers::TestSession,
    name: &str,
) -> (String, String, Value) {
    let org = app
        .an_org(s)
        .named(name)
        .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let invoice_id = org.invoice(0).to_string();
    let invoice = get_json(
        app,
        s,
        &format!("/v1/orgs/{}/invoices/{invoice_id}", org.id),
    )
    .await;
    assert_eq!(invoice["status"], "paid", "{invoice}");
    (org.id, invoice_id, invoice)
}

#[tokio::test]
async fn r24_the_invoice_pdf_holds_its_number_lines_vat_rows_and_total_in_each_language() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc1@example.ch").await;
    let (org, id, invoice) = paid_chf_invoice(&app, &s, "Zoë Müller & Söhne Sàrl").await;
    let path = format!("/v1/orgs/{org}/invoices/{id}/pdf");
    let number = invoice["number"].as_str().unwrap();
    let lines = invoice["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    let mut by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for l in lines {
        let rate: Decimal = l["vat_rate"].as_str().unwrap().parse().unwrap();
        let net: Decimal = l["net"]["amount"].as_str().unwrap().parse().unwrap();
        *by_rate.entry(rate.normalize()).or_default() += net;
    }
    let total = invoice["total"]["amount"].as_str().unwrap();
    for lang in LANGUAGES {
        let (status, headers, body) =
            pdf(&app, &s.access_token, &format!("{path}?lang={lang}")).await;
        assert_eq!(status, 200, "{lang}: {}", String::from_utf8_lossy(&body));
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(body.starts_with(b"%PDF-"));
        let text = pdf_text(&body);
        let [invoice_word, vat, on, total_word, payments, _, _] = words(lang);
        assert!(
            text.contains(&format!("{invoice_word} {number}")),
            "{lang}: {text}"
        );
        assert!(
            text.contains("Zoë Müller & Söhne Sàrl"),
            "accented text extracts: {text}"
        );
        assert!(text.contains("Rue du Rhône 12"), "{text}");
        for l in lines {
            assert!(
                text.contains(l["description"].as_str().unwrap()),
                "{lang}: {l} in {text}"
            );
            assert!(
                text.contains(&printed(l["net"]["amount"].as_str().unwrap())),
                "{text}"
            );
        }
        for (rate, net) in &by_rate {
            let row = format!("{vat} {rate} % {on} {}", printed(&net.to_string()));
            assert!(text.contains(&row), "{lang}: `{row}` in {text}");
        }
        assert!(
            text.contains(&format!("{total_word} CHF")),
            "{lang}: {text}"
        );
        assert!(text.contains(&printed(total)), "{lang}: {text}");
        assert!(text.contains(payments), "{lang}: {text}");
        for heading in qr_words(lang) {
            assert!(
                text.contains(heading),
                "{lang}: the QR-bill's `{heading}` in {text}"
            );
        }
    }
    // Without `lang`: the organisation's invoice language (French, for Switzerland).
    let (_, _, body) = pdf(&app, &s.access_token, &path).await;
    assert!(pdf_text(&body).contains(&format!("Facture {number}")));
}

#[tokio::test]
async fn r24_the_qr_bill_found_in_the_pdf_follows_the_guidelines_field_by_field() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc2@example.ch").await;
    let long_name = format!("Zoë {} Sàrl", "Longname ".repeat(9));
    let (org, id, invoice) = paid_chf_invoice(&app, &s, &long_name).await;
    let (status, _, body) = pdf(
        &app,
        &s.access_token,
        &format!("/v1/orgs/{org}/invoices/{id}/pdf?lang=de"),
    )
    .await;
    assert_eq!(status, 200);
    let payloads = qr_payloads(&body);
    assert_eq!(payloads.len(), 1, "one QR code in the file");
    let payload = &payloads[0];
    assert!(payload.chars().count() <= 997, "at most 997 characters");
    assert!(
        !payload.ends_with('\n') && !payload.ends_with('\r'),
        "nothing after the trailer"
    );
    let f: Vec<&str> = payload.split("\r\n").collect();
    assert_eq!(f.len(), 31, "{payload:?}");
    // Header: QR type, version, coding type.
    assert_eq!(&f[..3], ["SPC", "0200", "1"]);
    // The creditor's account: the configured QR-IBAN (SIX's test value), a valid IBAN whose
    // institution id is 30000-31999.
    assert_eq!(f[3], "CH4431999123000889012");
    assert!(mod97_valid(f[3]));
    let iid: u32 = f[3][4..9].parse().unwrap();
    assert!((30000..=31999).contains(&iid));
    // The creditor: structured address (S), name, street, number, postal code, town, country.
    assert_eq!(
        &f[4..11],
        [
            "S",
            "Leman SA",
            "Quai du Mont-Blanc",
            "5",
            "1201",
            "Genève",
            "CH"
        ]
    );
    // The ultimate creditor is reserved: seven empty fields.
    assert!(f[11..18].iter().all(|x| x.is_empty()), "{f:?}");
    // Amount (two decimals, a point, no separator) and currency.
    let total: Decimal = invoice["total"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(f[18], format!("{total:.2}"));
    assert!(!f[18].contains(' ') && !f[18].contains('\''));
    assert_eq!(f[19], "CHF");
    // The debtor: the customer as invoiced, structured; the over-long name cut to 70.
    assert_eq!(f[20], "S");
    assert_eq!(f[21].chars().count(), 70, "{}", f[21]);
    assert!(long_name.starts_with(f[21]));
    assert_eq!(&f[22..27], ["Rue du Rhône", "12", "1204", "Genève", "CH"]);
    // The reference: QRR with a QR-IBAN, 27 digits, mod 10 recursive check digit; it is
    // derived from the invoice number.
    assert_eq!(f[27], "QRR");
    let reference = f[28];
    assert_eq!(reference.len(), 27);
    assert!(reference.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(
        mod10(&reference[..26]),
        reference[26..].parse::<u32>().unwrap()
    );
    let number = invoice["number"].as_str().unwrap();
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    assert!(
        reference[..26].ends_with(&format!("1{digits}")),
        "{reference} from {number}"
    );
    // The unstructured message, then the trailer.
    assert_eq!(f[29], format!("Rechnung {number}"));
    assert!(f[29].chars().count() <= 140);
    assert_eq!(f[30], "EPD");
    // Every field within its length.
    for (i, max) in [
        (5, 70),
        (6, 70),
        (7, 16),
        (8, 16),
        (9, 35),
        (21, 70),
        (22, 70),
        (23, 16),
        (24, 16),
        (25, 35),
    ] {
        assert!(f[i].chars().count() <= max, "field {i}: {}", f[i]);
    }
    // The payment part's text: the reference in blocks of five, the amount with spaces.
    let text = pdf_text(&body);
    assert!(
        text.contains(&format!("{} {}", &reference[..2], &reference[2..7])),
        "{text}"
    );
    assert!(
        text.contains("Empfangsschein")
            && text.contains("Zahlteil")
            && text.contains("Annahmestelle")
    );
    assert!(text.contains("Vor der Einzahlung abzutrennen"));
}

#[tokio::test]
async fn r24_without_a_qr_iban_the_qr_bill_uses_the_iban_with_a_creditor_reference() {
    let app = TestApp::builder()
        .env("LEMAN_ISSUER_QR_IBAN", "")
        .env("LEMAN_ISSUER_IBAN", "CH93 0076 2011 6238 5295 7")
        .spawn()
        .await;
    let (_, s) = app.signed_in("doc3@example.ch").await;
    let (org, id, invoice) = paid_chf_invoice(&app, &s, "Acme").await;
    let (_, _, body) = pdf(
        &app,
        &s.access_token,
        &format!("/v1/orgs/{org}/invoices/{id}/pdf"),
    )
    .await;
    let payload = qr_payloads(&body).pop().expect("a QR code");
    let f: Vec<&str> = payload.split("\r\n").collect();
    assert_eq!(f[3], "CH9300762011623852957");
    assert!(mod97_valid(f[3]));
    assert_eq!(f[27], "SCOR");
    let reference = f[28];
    assert!(
        reference.starts_with("RF") && reference.len() <= 25,
        "{reference}"
    );
    assert!(
        mod97_valid(reference),
        "ISO 11649 check digits of {reference}"
    );
    let digits: String = invoice["number"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert!(reference.ends_with(&format!("INV{digits}")), "{reference}");
    assert_eq!(
        f[20..27],
        ["S", "Acme", "Rue du Rhône", "12", "1204", "Genève", "CH"]
    );
}

#[tokio::test]
async fn r24_a_eur_invoice_carries_an_epc_qr_code() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc4@example.fr").await;
    let res = send(&app, Method::POST, "/v1/orgs", &s, Some(json!({
        "name": "Élodie Dupont SARL", "country": "FR", "currency": "EUR", "vat_number": "FR12345678901",
        "billing_address": {"line1": "12 rue de la Paix", "postal_code": "75002", "city": "Paris"}
    }))).await;
    let org = ok(res, 201).await["id"].as_str().unwrap().to_string();
    let card_id = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa"}))
        .await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]),
        )
        .await;
    let order_id = order["id"].as_str().unwrap();
    ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/orders/{order_id}/payments"),
            &s,
            Some(card(&card_id)),
        )
        .await,
        201,
    )
    .await;
    let id = order["invoice_id"].as_str().unwrap();
    let invoice = get_json(&app, &s, &format!("/v1/orgs/{org}/invoices/{id}")).await;
    assert_eq!(invoice["status"], "paid");
    let (status, _, body) = pdf(
        &app,
        &s.access_token,
        &format!("/v1/orgs/{org}/invoices/{id}/pdf"),
    )
    .await;
    assert_eq!(status, 200);
    let text = pdf_text(&body);
    assert!(
        text.contains("Facture") && text.contains("Élodie Dupont SARL"),
        "{text}"
    );
    assert!(
        text.contains("FR12345678901"),
        "the customer's VAT number: {text}"
    );
    assert!(
        text.contains("CHE-123.456.789 TVA"),
        "the issuer's VAT number: {text}"
    );
    assert!(!text.contains("Récépissé"), "no QR-bill for EUR");
    let payload = qr_payloads(&body).pop().expect("an EPC QR code");
    assert!(payload.len() <= 331);
    let f: Vec<&str> = payload.split('\n').collect();
    // Service tag, version 002, UTF-8, SEPA credit transfer, BIC (optional, not configured),
    // beneficiary, IBAN, amount, purpose, structured reference.
    assert_eq!(&f[..4], ["BCD", "002", "1", "SCT"]);
    assert_eq!(f[4], "");
    assert_eq!(f[5], "Leman SA");
    assert_eq!(f[6], "CH9300762011623852957");
    let total: Decimal = invoice["total"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(f[7], format!("EUR{total:.2}"));
    assert_eq!(f[8], "");
    assert!(f[9].starts_with("RF") && mod97_valid(f[9]), "{}", f[9]);
    assert_eq!(f.len(), 10, "nothing after the reference: {payload:?}");
}

#[tokio::test]
async fn r24_the_same_invoice_gives_the_same_bytes_its_etag_and_304() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc5@example.ch").await;
    let (org, id, _) = paid_chf_invoice(&app, &s, "Acme").await;
    let path = format!("/v1/orgs/{org}/invoices/{id}/pdf?lang=en");
    let (_, first_headers, first) = pdf(&app, &s.access_token, &path).await;
    let (_, second_headers, second) = pdf(&app, &s.access_token, &path).await;
    assert_eq!(first, second, "deterministic bytes");
    let etag = first_headers["etag"].to_str().unwrap().to_string();
    assert_eq!(second_headers["etag"], etag.as_str());
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    assert!(
        first_headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".pdf")
    );
    let res = send_with(
        &app,
        Method::GET,
        &path,
        &s,
        None,
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = send_with(
        &app,
        Method::GET,
        &path,
        &s,
        None,
        &[("If-None-Match", "\"stale\"")],
    )
    .await;
    assert_eq!(res.status(), 200);
    // Another language is another document.
    let (_, fr_headers, _) = pdf(
        &app,
        &s.access_token,
        &format!("/v1/orgs/{org}/invoices/{id}/pdf?lang=fr"),
    )
    .await;
    assert_ne!(fr_headers["etag"], etag.as_str());
    // No clock in the file: no creation time of today, the file id is the document's own.
    let raw = String::from_utf8_lossy(&first);
    // (To the minute: the document's own dates are midnights, which the hour 00 shares.)
    let now = chrono::Utc::now();
    let stamp = now.format("D:%Y%m%d%H%M").to_string();
    assert!(now.format("%H%M").to_string() == "0000" || !raw.contains(&stamp));
}

#[tokio::test]
async fn r24_an_open_invoice_is_409_and_points_to_a_pro_forma_a_cancelled_one_409_too() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc6@example.ch").await;
    let org = app
        .an_org(&s)
        .with_open_invoice(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let id = org.invoice(0).to_string();
    let path = format!("/v1/orgs/{}/invoices/{id}/pdf", org.id);
    let res = send(&app, Method::GET, &path, &s, None).await;
    let link = res.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("/pro-forma-invoices>") && link.contains("create-form"),
        "{link}"
    );
    let body = problem(res, 409, "invoice_not_paid").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("create_pro_forma"),
        "{body}"
    );
    // Once cancelled, it never gets a final PDF either.
    let id2 = id.clone();
    app.with_conn(move |c| {
        use leman::domain::billing_states::InvoiceStatus;
        assert!(
            leman::models::invoices::transition(
                c,
                &id2,
                InvoiceStatus::Open,
                InvoiceStatus::Cancelled,
                leman::db::now()
            )
            .unwrap()
        );
    })
    .await;
    problem(
        send(&app, Method::GET, &path, &s, None).await,
        409,
        "invoice_cancelled",
    )
    .await;
}

#[tokio::test]
async fn r24_access_another_orgs_invoice_is_404_members_need_accounting_tokens_billing_read() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc7@example.ch").await;
    let (member, ms) = app.signed_in("doc7-member@example.ch").await;
    let (accountant, acs) = app.signed_in("doc7-accountant@example.ch").await;
    let (org, id, _) = paid_chf_invoice(&app, &s, "Acme").await;
    app.add_member(&org, &member.id, "member", &["products"])
        .await;
    app.add_member(&org, &accountant.id, "member", &["accounting"])
        .await;
    let path = format!("/v1/orgs/{org}/invoices/{id}/pdf");
    problem(
        send(&app, Method::GET, &path, &ms, None).await,
        403,
        "permission_denied",
    )
    .await;
    assert_eq!(
        send(&app, Method::GET, &path, &acs, None).await.status(),
        200
    );
    // Another organisation's invoice through one's own organisation: not found.
    let (_, other) = app.signed_in("doc7-other@example.ch").await;
    let (other_org, other_id, _) = paid_chf_invoice(&app, &other, "Other").await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices/{other_id}/pdf"),
            &s,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{other_org}/invoices/{other_id}/pdf"),
            &s,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices/inv_nope/pdf"),
            &s,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Tokens: billing:read reads it, products:read does not.
    let (_, reader) = create_token(&app, &s, &["billing:read"]).await;
    assert_eq!(
        send(&app, Method::GET, &path, &reader, None).await.status(),
        200
    );
    let (_, wrong) = create_token(&app, &s, &["products:read"]).await;
    assert_eq!(
        send(&app, Method::GET, &path, &wrong, None).await.status(),
        403
    );
    // Unauthenticated.
    assert_eq!(app.get(&path).await.status(), 401);
}

#[tokio::test]
async fn r24_an_unknown_language_is_422() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc8@example.ch").await;
    let (org, id, _) = paid_chf_invoice(&app, &s, "Acme").await;
    for bad in ["xx", "EN", "", "fr,de"] {
        let path = format!("/v1/orgs/{org}/invoices/{id}/pdf?lang={bad}");
        let body = problem(
            send(&app, Method::GET, &path, &s, None).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "lang", "{body}");
    }
}

#[tokio::test]
async fn r24_a_refunded_invoice_lists_what_went_back() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc9@example.ch").await;
    let (org, id, invoice) = paid_chf_invoice(&app, &s, "Acme").await;
    let number = invoice["number"].as_str().unwrap();
    let out = app.cli(
        &[
            "billing", "refund", number, "--amount", "5.00", "--to", "prepaid",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _, body) = pdf(
        &app,
        &s.access_token,
        &format!("/v1/orgs/{org}/invoices/{id}/pdf?lang=en"),
    )
    .await;
    assert_eq!(status, 200);
    let text = pdf_text(&body);
    assert!(text.contains(words("en")[5]), "{text}");
    assert!(text.contains("CHF -5.00"), "{text}");
    assert!(text.contains(words("en")[4]), "{text}");
}

#[tokio::test]
async fn r28_the_pro_forma_pdf_says_it_has_no_value_and_carries_a_qr_bill() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("doc10@example.ch").await;
    let org = app
        .an_org(&s)
        .with_product(json!([{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]))
        .await;
    let product = org.orders[0]["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pf = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{}/renewals", org.id),
            &s,
            Some(json!({
                "items": [{"product_id": product, "billing_period": "P1Y"}],
                "payment": {"method": "bank_transfer"}
            })),
        )
        .await,
        202,
    )
    .await;
    let number = pf["number"].as_str().unwrap();
    assert!(number.starts_with("PF-"));
    let path = format!(
        "/v1/orgs/{}/pro-forma-invoices/{}/pdf",
        org.id,
        pf["id"].as_str().unwrap()
    );
    for lang in LANGUAGES {
        let (status, _, body) = pdf(&app, &s.access_token, &format!("{path}?lang={lang}")).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let text = pdf_text(&body);
        assert!(text.contains(number), "{text}");
        assert!(
            text.contains(words(lang)[6]),
            "{lang}: the no-value sentence in {text}"
        );
        assert!(
            text.contains(&printed(pf["total"]["amount"].as_str().unwrap())),
            "{text}"
        );
        for l in pf["lines"].as_array().unwrap() {
            assert!(text.contains(l["description"].as_str().unwrap()), "{text}");
        }
    }
    let (_, headers, body) = pdf(&app, &s.access_token, &format!("{path}?lang=fr")).await;
    let (_, _, again) = pdf(&app, &s.access_token, &format!("{path}?lang=fr")).await;
    assert_eq!(body, again);
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(
        send_with(
            &app,
            Method::GET,
            &format!("{path}?lang=fr"),
            &s,
            None,
            &[("If-None-Match", &etag)]
        )
        .await
        .status(),
        304
    );
    let payload = qr_payloads(&body).pop().expect("a QR-bill");
    let f: Vec<&str> = payload.split("\r\n").collect();
    assert_eq!(&f[..3], ["SPC", "0200", "1"]);
    let total: Decimal = pf["total"]["amount"].as_str().unwrap().parse().unwrap();
    assert_eq!(f[18], format!("{total:.2}"));
    assert_eq!(f[19], "CHF");
    assert_eq!(f[27], "QRR");
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    assert!(f[28][..26].ends_with(&format!("2{digits}")), "{}", f[28]);
    assert_eq!(mod10(&f[28][..26]), f[28][26..].parse::<u32>().unwrap());
    // The message carries the bank transfer's reference, which the provider matches.
    assert_eq!(f[29], pf["bank_transfer"]["reference"].as_str().unwrap());
    let text = pdf_text(&body);
    assert!(
        text.contains("Récépissé") && text.contains("Section paiement"),
        "{text}"
    );
    // Another organisation's member: not found.
    let (_, other) = app.signed_in("doc10-other@example.ch").await;
    let other_org = app.an_org(&other).await.id;
    let foreign = format!(
        "/v1/orgs/{other_org}/pro-forma-invoices/{}/pdf",
        pf["id"].as_str().unwrap()
    );
    problem(
        send(&app, Method::GET, &foreign, &other, None).await,
        404,
        "not_found",
    )
    .await;
    problem(
        send(&app, Method::GET, &format!("{path}?lang=xx"), &s, None).await,
        422,
        "validation_failed",
    )
    .await;
}

#[test]
fn r24_the_issuer_settings_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = |pairs: &[(&str, &str)]| {
        let mut vars: std::collections::HashMap<String, String> =
            [("LEMAN_DATA_DIR", dir.path().to_str().unwrap())]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        vars.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        leman::config::Config::from_vars(vars)
    };
    let issuer = config(&[]).unwrap().issuer;
    assert_eq!(issuer.qr_iban.as_deref(), Some("CH4431999123000889012"));
    assert_eq!(issuer.iban, "CH9300762011623852957");
    let refused = |pairs: &[(&str, &str)], setting: &str| {
        let e = config(pairs).unwrap_err();
        assert_eq!(e.setting, setting, "{e}");
    };
    refused(
        &[("LEMAN_ISSUER_IBAN", "CH93 0076 2011 6238 5295 8")],
        "LEMAN_ISSUER_IBAN",
    );
    refused(
        &[("LEMAN_ISSUER_IBAN", "CH44 3199 9123 0008 8901 2")],
        "LEMAN_ISSUER_IBAN",
    );
    refused(
        &[("LEMAN_ISSUER_IBAN", "DE89 3704 0044 0532 0130 00")],
        "LEMAN_ISSUER_IBAN",
    );
    refused(&[("LEMAN_ISSUER_IBAN", "")], "LEMAN_ISSUER_IBAN");
    refused(
        &[("LEMAN_ISSUER_QR_IBAN", "CH93 0076 2011 6238 5295 7")],
        "LEMAN_ISSUER_QR_IBAN",
    );
    refused(&[("LEMAN_ISSUER_NAME", "")], "LEMAN_ISSUER_NAME");
    refused(
        &[("LEMAN_ISSUER_NAME", &"x".repeat(71))],
        "LEMAN_ISSUER_NAME",
    );
    refused(
        &[("LEMAN_ISSUER_TOWN", &"x".repeat(36))],
        "LEMAN_ISSUER_TOWN",
    );
    refused(
        &[("LEMAN_ISSUER_POSTAL_CODE", "")],
        "LEMAN_ISSUER_POSTAL_CODE",
    );
    refused(
        &[("LEMAN_ISSUER_COUNTRY", "Switzerland")],
        "LEMAN_ISSUER_COUNTRY",
    );
    refused(&[("LEMAN_ISSUER_BIC", "NOPE")], "LEMAN_ISSUER_BIC");
    let ok = config(&[
        ("LEMAN_ISSUER_QR_IBAN", ""),
        ("LEMAN_ISSUER_BIC", "ubswchzh80a"),
    ])
    .unwrap();
    assert_eq!(ok.issuer.qr_iban, None);
    assert_eq!(ok.issuer.bic.as_deref(), Some("UBSWCHZH80A"));
}
