//! Billing settings (issue 13 parts 6 and 7, R27): `GET`/`PUT /v1/orgs/{org_id}/billing-settings`
//! (admins and legal representatives), saved at once, and their effect on the mails: receipts
//! and renewal mails carry the paid invoice's PDF when `attach_invoice_pdf` is on, in the
//! document language of the settings; `invoice_email` receives a copy of every paid invoice.
//!
//! The PDFs are rendered at delivery by `services::documents::render`; these tests assert only
//! what holds whatever the renderer writes (a `%PDF` file named after the invoice, asked for in
//! the settings' language), never the document's text.

use base64::Engine as _;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use leman::db::schema::{mails, products};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestSession, billing_app, card, get_json, mail_text, ok, problem, send,
};

const HOSTING: &str = "web-hosting-starter";

fn path(org: &str) -> String {
    format!("/v1/orgs/{org}/billing-settings")
}

async fn put(app: &TestApp, who: &TestSession, org: &str, body: Value) -> reqwest::Response {
    send(app, Method::PUT, &path(org), who, Some(body)).await
}

/// An organisation in `country` (and its currency) of `s`'s user.
async fn org_in(app: &TestApp, s: &TestSession, country: &str, currency: &str) -> String {
    let res = send(
        app,
        Method::POST,
        "/v1/orgs",
        s,
        Some(json!({
            "name": format!("Firma {country}"), "country": country, "currency": currency,
            "billing_address": {"line1": "Hauptstrasse 1", "postal_code": "10115", "city": "Berlin"}
        })),
    )
    .await;
    ok(res, 201).await["id"].as_str().unwrap().to_string()
}

