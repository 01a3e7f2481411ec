//! Credit notes (issue 13, part 2): every refund issues one, numbered `CN-YYYY-NNNNNN` in its own
//! gapless yearly sequence, referring to its invoice and split by VAT rate; none for a failed
//! refund, one however often a refund is resumed; listed on the invoice and under
//! `…/credit-notes`, each also as a PDF.

use chrono::Datelike;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestSession, billing_app, fresh_domain, get_json, problem, send, send_with,
};
use crate::money_one_place::{org_with_card, paid_by_card, start_refund};

fn year() -> i32 {
    chrono::Utc::now().year()
}

fn cn(seq: u32) -> String {
    format!("CN-{}-{seq:06}", year())
}

/// Minor units of a money value.
fn minor(m: &Value) -> i64 {
    m["amount"]
        .as_str()
        .unwrap()
        .replace('.', "")
        .parse()
        .unwrap()
}

/// An organisation with a .ch domain paid by card; returns (org, invoice path, invoice number).
async fn paid_domain(app: &TestApp, s: &TestSession, name: &str) -> (String, String, String) {
    let org = app
        .an_org(s)
        .named(name)
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let invoice = format!("/v1/orgs/{}/invoices/{}", org.id, org.invoice(0));
    let number = get_json(app, s, &invoice).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    (org.id, invoice, number)
}

fn refund(app: &TestApp, number: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["billing", "refund", number];
    args.extend_from_slice(extra);
    app.cli(&args, &[])
}

#[tokio::test]
async fn cn_a_refund_issues_a_credit_note_referring_to_its_invoice_and_listed_on_it() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let (org, invoice, number) = paid_domain(&app, &s, "Notes Sàrl").await;
    // Before any refund the invoice lists none (always present).
    assert_eq!(
        get_json(&app, &s, &invoice).await["credit_notes"],
        json!([])
    );
    let out = refund(&app, &number, &["--to", "prepaid"]);
    assert!(out.status.success(), "{out:?}");

    let inv = get_json(&app, &s, &invoice).await;
    assert_eq!(inv["status"], "refunded");
    let listed = inv["credit_notes"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{inv}");
    assert_eq!(listed[0]["number"], cn(1));
    assert_eq!(listed[0]["amount"], inv["total"]);
    let id = listed[0]["id"].as_str().unwrap();
    assert!(id.starts_with("cn_"));

    let note = get_json(&app, &s, &format!("/v1/orgs/{org}/credit-notes/{id}")).await;
    assert_eq!(note["number"], cn(1));
    assert_eq!(note["invoice_id"], inv["id"]);
    assert_eq!(note["invoice_number"], inv["number"]);
    assert_eq!(note["destination"], "prepaid");
    assert_eq!(note["total"], inv["total"]);
    // A whole refund gives back the invoice's VAT rows exactly.
    assert_eq!(note["subtotal"], inv["subtotal"]);
    assert_eq!(note["vat"], inv["vat"]);
    assert_eq!(note["vat_rows"].as_array().unwrap().len(), 1);
    assert_eq!(note["vat_rows"][0]["vat_rate"], "8.1");

    let list = get_json(&app, &s, &format!("/v1/orgs/{org}/credit-notes")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0], note);
    assert_eq!(list["next_cursor"], Value::Null);
    let invoice_id = inv["id"].as_str().unwrap();
    let filtered = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/credit-notes?invoice_id={invoice_id}"),
    )
    .await;
    assert_eq!(filtered["data"][0]["id"], note["id"]);
    let other = "inv_01936d7a6b2f7c3e9d4a5b6c7d8e9f13";
    let none = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/credit-notes?invoice_id={other}"),
    )
    .await;
    assert_eq!(none["data"], json!([]));
    let bad = send(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}/credit-notes?invoice_id=2026-000001"),
        &s,
        None,
    )
    .await;
    problem(bad, 422, "validation_failed").await;

    // The refund's one activity names its credit note; the receipt quotes it.
    let number_cn = cn(1);
    let details = app
        .with_conn(move |c| {
            use diesel::prelude::*;
            use leman::db::schema::activities;
            activities::table
                .filter(activities::action.eq("invoice.refunded"))
                .select(activities::details)
                .load::<String>(c)
                .unwrap()
        })
        .await;
    assert_eq!(details.len(), 1);
    assert!(details[0].contains(&number_cn), "{}", details[0]);
    app.wait_for_mail_containing("cora@example.ch", &number_cn)
        .await;
}

