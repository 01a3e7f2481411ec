//! Issue 10: a refused deletion names the objects that block it (kind, id, label) so a front end
//! can link to them; response fields holding a language or a currency are the enums the
//! requests use.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{TestApp, WEBHOOK_SECRET, create_token, ok, problem, send, spec};

#[tokio::test]
async fn v10_a_refused_account_deletion_names_the_organisations_that_depend_on_it() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let alone = app.create_org(&ls, "Müller Design Sàrl").await;
    let shared = app.create_org(&ls, "Rossi & Co").await;
    let member = app.create_user("member@example.ch").await;
    app.add_member(&shared, &member.id, "member", &[]).await;

    let p = problem(
        send(&app, Method::DELETE, "/v1/me", &ls, None).await,
        409,
        "prerequisites_unmet",
    )
    .await;
    let unmet = p["unmet"].as_array().unwrap();
    assert_eq!(unmet.len(), 2, "{p}");
    assert_eq!(unmet[0]["code"], "only_member_of_organization");
    assert_eq!(unmet[0]["count"], 1);
    assert_eq!(
        unmet[0]["objects"],
        json!([{"kind": "organization", "id": alone, "name": "Müller Design Sàrl"}])
    );
    assert_eq!(unmet[1]["code"], "last_legal_representative");
    assert_eq!(unmet[1]["count"], 1);
    assert_eq!(
        unmet[1]["objects"],
        json!([{"kind": "organization", "id": shared, "name": "Rossi & Co"}])
    );
    // Nothing changed: the account still answers.
    assert_eq!(
        send(&app, Method::GET, "/v1/me", &ls, None).await.status(),
        200
    );
}

#[tokio::test]
async fn v10_the_organisation_deletion_check_names_each_blocking_object() {
    let app = TestApp::builder()
        .env("LEMAN_PAYMENT_WEBHOOK_SECRETS", WEBHOOK_SECRET)
        .spawn()
        .await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let (org, _) = app.funded_org(&ls, "Doomed Sàrl", "120.00").await;
    let member = app.create_user("luca@example.ch").await;
    app.add_member(&org, &member.id, "member", &[]).await;
    let invitation = app
        .pending_invitation(&org, &legal.id, "ana@example.es")
        .await;
    let order = app
        .order(
            &ls,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let product = &order["products"][0];
    let invoice_id = order["invoice_id"].as_str().unwrap();
    let invoice = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/invoices/{invoice_id}"),
            &ls,
            None,
        )
        .await,
        200,
    )
    .await;
    // A top-up the provider has yet to confirm.
    let slow = app
        .add_payment_method(
            &ls,
            &org,
            json!({"type": "card", "token": "tok_visa_async"}),
        )
        .await;
    let pending = ok(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/prepaid-account/top-ups"),
            &ls,
            Some(json!({"amount": {"amount": "50.00", "currency": "CHF"}, "payment_method_id": slow})),
        )
        .await,
        202,
    )
    .await;

    let check = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/deletion-check"),
            &ls,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(check["deletable"], false);
    let named: Vec<(&str, i64, &Value)> = check["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["code"].as_str().unwrap(),
                u["count"].as_i64().unwrap(),
                &u["objects"],
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (
                "other_members",
                1,
                &json!([{"kind": "member", "id": member.id, "name": "Zoë Müller"}])
            ),
            (
                "pending_invitations",
                1,
                &json!([{"kind": "invitation", "id": invitation, "name": "ana@example.es"}])
            ),
            (
                "products",
                1,
                &json!([{"kind": "product", "id": product["id"], "name": product["name"]}])
            ),
            (
                "open_invoices",
                1,
                &json!([{"kind": "invoice", "id": invoice_id, "name": invoice["number"]}])
            ),
            (
                "prepaid_balance",
                12000,
                &json!([{"kind": "prepaid_account", "id": org, "name": "Prepaid account (CHF 120.00)"}])
            ),
            (
                "payments_pending",
                1,
                &json!([{"kind": "payment", "id": pending["id"], "name": "Top-up of CHF 50.00"}])
            ),
        ],
        "{check}"
    );

    // The refused deletion carries the same list.
    let p = problem(
        send(&app, Method::DELETE, &format!("/v1/orgs/{org}"), &ls, None).await,
        409,
        "prerequisites_unmet",
    )
    .await;
    assert_eq!(p["unmet"], check["unmet"]);
}