/// Orders `HOSTING` for a year and pays it with the saved card; returns the invoice number.
async fn buy_by_card(app: &TestApp, s: &TestSession, org: &str, card_id: &str) -> String {
    let order = app
        .order(
            s,
            org,
            json!([{"offer_id": HOSTING, "billing_period": "P1Y"}]),
        )
        .await;
    let order_id = order["id"].as_str().unwrap();
    let path = format!("/v1/orgs/{org}/orders/{order_id}/payments");
    ok(
        send(app, Method::POST, &path, s, Some(card(card_id))).await,
        201,
    )
    .await;
    let invoice_id = order["invoice_id"].as_str().unwrap();
    get_json(app, s, &format!("/v1/orgs/{org}/invoices/{invoice_id}")).await["number"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits (up to 10 s) for a delivered mail to `to` whose text contains `needle`; returns it raw.
async fn raw_mail(app: &TestApp, to: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(raw) = app
            .mails()
            .into_iter()
            .filter(|m| m.contains(&format!("To: {to}")))
            .find(|m| mail_text(m).contains(needle))
        {
            return raw.replace("\r\n", "\n");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} containing {needle:?} within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The attachments of a raw mail: (the `Content-Disposition` header, `Content-Type`, the
/// decoded bytes).
fn attachments(raw: &str) -> Vec<(String, String, Vec<u8>)> {
    raw.split("\n--")
        .filter(|part| part.contains("Content-Disposition: attachment"))
        .map(|part| {
            let (headers, body) = part.split_once("\n\n").unwrap();
            let header = |name: &str| {
                headers
                    .lines()
                    .find(|l| l.starts_with(name))
                    .unwrap_or_else(|| panic!("no {name} in {headers}"))
                    .to_string()
            };
            assert_eq!(
                header("Content-Transfer-Encoding:"),
                "Content-Transfer-Encoding: base64"
            );
            let joined: String = body.lines().map(str::trim).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(joined.trim())
                .expect("the attachment is base64");
            (
                header("Content-Disposition:"),
                header("Content-Type:"),
                bytes,
            )
        })
        .collect()
}

/// Asserts `raw` is a `multipart/mixed` mail carrying exactly the PDF of invoice `number`.
fn assert_carries_invoice(raw: &str, number: &str) {
    assert!(raw.contains("Content-Type: multipart/mixed"), "{raw}");
    // The text and HTML stay readable alternatives.
    assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
    let found = attachments(raw);
    assert_eq!(found.len(), 1, "{raw}");
    let (disposition, content_type, bytes) = &found[0];
    assert_eq!(
        disposition,
        &format!("Content-Disposition: attachment; filename=\"invoice-{number}.pdf\"")
    );
    assert_eq!(content_type, "Content-Type: application/pdf");
    assert!(
        bytes.starts_with(b"%PDF"),
        "{:?}",
        &bytes[..bytes.len().min(16)]
    );
}

fn assert_no_attachment(raw: &str) {
    assert!(!raw.contains("multipart/mixed"), "{raw}");
    assert!(!raw.contains("Content-Disposition: attachment"), "{raw}");
}

/// The documents the outbox holds for the mails of `template` to `to` (JSON lists, or None).
async fn stored_attachments(app: &TestApp, to: &str, template: &str) -> Vec<Option<Value>> {
    let (to, template) = (to.to_string(), template.to_string());
    app.with_conn(move |c| {
        mails::table
            .filter(mails::to_address.eq(&to))
            .filter(mails::template.eq(&template))
            .order(mails::created_at.asc())
            .select(mails::attachments)
            .load::<Option<String>>(c)
            .unwrap()
    })
    .await
    .into_iter()
    .map(|a| a.map(|s| serde_json::from_str(&s).unwrap()))
    .collect()
}

fn on(language: &str, email: Option<&str>) -> Value {
    json!({"attach_invoice_pdf": true, "invoice_language": language, "invoice_email": email})
}

#[tokio::test]
async fn bs_defaults_are_no_pdf_the_country_language_and_no_address() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("bs-defaults@example.ch").await;
    let ch = app.create_org(&s, "Genève SA").await;
    assert_eq!(
        get_json(&app, &s, &path(&ch)).await,
        json!({"attach_invoice_pdf": false, "invoice_language": "fr", "invoice_email": null})
    );
    for (country, currency, language) in [
        ("DE", "EUR", "de"),
        ("IT", "EUR", "it"),
        ("ES", "EUR", "es"),
        ("US", "EUR", "en"),
    ] {
        let org = org_in(&app, &s, country, currency).await;
        let got = get_json(&app, &s, &path(&org)).await;
        assert_eq!(got["invoice_language"], language, "{country}");
        assert_eq!(got["attach_invoice_pdf"], false);
        assert!(got["invoice_email"].is_null());
    }
}

#[tokio::test]
async fn r27_a_put_saves_at_once_and_get_shows_it() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("bs-save@example.ch").await;
    let org = app.create_org(&s, "Save SA").await;
    let saved = ok(
        put(&app, &s, &org, on("de", Some("  Compta@Example.CH "))).await,
        200,
    )
    .await;
    // The address is kept as every address is: trimmed and lower-cased.
    let expected = json!({"attach_invoice_pdf": true, "invoice_language": "de", "invoice_email": "compta@example.ch"});
    assert_eq!(saved, expected);
    assert_eq!(get_json(&app, &s, &path(&org)).await, expected);
    // One activity per change, naming what changed but not the address (personal data).
    let acts = app.activities_of_org(&org).await;
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "organization.billing_settings_updated")
            .count(),
        1,
        "{acts:?}"
    );
    // PUT replaces all three: null removes the address.
    let body =
        json!({"attach_invoice_pdf": false, "invoice_language": "it", "invoice_email": null});
    assert_eq!(ok(put(&app, &s, &org, body.clone()).await, 200).await, body);
    assert_eq!(get_json(&app, &s, &path(&org)).await, body);
    // The same again: saved (and recorded) again, nothing else.
    assert_eq!(ok(put(&app, &s, &org, body.clone()).await, 200).await, body);
    let details: Vec<String> = {
        let org = org.clone();
        app.with_conn(move |c| {
            use leman::db::schema::activities as a;
            a::table
                .filter(a::organization_id.eq(&org))
                .filter(a::action.eq("organization.billing_settings_updated"))
                .order(a::seq.asc())
                .select(a::details)
                .load(c)
                .unwrap()
        })
        .await
    };
    assert_eq!(details.len(), 3);
    assert!(
        details.iter().all(|d| !d.contains("compta@")),
        "{details:?}"
    );
    assert!(
        details[1]
            .contains(r#""changed":["attach_invoice_pdf","invoice_language","invoice_email"]"#),
        "{}",
        details[1]
    );
    assert!(details[2].contains(r#""changed":[]"#), "{}", details[2]);
}

#[tokio::test]
async fn bs_bad_input_is_a_422_naming_the_field_and_changes_nothing() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("bs-422@example.ch").await;
    let org = app.create_org(&s, "Strict SA").await;
    let cases = [
        (on("rm", None), "/invoice_language"),
        (on("EN", None), "/invoice_language"),
        (on("en", Some("not an address")), "/invoice_email"),
        (on("en", Some("")), "/invoice_email"),
        (on("en", Some("zoë@exämple.ch")), "/invoice_email"),
        (
            on("en", Some(&format!("{}@example.ch", "a".repeat(300)))),
            "/invoice_email",
        ),
        (
            json!({"attach_invoice_pdf": true, "invoice_language": "en"}),
            "/invoice_email",
        ),
        (
            json!({"invoice_language": "en", "invoice_email": null}),
            "/attach_invoice_pdf",
        ),
        (
            json!({"attach_invoice_pdf": "yes", "invoice_language": "en", "invoice_email": null}),
            "/attach_invoice_pdf",
        ),
        (
            json!({"attach_invoice_pdf": true, "invoice_language": "en", "invoice_email": null, "cc": "x@example.ch"}),
            "/cc",
        ),
    ];
    for (body, field) in cases {
        let p = problem(
            put(&app, &s, &org, body.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [field], "{body}: {p}");
    }
    assert_eq!(
        get_json(&app, &s, &path(&org)).await,
        json!({"attach_invoice_pdf": false, "invoice_language": "fr", "invoice_email": null})
    );
    assert!(
        !app.activities_of_org(&org)
            .await
            .iter()
            .any(|a| a == "organization.billing_settings_updated")
    );
}

#[tokio::test]
async fn bs_only_admins_and_legal_representatives_read_or_change_them_and_tokens_need_billing_scopes()
 {
    let app = billing_app().await;
    let (_, owner) = app.signed_in("bs-owner@example.ch").await;
    let (accountant, acc) = app.signed_in("bs-acc@example.ch").await;
    let (admin, adm) = app.signed_in("bs-admin@example.ch").await;
    let (_, stranger) = app.signed_in("bs-stranger@example.ch").await;
    let org = app.create_org(&owner, "Rights SA").await;
    app.add_member(
        &org,
        &accountant.id,
        "member",
        &["accounting", "products", "domains", "users"],
    )
    .await;
    app.add_member(&org, &admin.id, "admin", &[]).await;
    let body = on("en", None);
    // A member with every permission is still not an admin: 403 on both (the settings decide
    // where the organisation's invoices go; an accountant reads the invoices themselves).
    problem(
        send(&app, Method::GET, &path(&org), &acc, None).await,
        403,
        "permission_denied",
    )
    .await;
    problem(
        put(&app, &acc, &org, body.clone()).await,
        403,
        "permission_denied",
    )
    .await;
    // Another organisation's caller learns nothing: 404; a malformed id too.
    problem(
        send(&app, Method::GET, &path(&org), &stranger, None).await,
        404,
        "not_found",
    )
    .await;
    problem(
        put(&app, &stranger, &org, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    problem(
        put(&app, &owner, "org_nope", body.clone()).await,
        404,
        "not_found",
    )
    .await;
    // An admin may.
    ok(put(&app, &adm, &org, body.clone()).await, 200).await;
    assert_eq!(
        get_json(&app, &owner, &path(&org)).await["attach_invoice_pdf"],
        true
    );
    // Tokens: billing:read reads, billing:write changes; orgs scopes are not enough.
    let read = app
        .token_of_kind(&admin.id, "personal", &["billing:read"])
        .await;
    let write = app
        .token_of_kind(&admin.id, "personal", &["billing:write"])
        .await;
    let orgs = app
        .token_of_kind(&admin.id, "personal", &["orgs:read", "orgs:write"])
        .await;
    ok(send(&app, Method::GET, &path(&org), &read, None).await, 200).await;
    problem(
        send(&app, Method::PUT, &path(&org), &read, Some(body.clone())).await,
        403,
        "insufficient_scope",
    )
    .await;
    ok(
        send(&app, Method::PUT, &path(&org), &write, Some(on("es", None))).await,
        200,
    )
    .await;
    problem(
        send(&app, Method::GET, &path(&org), &orgs, None).await,
        403,
        "insufficient_scope",
    )
    .await;
    problem(
        send(&app, Method::PUT, &path(&org), &orgs, Some(body)).await,
        403,
        "insufficient_scope",
    )
    .await;
    assert_eq!(
        get_json(&app, &owner, &path(&org)).await["invoice_language"],
        "es"
    );
}

#[tokio::test]
async fn bs_two_puts_at_once_both_save_and_one_wins_whole() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("bs-race@example.ch").await;
    let org = app.create_org(&s, "Race SA").await;
    let a = on("de", Some("a@example.ch"));
    let b = json!({"attach_invoice_pdf": false, "invoice_language": "it", "invoice_email": null});
    let (ra, rb) = tokio::join!(
        put(&app, &s, &org, a.clone()),
        put(&app, &s, &org, b.clone())
    );
    ok(ra, 200).await;
    ok(rb, 200).await;
    let now = get_json(&app, &s, &path(&org)).await;
    assert!(now == a || now == b, "{now}");
}

#[tokio::test]
async fn r27_with_the_setting_off_a_card_receipt_has_no_attachment_and_with_it_on_it_carries_the_invoice_pdf()
 {
    let app = billing_app().await;
    let (user, s) = app.signed_in("bs-receipt@example.ch").await;
    let org = app.an_org(&s).with_card().await;
    // Off (the default).
    let number = buy_by_card(&app, &s, &org.id, org.card()).await;
    let raw = raw_mail(&app, &user.email, &format!("Invoice: {number}")).await;
    assert_no_attachment(&raw);
    // On: saved at once, the next receipt carries the PDF.
    ok(put(&app, &s, &org.id, on("fr", None)).await, 200).await;
    let number = buy_by_card(&app, &s, &org.id, org.card()).await;
    let raw = raw_mail(&app, &user.email, &format!("Invoice: {number}")).await;
    assert_carries_invoice(&raw, &number);
    // The mail stays in the payer's language; the document is asked for in the settings' one.
    assert!(mail_text(&raw).contains("Thank you"), "{raw}");
    let stored = stored_attachments(&app, &user.email, "payment_receipt").await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0], None);
    let doc = &stored[1].as_ref().unwrap()[0];
    assert_eq!(doc["kind"], "invoice");
    assert_eq!(doc["organization_id"], org.id.as_str());
    assert_eq!(doc["language"], "fr");
    // Off again: no attachment any more.
    let off = json!({"attach_invoice_pdf": false, "invoice_language": "fr", "invoice_email": null});
    ok(put(&app, &s, &org.id, off).await, 200).await;
    let number = buy_by_card(&app, &s, &org.id, org.card()).await;
    assert_no_attachment(&raw_mail(&app, &user.email, &format!("Invoice: {number}")).await);
}

#[tokio::test]
async fn r27_changing_the_invoice_language_changes_the_language_the_pdf_is_asked_for() {
    let app = billing_app().await;
    let (user, s) = app.signed_in("bs-lang@example.ch").await;
    let org = app.an_org(&s).funded("500").await;
    for language in ["de", "it", "en"] {
        ok(put(&app, &s, &org.id, on(language, None)).await, 200).await;
        // Paid from the prepaid account this time: the same receipt, the same attachment.
        let order = app
            .order(
                &s,
                &org.id,
                json!([{"offer_id": HOSTING, "billing_period": "P1M"}]),
            )
            .await;
        let order_id = order["id"].as_str().unwrap();
        let paid = format!("/v1/orgs/{}/orders/{order_id}/payments", org.id);
        ok(
            send(
                &app,
                Method::POST,
                &paid,
                &s,
                Some(json!({"method": "prepaid"})),
            )
            .await,
            201,
        )
        .await;
        let invoice_id = order["invoice_id"].as_str().unwrap();
        let number = get_json(
            &app,
            &s,
            &format!("/v1/orgs/{}/invoices/{invoice_id}", org.id),
        )
        .await["number"]
            .as_str()
            .unwrap()
            .to_string();
        let raw = raw_mail(&app, &user.email, &format!("Invoice: {number}")).await;
        assert_carries_invoice(&raw, &number);
        let stored = stored_attachments(&app, &user.email, "payment_receipt").await;
        let last = stored.last().unwrap().as_ref().unwrap();
        assert_eq!(last[0]["id"], invoice_id);
        assert_eq!(last[0]["language"], language);
    }
}

#[tokio::test]
async fn r27_the_invoice_address_gets_every_paid_invoice_with_its_pdf_in_the_invoice_language() {
    let app = billing_app().await;
    let (user, s) = app.signed_in("bs-copy@example.ch").await;
    let org = app.an_org(&s).named("Copie SA").with_card().await;
    // The PDF goes to the invoice address even with `attach_invoice_pdf` off.
    let body = json!({"attach_invoice_pdf": false, "invoice_language": "de", "invoice_email": "buchhaltung@example.ch"});
    ok(put(&app, &s, &org.id, body).await, 200).await;
    let number = buy_by_card(&app, &s, &org.id, org.card()).await;
    let raw = raw_mail(&app, "buchhaltung@example.ch", &number).await;
    assert_carries_invoice(&raw, &number);
    // In the invoice language: German here.
    let text = mail_text(&raw);
    assert!(text.contains(&format!("Rechnung: {number}")), "{text}");
    assert!(text.contains("Copie SA"), "{text}");
    let stored = stored_attachments(&app, "buchhaltung@example.ch", "invoice_copy").await;
    assert_eq!(stored.len(), 1, "one copy per paid invoice");
    assert_eq!(stored[0].as_ref().unwrap()[0]["language"], "de");
    // The payer's receipt has no attachment (the setting is off).
    assert_no_attachment(&raw_mail(&app, &user.email, &format!("Invoice: {number}")).await);
    // An open invoice is not sent: only paid ones.
    app.order(
        &s,
        &org.id,
        json!([{"offer_id": HOSTING, "billing_period": "P1Y"}]),
    )
    .await;
    let second = buy_by_card(&app, &s, &org.id, org.card()).await;
    raw_mail(&app, "buchhaltung@example.ch", &second).await;
    assert_eq!(
        stored_attachments(&app, "buchhaltung@example.ch", "invoice_copy")
            .await
            .len(),
        2
    );
}

async fn set_expiry(app: &TestApp, id: &str, at: NaiveDateTime) {
    let id = id.to_string();
    app.with_conn(move |c| {
        diesel::update(products::table.find(&id))
            .set(products::expires_at.eq(Some(at)))
            .execute(c)
            .unwrap()
    })
    .await;
}

#[tokio::test]
async fn r27_a_renewal_paid_by_card_carries_the_invoice_pdf_on_the_receipt_and_the_renewal_notice()
{
    let app = billing_app().await;
    let (owner, s) = app.signed_in("bs-renew@example.ch").await;
    let (accountant, _) = app.signed_in("bs-renew-acc@example.ch").await;
    // Bought by card: auto-renewal is on with that card (R39).
    let org = app
        .an_org(&s)
        .with_member(&accountant, "member", &["accounting"])
        .with_product(json!([{"offer_id": HOSTING, "billing_period": "P1Y"}]))
        .await;
    let product = org.orders[0]["products"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        put(&app, &s, &org.id, on("it", Some("fatture@example.ch"))).await,
        200,
    )
    .await;
    let expiry = leman::db::truncate(leman::db::now()) + Duration::days(40);
    set_expiry(&app, &product, expiry).await;
    let report = leman::services::renewal_scheduler::run(
        &app.services,
        expiry - Duration::days(14) + Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(report.renewed, 1, "{report:?}");
    // The renewal's invoice: the newest one.
    let invoices = get_json(&app, &s, &format!("/v1/orgs/{}/invoices", org.id)).await;
    let renewal_invoice = &invoices["data"][0];
    assert_eq!(renewal_invoice["status"], "paid");
    let number = renewal_invoice["number"].as_str().unwrap().to_string();
    // The payer's receipt, the accounting member's renewal notice and the invoice address's
    // copy each carry the renewal's invoice.
    let receipt = raw_mail(&app, &owner.email, &format!("Invoice: {number}")).await;
    assert_carries_invoice(&receipt, &number);
    let notice = raw_mail(&app, &accountant.email, "renewed automatically").await;
    assert!(mail_text(&notice).contains(&number));
    assert_carries_invoice(&notice, &number);
    let copy = raw_mail(&app, "fatture@example.ch", &number).await;
    assert_carries_invoice(&copy, &number);
    assert!(mail_text(&copy).contains(&format!("Fattura: {number}")));
    let stored = stored_attachments(&app, &accountant.email, "renewal_notice").await;
    assert_eq!(
        stored.last().unwrap().as_ref().unwrap()[0]["language"],
        "it"
    );
}

#[tokio::test]
async fn r27_a_document_that_cannot_be_rendered_at_delivery_is_left_out_and_the_mail_still_leaves()
{
    let app = billing_app().await;
    let (_, s) = app.signed_in("bs-gone@example.ch").await;
    let org = app.create_org(&s, "Gone SA").await;
    let config = app.services.config.clone();
    app.with_conn(move |c| {
        leman::mail::send_with_attachments(
            c,
            &config,
            "invoice_copy",
            "en",
            "gone@example.ch",
            json!({"invoice_number": "2026-999999", "organization_name": "Gone SA",
                   "amount": "CHF 1.00", "issued_on": "2026-01-01"}),
            &[leman::mail::Attachment {
                kind: leman::domain::documents::DocumentKind::Invoice,
                organization_id: org,
                id: "inv_00000000000000000000000000000000".into(),
                language: leman::domain::Language::En,
            }],
        )
        .unwrap();
    })
    .await;
    let raw = raw_mail(&app, "gone@example.ch", "2026-999999").await;
    assert_no_attachment(&raw);
    // Marked sent once delivered (the job completes just after the file is written).
    let mut status = String::new();
    for _ in 0..400 {
        status = app
            .with_conn(|c| {
                mails::table
                    .filter(mails::to_address.eq("gone@example.ch"))
                    .select(mails::status)
                    .first::<String>(c)
                    .unwrap()
            })
            .await;
        if status == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(status, "sent");
}
