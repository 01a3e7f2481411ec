//! Billing's one vocabulary (issue 10): states and kinds are enums. A list filter takes only
//! their values (anything else is a 422 naming the parameter), and the spec shows the states,
//! the kinds and the filters as enum schemas with the values the API uses.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::fresh_domain;
use crate::helpers::{billing_app, ok, problem, send, spec, statuses};

/// The enum values of a schema (following a `$ref`), or of an array's items.
fn enum_of(spec: &Value, schema: &Value) -> Vec<String> {
    let schema = if schema["type"] == "array" {
        &schema["items"]
    } else {
        schema
    };
    let schema = match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("not an enum: {schema}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn names(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

const INVOICE_STATUSES: [&str; 5] = [
    "open",
    "paid",
    "partially_refunded",
    "refunded",
    "cancelled",
];
const ORDER_STATUSES: [&str; 3] = ["open", "paid", "cancelled"];
const PRODUCT_STATUSES: [&str; 8] = [
    "pending_payment",
    "provisioning",
    "active",
    "expired",
    "suspended",
    "cancellation_pending",
    "cancelled",
    "failed",
];

#[tokio::test]
async fn v1_an_unknown_filter_value_is_a_422_naming_its_parameter() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("vocabulary@example.ch").await;
    let org = app.create_org(&s, "Vocabulary").await;
    for (list, query, field) in [
        ("invoices", "status=lost", "status"),
        ("invoices", "status=paid&status=Paid", "status"),
        ("orders", "status=shipped", "status"),
        ("products", "status=happy", "status"),
        ("products", "kind=spaceship", "kind"),
        ("products", "kind=domain&status=active&status=", "status"),
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/{list}?{query}"),
            &s,
            None,
        )
        .await;
        let body = problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{list}?{query}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("must be one of"), "{message}");
    }
    // Every known value is taken.
    for (list, values) in [
        ("invoices", &INVOICE_STATUSES[..]),
        ("orders", &ORDER_STATUSES[..]),
        ("products", &PRODUCT_STATUSES[..]),
    ] {
        let query: Vec<String> = values.iter().map(|v| format!("status={v}")).collect();
        let path = format!("/v1/orgs/{org}/{list}?{}", query.join("&"));
        ok(send(&app, Method::GET, &path, &s, None).await, 200).await;
    }
}

#[tokio::test]
async fn v1_a_status_filter_keeps_only_those_states() {
    let app = billing_app().await;
    let (_, s) = app.signed_in("filters@example.ch").await;
    let (org, _) = app.funded_org(&s, "Filters", "100.00").await;
    let item = || json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]);
    let open = app.order(&s, &org, item()).await;
    let paid = app.order(&s, &org, item()).await;
    ok(
        send(
            &app,
            Method::POST,
            &format!(
                "/v1/orgs/{org}/orders/{}/payments",
                paid["id"].as_str().unwrap()
            ),
            &s,
            Some(json!({"method": "prepaid"})),
        )
        .await,
        201,
    )
    .await;
    let base = format!("/v1/orgs/{org}/orders");
    assert_eq!(
        statuses(&app, &s, &format!("{base}?status=open")).await,
        ["open"]
    );
    assert_eq!(
        statuses(&app, &s, &format!("{base}?status=paid")).await,
        ["paid"]
    );
    assert_eq!(
        statuses(&app, &s, &format!("{base}?status=cancelled")).await,
        Vec::<String>::new()
    );
    let products = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/products?status=pending_payment&kind=domain"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    let data = products["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{products}");
    assert_eq!(data[0]["order_id"], open["id"]);
    assert_eq!(data[0]["kind"], "domain");
}

#[tokio::test]
async fn v1_the_spec_shows_billing_states_kinds_and_filters_as_enums() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let property =
        |schema: &str, name: &str| enum_of(&spec, &schema_property(schemas, schema, name));
    assert_eq!(property("InvoiceView", "status"), names(&INVOICE_STATUSES));
    assert_eq!(property("OrderView", "status"), names(&ORDER_STATUSES));
    assert_eq!(property("ProductView", "status"), names(&PRODUCT_STATUSES));
    let kinds = property("ProductView", "kind");
    assert!(kinds.contains(&"domain".to_string()) && kinds.contains(&"ksuite".to_string()));
    assert_eq!(property("OfferView", "kind"), kinds);
    assert_eq!(
        property("ProFormaView", "status"),
        names(&["awaiting_transfer", "paid", "lapsed", "credited"])
    );
    assert_eq!(
        property("PaymentView", "status"),
        names(&["pending", "succeeded", "failed"])
    );
    assert_eq!(
        property("PaymentView", "method"),
        names(&["prepaid", "payment_method", "bank_transfer"])
    );
    assert_eq!(
        property("PaymentInput", "method"),
        property("PaymentView", "method")
    );
    let saved = names(&[
        "card",
        "twint",
        "postfinance",
        "paypal",
        "ebill",
        "bank_transfer",
    ]);
    assert_eq!(property("CreatePaymentMethod", "type"), saved);
    let mut listed = names(&["prepaid"]);
    listed.extend(saved);
    assert_eq!(property("PaymentMethodView", "type"), listed);
    assert_eq!(
        property("PrepaidTransactionView", "kind"),
        names(&["top_up", "payment", "withdrawal", "refund"])
    );
    // The list filters.
    let filter = |path: &str, name: &str| {
        let params = spec["paths"][path]["get"]["parameters"].as_array().unwrap();
        let param = params
            .iter()
            .find(|p| p["name"] == name && p["in"] == "query")
            .unwrap_or_else(|| panic!("{path} has no `{name}` filter"));
        assert_eq!(param["schema"]["type"], "array", "{param}");
        enum_of(&spec, &param["schema"])
    };
    assert_eq!(
        filter("/v1/orgs/{org_id}/invoices", "status"),
        names(&INVOICE_STATUSES)
    );
    assert_eq!(
        filter("/v1/orgs/{org_id}/orders", "status"),
        names(&ORDER_STATUSES)
    );
    assert_eq!(
        filter("/v1/orgs/{org_id}/products", "status"),
        names(&PRODUCT_STATUSES)
    );
    assert_eq!(filter("/v1/orgs/{org_id}/products", "kind"), kinds);
}

/// A property's schema, without the `null` of an optional one.
fn schema_property(schemas: &Value, schema: &str, name: &str) -> Value {
    let p = &schemas[schema]["properties"][name];
    assert!(!p.is_null(), "{schema}.{name}");
    match p["oneOf"].as_array() {
        Some(options) => options
            .iter()
            .find(|o| o["type"] != "null")
            .cloned()
            .unwrap(),
        None => p.clone(),
    }
}