/// The schema a property points to, whether directly or as the non-null branch of a `oneOf`.
fn referenced(property: &Value) -> Option<&str> {
    property["$ref"].as_str().or_else(|| {
        property["oneOf"]
            .as_array()?
            .iter()
            .find_map(|branch| branch["$ref"].as_str())
    })
}

#[tokio::test]
async fn v10_the_spec_shows_languages_currencies_and_blocking_kinds_as_enums() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let property = |schema: &str, name: &str| schemas[schema]["properties"][name].clone();
    for (response, request, field, schema) in [
        ("Me", "UpdateMe", "language", "Language"),
        ("Me", "CreateUser", "language", "Language"),
        (
            "OrganizationView",
            "CreateOrganization",
            "currency",
            "Currency",
        ),
        ("InvoiceView", "CreateOrganization", "currency", "Currency"),
    ] {
        let target = format!("#/components/schemas/{schema}");
        assert_eq!(
            referenced(&property(response, field)),
            Some(target.as_str()),
            "{response}.{field}"
        );
        assert_eq!(
            referenced(&property(request, field)),
            Some(target.as_str()),
            "{request}.{field}"
        );
    }
    assert_eq!(
        schemas["Language"]["enum"],
        json!(["fr", "en", "de", "it", "es"])
    );
    assert_eq!(schemas["Currency"]["enum"], json!(["CHF", "EUR"]));

    // Each unmet prerequisite lists its objects; their kind is an enum.
    let objects = property("UnmetPrerequisite", "objects");
    assert_eq!(objects["type"], "array");
    assert_eq!(
        objects["items"]["$ref"],
        "#/components/schemas/BlockingObject"
    );
    assert_eq!(
        referenced(&property("BlockingObject", "kind")),
        Some("#/components/schemas/ObjectKind")
    );
    assert_eq!(
        schemas["ObjectKind"]["enum"],
        json!([
            "organization",
            "member",
            "invitation",
            "product",
            "invoice",
            "prepaid_account",
            "payment"
        ])
    );

    // The values served are unchanged: the codes the requests take.
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let me = ok(send(&app, Method::GET, "/v1/me", &s, None).await, 200).await;
    assert_eq!(me["language"], "en");
    let org = app.create_org(&s, "Müller Design Sàrl").await;
    let view = ok(
        send(&app, Method::GET, &format!("/v1/orgs/{org}"), &s, None).await,
        200,
    )
    .await;
    assert_eq!(view["currency"], "CHF");
}

/// Review of issue 10: the deletion check lists blocking objects only to a token that could list
/// them where they live (`products:read`, `billing:read`); one holding only `orgs:read` sees the
/// counts. A session sees everything.
#[tokio::test]
async fn v10_a_token_sees_only_the_blocking_objects_its_scopes_can_read() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("lea@example.ch").await;
    let org = app.create_org(&ls, "Scoped Sàrl").await;
    app.order(
        &ls,
        &org,
        json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
    )
    .await;
    let path = format!("/v1/orgs/{org}/deletion-check");
    let objects_of = |check: &Value, code: &str| -> (i64, usize) {
        let u = check["unmet"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap_or_else(|| panic!("{code} missing: {check}"));
        (
            u["count"].as_i64().unwrap(),
            u["objects"].as_array().unwrap().len(),
        )
    };
    let (_, narrow) = create_token(&app, &ls, &["orgs:read"]).await;
    let check = ok(
        send(&app, Method::GET, &path, narrow.as_str(), None).await,
        200,
    )
    .await;
    assert_eq!(objects_of(&check, "products"), (1, 0));
    assert_eq!(objects_of(&check, "open_invoices"), (1, 0));
    let (_, wide) = create_token(&app, &ls, &["orgs:read", "products:read", "billing:read"]).await;
    let check = ok(
        send(&app, Method::GET, &path, wide.as_str(), None).await,
        200,
    )
    .await;
    assert_eq!(objects_of(&check, "products"), (1, 1));
    assert_eq!(objects_of(&check, "open_invoices"), (1, 1));
    let check = ok(send(&app, Method::GET, &path, &ls, None).await, 200).await;
    assert_eq!(objects_of(&check, "products"), (1, 1));
}