#[tokio::test]
async fn cn_a_partial_then_a_full_refund_give_two_notes_that_sum_to_the_invoice_by_vat_rate() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let (org, invoice, number) = paid_domain(&app, &s, "Parts Sàrl").await;
    let out = refund(&app, &number, &["--amount", "5.00", "--to", "prepaid"]);
    assert!(out.status.success(), "{out:?}");
    let out = refund(&app, &number, &["--to", "prepaid"]);
    assert!(out.status.success(), "{out:?}");

    let inv = get_json(&app, &s, &invoice).await;
    let refs = inv["credit_notes"].as_array().unwrap();
    assert_eq!(
        refs.iter().map(|r| r["number"].clone()).collect::<Vec<_>>(),
        vec![json!(cn(1)), json!(cn(2))],
        "oldest first"
    );
    let notes: Vec<Value> = futures_util::future::join_all(refs.iter().map(|r| {
        let path = format!("/v1/orgs/{org}/credit-notes/{}", r["id"].as_str().unwrap());
        let (app, s) = (&app, &s);
        async move { get_json(app, s, &path).await }
    }))
    .await;
    assert_eq!(minor(&notes[0]["total"]), 500);
    // 5.00 of 11.89 (11.00 + 0.89 VAT at 8.1 %): 0.37 VAT (500 × 89 / 1189 = 37.4).
    assert_eq!(minor(&notes[0]["vat"]), 37);
    assert_eq!(minor(&notes[0]["subtotal"]), 463);
    for n in &notes {
        let rows = n["vat_rows"].as_array().unwrap();
        let sum: i64 = rows.iter().map(|r| minor(&r["total"])).sum();
        assert_eq!(sum, minor(&n["total"]), "{n}");
        assert_eq!(minor(&n["subtotal"]) + minor(&n["vat"]), minor(&n["total"]));
    }
    // Together: the amount refunded, and each VAT row of the invoice to the cent.
    let total: i64 = notes.iter().map(|n| minor(&n["total"])).sum();
    assert_eq!(total, minor(&inv["refunded"]));
    assert_eq!(total, minor(&inv["total"]));
    let vat: i64 = notes.iter().map(|n| minor(&n["vat"])).sum();
    assert_eq!(vat, minor(&inv["vat"]));
    let net: i64 = notes.iter().map(|n| minor(&n["subtotal"])).sum();
    assert_eq!(net, minor(&inv["subtotal"]));

    // Newest first, one page at a time.
    let page = get_json(&app, &s, &format!("/v1/orgs/{org}/credit-notes?limit=1")).await;
    assert_eq!(page["data"][0]["number"], cn(2));
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/credit-notes?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(next["data"][0]["number"], cn(1));
    assert_eq!(next["next_cursor"], Value::Null);
}

