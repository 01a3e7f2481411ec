//! The access matrix (R15, R23): every route under `/v1/orgs/{org_id}` in the committed spec is
//! driven by a legal representative, an admin, a member with each permission and one with none,
//! a member of another organisation and an anonymous caller, and each answer is checked against
//! the route's declared `x-leman-permission`. A new route joins the walk by itself.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, TestSession, example_body, operations, send, spec};

/// The callers of the matrix: (name, role, permissions).
const MEMBERS: &[(&str, &str, &[&str])] = &[
    ("admin", "admin", &[]),
    ("none", "member", &[]),
    ("accounting", "member", &["accounting"]),
    ("products", "member", &["products"]),
    ("domains", "member", &["domains"]),
    ("users", "member", &["users"]),
];

struct People {
    legal: (String, TestSession),
    members: Vec<(&'static str, String, TestSession)>,
    target: String,
    outsider: TestSession,
}

/// Whether a caller named `who` meets the declared requirement (`a+b`: both).
fn allowed(who: &str, permission: &str) -> bool {
    match who {
        "legal" | "admin" => true,
        _ => permission == "member" || permission.split('+').all(|p| p == who),
    }
}

/// The objects a fixture organisation holds, by path placeholder.
struct Fixture {
    org: String,
    ids: Vec<(&'static str, String)>,
}

impl Fixture {
    fn fill(&self, path: &str) -> String {
        self.ids
            .iter()
            .fold(path.replace("{org_id}", &self.org), |p, (k, v)| {
                p.replace(k, v)
            })
    }
}

/// A fresh organisation of `people.legal` with every member placed, a pending invitation, an
/// open order (with its product and invoice) and a saved payment method.
async fn fixture(app: &TestApp, people: &People, n: usize) -> Fixture {
    let (org, invitation) = organisation(app, people, n).await;
    let token = &people.legal.1.access_token;
    let order: Value = send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/orders"),
        token,
        Some(serde_json::json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]})),
    )
    .await
    .json()
    .await
    .unwrap();
    let method: Value = send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/payment-methods"),
        token,
        Some(serde_json::json!({"type": "card", "token": "tok_visa"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = |v: &Value| v.as_str().unwrap().to_string();
    // A pro forma of the organisation (issue 11), as a renewal by bank transfer leaves one.
    let pro_forma = pro_forma_of(app, &org).await;
    // A domain of the organisation (issue 12).
    let domain = app
        .registered_domain(&org, &format!("fixture-{n}.ch"), "owner@whois.example")
        .await
        .id;
    // A credit note of the organisation (issue 13), as a refund leaves one.
    let credit_note = credit_note_of(app, &org, &id(&order["invoice_id"])).await;
    // A webhook endpoint with a delivery (issue 14).
    let (webhook_endpoint, delivery) = crate::webhooks::endpoint_with_delivery(app, &org).await;
    Fixture {
        org,
        ids: vec![
            ("{user_id}", people.target.clone()),
            ("{invitation_id}", invitation),
            ("{order_id}", id(&order["id"])),
            ("{invoice_id}", id(&order["invoice_id"])),
            ("{product_id}", id(&order["products"][0]["id"])),
            ("{payment_method_id}", id(&method["id"])),
            ("{pro_forma_id}", pro_forma),
            ("{domain_id}", domain),
            ("{credit_note_id}", credit_note),
            ("{webhook_endpoint_id}", webhook_endpoint),
            ("{delivery_id}", delivery),
        ],
    }
}

/// Inserts a pro forma of `org` (what a renewal paid by bank transfer leaves); returns its id.
async fn pro_forma_of(app: &TestApp, org: &str) -> String {
    let org = org.to_string();
    app.with_conn(move |c| {
        let now = leman::db::now();
        let pf = leman::models::pro_formas::ProForma {
            id: leman::db::new_id("pf"),
            organization_id: org,
            number: leman::models::pro_formas::next_number(c, 2026).unwrap(),
            currency: "CHF".into(),
            subtotal_minor: 0,
            vat_minor: 0,
            total_minor: 0,
            lines: "[]".into(),
            transfer_reference: None,
            order_id: None,
            invoice_id: None,
            created_by: "usr_matrix".into(),
            created_at: now,
            expires_at: now,
            credited_payment_id: None,
            credited_at: None,
        };
        leman::models::pro_formas::insert(c, &pf).unwrap();
        pf.id
    })
    .await
}

/// Inserts a refund of `invoice_id` and its credit note (what `leman billing refund` leaves);
/// returns the credit note's id.
async fn credit_note_of(app: &TestApp, org: &str, invoice_id: &str) -> String {
    use leman::domain::billing_states::{
        PaymentMethodKind, PaymentPurpose, PaymentStatus, RefundDestination, RefundStatus,
    };
    let (org, invoice_id) = (org.to_string(), invoice_id.to_string());
    app.with_conn(move |c| {
        let now = leman::db::now();
        let payment = leman::models::payments::Payment {
            id: leman::db::new_id("pay"),
            organization_id: org.clone(),
            invoice_id: Some(invoice_id.clone()),
            purpose: PaymentPurpose::Invoice,
            method: PaymentMethodKind::Prepaid,
            payment_method_id: None,
            amount_minor: 100,
            currency: "CHF".into(),
            status: PaymentStatus::Failed,
            gateway_reference: None,
            failure_code: None,
            refunded_minor: 0,
            created_by: "usr_matrix".into(),
            created_at: now,
            settled_at: Some(now),
            pro_forma_id: None,
        };
        leman::models::payments::insert(c, &payment).unwrap();
        let refund = leman::models::payments::Refund {
            id: leman::db::new_id("rfd"),
            payment_id: payment.id.clone(),
            amount_minor: 100,
            destination: RefundDestination::Prepaid,
            status: RefundStatus::Succeeded,
            provider_reference: None,
            failure_code: None,
            created_at: now,
            settled_at: Some(now),
        };
        leman::models::payments::insert_refund(c, &refund).unwrap();
        let note = leman::models::credit_notes::CreditNote {
            id: leman::db::new_id("cn"),
            organization_id: org,
            invoice_id,
            refund_id: refund.id,
            number: leman::models::credit_notes::next_number(c, 2026).unwrap(),
            currency: "CHF".into(),
            subtotal_minor: 93,
            vat_minor: 7,
            total_minor: 100,
            destination: "prepaid".into(),
            vat_breakdown: r#"[{"rate":"8.1","net_minor":93,"vat_minor":7}]"#.into(),
            issued_at: now,
        };
        leman::models::credit_notes::insert(c, &note).unwrap();
        note.id
    })
    .await
}

/// A fresh organisation of `people.legal` with every member placed, and a pending invitation.
async fn organisation(app: &TestApp, people: &People, n: usize) -> (String, String) {
    let org = app
        .create_org(&people.legal.1, &format!("Matrix {n}"))
        .await;
    for ((_, role, perms), (_, id, _)) in MEMBERS.iter().zip(&people.members) {
        app.add_member(&org, id, role, perms).await;
    }
    app.add_member(&org, &people.target, "member", &[]).await;
    let invitation = app
        .pending_invitation(&org, &people.legal.0, &format!("invitee{n}@example.ch"))
        .await;
    (org, invitation)
}

#[tokio::test]
async fn r15_every_org_route_answers_each_caller_as_its_permission_declares() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await;
    let (legal, legal_session) = app.signed_in("legal@example.ch").await;
    let mut members = Vec::new();
    for (name, _, _) in MEMBERS {
        let (user, session) = app.signed_in(&format!("{name}@example.ch")).await;
        members.push((*name, user.id, session));
    }
    let target = app.create_user("target@example.ch").await.id;
    let (_, outsider) = app.signed_in("outsider@example.ch").await;
    let outsider_org = app.create_org(&outsider, "Elsewhere").await;
    let people = People {
        legal: (legal.id, legal_session),
        members,
        target,
        outsider,
    };

    let spec = spec();
    let shared = fixture(&app, &people, 0).await;
    let shared_org = shared.org.clone();
    let mut checked = 0;
    let mut n = 0;
    for (method, path, op) in operations(&spec) {
        if !path.starts_with("/v1/orgs/{org_id}") {
            continue;
        }
        let permission = op["x-leman-permission"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} declares no x-leman-permission"));
        assert!(
            [
                "member",
                "admin",
                "accounting",
                "products",
                "domains",
                "users"
            ]
            .contains(&permission)
                || permission == "products+accounting",
            "{method} {path}: unknown requirement {permission}"
        );
        let body = example_body(&spec, &op);
        let mut callers: Vec<(&str, Option<&str>)> = vec![
            ("anonymous", None),
            ("outsider", Some(&people.outsider.access_token)),
        ];
        callers.push(("legal", Some(&people.legal.1.access_token)));
        for (name, _, session) in &people.members {
            callers.push((name, Some(&session.access_token)));
        }
        for (who, token) in callers {
            // Reads share one organisation; each write gets its own, so no call sees another's
            // effects.
            let own;
            let f = if method == "get" {
                &shared
            } else {
                n += 1;
                own = fixture(&app, &people, n).await;
                &own
            };
            let url = f.fill(&path);
            let mut req = app.client.request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                app.url(&url),
            );
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            if let Some(body) = &body {
                req = req.json(body);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            let code = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|b| b["code"].as_str().map(str::to_string))
                .unwrap_or_default();
            let what = format!("{method} {path} as {who}: {status} {text}");
            assert!(status < 500, "{what}");
            match who {
                "anonymous" => assert_eq!(status, 401, "{what}"),
                "outsider" => {
                    assert_eq!((status, code.as_str()), (404, "not_found"), "{what}");
                    assert!(
                        !text.contains("Matrix"),
                        "another organisation's data: {what}"
                    );
                }
                _ if allowed(who, permission) => {
                    assert!(
                        status != 401 && status != 404 && code != "permission_denied",
                        "{what}"
                    );
                }
                _ => assert_eq!(
                    (status, code.as_str()),
                    (403, "permission_denied"),
                    "{what}"
                ),
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 13 * 9,
        "only {checked} calls: did the spec lose routes?"
    );

    // Another organisation's objects through one's own organisation: 404, never data.
    let stranger_invitation = app
        .pending_invitation(&outsider_org, &people.legal.0, "x@example.ch")
        .await;
    let legal_token = &people.legal.1.access_token;
    for (method, url) in [
        (Method::GET, format!("/v1/orgs/{outsider_org}")),
        (Method::GET, format!("/v1/orgs/{outsider_org}/members")),
        (
            Method::DELETE,
            format!("/v1/orgs/{shared_org}/invitations/{stranger_invitation}"),
        ),
        (
            Method::POST,
            format!(
                "/v1/orgs/{shared_org}/members/{}/unlock",
                people.outsider_id(&app).await
            ),
        ),
        (Method::GET, "/v1/orgs/org_nonsense".to_string()),
    ] {
        let res = send(&app, method.clone(), &url, legal_token, None).await;
        assert_eq!(res.status(), 404, "{method} {url}");
    }
}

impl People {
    async fn outsider_id(&self, app: &TestApp) -> String {
        let res = send(
            app,
            Method::GET,
            "/v1/me",
            &self.outsider.access_token,
            None,
        )
        .await;
        let me: Value = res.json().await.unwrap();
        me["id"].as_str().unwrap().to_string()
    }
}