/// Refunds of different invoices at once (separate `leman billing refund` processes): the
/// numbers are unique and gapless, on both engines.
#[tokio::test]
async fn cn_numbering_under_concurrent_refunds_is_gapless_and_unique() {
    const N: usize = 5;
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let mut orgs = Vec::new();
    for i in 0..N {
        orgs.push(paid_domain(&app, &s, &format!("Race {i}")).await);
    }
    let db = app.db.url.clone();
    let data = app.data_dir.path().to_path_buf();
    let children: Vec<_> = orgs
        .iter()
        .map(|(_, _, number)| {
            std::process::Command::new(env!("CARGO_BIN_EXE_leman"))
                .args(["billing", "refund", number, "--to", "prepaid"])
                .env("DATABASE_URL", &db)
                .env("LEMAN_DATA_DIR", &data)
                .env("LEMAN_JOBS", "false")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for out in &outputs {
        assert!(out.status.success(), "{out:?}");
    }
    let mut numbers = Vec::new();
    for (org, invoice, _) in &orgs {
        let list = get_json(&app, &s, &format!("/v1/orgs/{org}/credit-notes")).await;
        let data = list["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{list}");
        let inv = get_json(&app, &s, invoice).await;
        assert_eq!(data[0]["invoice_id"], inv["id"]);
        assert_eq!(inv["credit_notes"][0]["id"], data[0]["id"]);
        numbers.push(data[0]["number"].as_str().unwrap().to_string());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=N as u32).map(cn).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn cn_a_failed_refund_issues_none() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let (org, failing) = org_with_card(&app, &s, "tok_visa_refund_fails").await;
    let (invoice, number) = paid_by_card(&app, &s, &org, &failing).await;
    let out = refund(&app, &number, &["--to", "original"]);
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(
        get_json(&app, &s, &invoice).await["credit_notes"],
        json!([])
    );
    let list = get_json(&app, &s, &format!("/v1/orgs/{org}/credit-notes")).await;
    assert_eq!(list["data"], json!([]));
    // The number was not used: the next refund that succeeds takes the first.
    let out = refund(&app, &number, &["--to", "prepaid"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        get_json(&app, &s, &invoice).await["credit_notes"][0]["number"],
        cn(1)
    );
}

/// A refund through the provider whose command died is settled by `--resume`: one credit note,
/// and a second `--resume` issues none.
#[tokio::test]
async fn cn_a_resumed_refund_issues_its_note_once() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let (org, slow) = org_with_card(&app, &s, "tok_visa_refund_slow").await;
    let (invoice, number) = paid_by_card(&app, &s, &org, &slow).await;
    let mut died = start_refund(&app, &[&number]).in_provider_call().await;
    died.child.kill().unwrap();
    let _ = died.finish().await;
    // Pending: no credit note yet.
    assert_eq!(
        get_json(&app, &s, &invoice).await["credit_notes"],
        json!([])
    );
    let resumed = refund(&app, &number, &["--resume"]);
    assert!(resumed.status.success(), "{resumed:?}");
    let twice = refund(&app, &number, &["--resume"]);
    assert!(!twice.status.success(), "{twice:?}");
    let inv = get_json(&app, &s, &invoice).await;
    assert_eq!(inv["credit_notes"].as_array().unwrap().len(), 1, "{inv}");
    assert_eq!(inv["credit_notes"][0]["number"], cn(1));
    assert_eq!(inv["credit_notes"][0]["amount"], inv["total"]);
    let list = get_json(&app, &s, &format!("/v1/orgs/{org}/credit-notes")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["destination"], "original");
}

#[tokio::test]
async fn cn_another_organisations_note_is_not_found_and_members_need_accounting() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let (member, member_s) = app.signed_in("mia@example.ch").await;
    let org = app
        .an_org(&s)
        .named("Guarded Sàrl")
        .with_member(&member, "member", &["products"])
        .with_product(json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]))
        .await;
    let invoice = format!("/v1/orgs/{}/invoices/{}", org.id, org.invoice(0));
    let number = get_json(&app, &s, &invoice).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(refund(&app, &number, &["--to", "prepaid"]).status.success());
    let id = get_json(&app, &s, &invoice).await["credit_notes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The same person's other organisation does not hold it.
    let other = app.create_org(&s, "Other Sàrl").await;
    for path in [
        format!("/v1/orgs/{other}/credit-notes/{id}"),
        format!("/v1/orgs/{other}/credit-notes/{id}/pdf"),
    ] {
        problem(
            send(&app, Method::GET, &path, &s, None).await,
            404,
            "not_found",
        )
        .await;
    }
    let list = get_json(&app, &s, &format!("/v1/orgs/{other}/credit-notes")).await;
    assert_eq!(list["data"], json!([]));
    // A stranger gets 404 on the organisation; a member without `accounting` 403.
    let (_, stranger) = app.signed_in("sam@example.ch").await;
    let org_id = &org.id;
    for path in [
        format!("/v1/orgs/{org_id}/credit-notes"),
        format!("/v1/orgs/{org_id}/credit-notes/{id}"),
        format!("/v1/orgs/{org_id}/credit-notes/{id}/pdf"),
    ] {
        problem(
            send(&app, Method::GET, &path, &stranger, None).await,
            404,
            "not_found",
        )
        .await;
        problem(
            send(&app, Method::GET, &path, &member_s, None).await,
            403,
            "permission_denied",
        )
        .await;
    }
    // A malformed id cannot exist.
    problem(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org_id}/credit-notes/cn_x"),
            &s,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn cn_the_pdf_answers_application_pdf_with_an_etag_and_304() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("cora@example.ch").await;
    let (org, invoice, number) = paid_domain(&app, &s, "Pdf Sàrl").await;
    assert!(refund(&app, &number, &["--to", "prepaid"]).status.success());
    let id = get_json(&app, &s, &invoice).await["credit_notes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/orgs/{org}/credit-notes/{id}/pdf");
    let res = send(&app, Method::GET, &path, &s, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    // The same bytes again, and 304 for a client that holds them.
    let again = send(&app, Method::GET, &path, &s, None).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.bytes().await.unwrap(), bytes);
    let cached = send_with(
        &app,
        Method::GET,
        &path,
        &s,
        None,
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(cached.status(), 304);
    // Another language is another document; an unknown one is refused.
    let de = send(&app, Method::GET, &format!("{path}?lang=de"), &s, None).await;
    assert_eq!(de.status(), 200);
    for bad in ["xx", "", "FR"] {
        let res = send(&app, Method::GET, &format!("{path}?lang={bad}"), &s, None).await;
        let p = problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "lang", "{p}");
    }
}
