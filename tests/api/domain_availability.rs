//! `GET /v1/domains/availability` (issue 12, part 2): the name normalised, the registry's
//! answer, the offer and its prices; unsupported extensions and bad names refused.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const PATH: &str = "/v1/domains/availability";

#[tokio::test]
async fn a_free_name_is_available_with_its_offer_and_prices() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("looker@example.ch").await;
    let a = get_json(&app, &s, &format!("{PATH}?name=Free-Name.CH")).await;
    assert_eq!(a["name"], "free-name.ch");
    assert_eq!(a["unicode_name"], "free-name.ch");
    assert_eq!(a["tld"], "ch");
    assert_eq!(a["available"], true);
    assert_eq!(a["reason"], serde_json::Value::Null);
    assert_eq!(a["offer"]["id"], "domain-ch");
    let prices = a["prices"].as_array().unwrap();
    assert!(!prices.is_empty());
    assert_eq!(prices[0]["billing_period"], "P1Y");
    assert_eq!(
        prices[0]["price"],
        json!({"amount": "11.00", "currency": "CHF"})
    );
    // In euros when asked.
    let eur = get_json(&app, &s, &format!("{PATH}?name=free-name.ch&currency=EUR")).await;
    assert_eq!(eur["prices"][0]["price"]["currency"], "EUR");
    // An IDN name, normalised.
    let idn = get_json(&app, &s, &format!("{PATH}?name=M%C3%BCller.ch")).await;
    assert_eq!(idn["name"], "xn--mller-kva.ch");
    assert_eq!(idn["unicode_name"], "müller.ch");
    assert_eq!(idn["available"], true);
}

#[tokio::test]
async fn a_registered_name_is_not_available() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("taken@example.ch").await;
    let a = get_json(&app, &s, &format!("{PATH}?name=taken-shop.com")).await;
    assert_eq!(a["available"], false);
    assert!(a["reason"].is_string(), "{a}");
    assert_eq!(a["offer"]["id"], "domain-com");
    // One of ours too.
    let org = app.an_org(&s).await;
    app.registered_domain(&org.id, "ours-already.ch", "taken@example.ch")
        .await;
    let ours = get_json(&app, &s, &format!("{PATH}?name=ours-already.ch")).await;
    assert_eq!(ours["available"], false);
}

#[tokio::test]
async fn unsupported_extensions_and_bad_names_are_refused() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("bad@example.ch").await;
    let p = problem(
        send(
            &app,
            Method::GET,
            &format!("{PATH}?name=shop.xyz"),
            &s,
            None,
        )
        .await,
        422,
        "unsupported_tld",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "name");
    for bad in ["a_b.ch", "www.shop.ch", "-shop.ch", "ch"] {
        let p = problem(
            send(&app, Method::GET, &format!("{PATH}?name={bad}"), &s, None).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "name", "{bad}");
        assert_eq!(p["errors"][0]["code"], "invalid_domain_name", "{bad}");
    }
    problem(
        send(&app, Method::GET, PATH, &s, None).await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        send(
            &app,
            Method::GET,
            &format!("{PATH}?name=shop.ch&currency=USD"),
            &s,
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn any_signed_in_caller_may_ask_and_tokens_need_domains_read() {
    let app = TestApp::spawn().await;
    let (user, _) = app.signed_in("token@example.ch").await;
    let path = format!("{PATH}?name=shop.ch");
    assert_eq!(app.get(&path).await.status(), 401);
    let without = app
        .token_of_kind(&user.id, "personal", &["account:read"])
        .await;
    problem(
        send(&app, Method::GET, &path, &without, None).await,
        403,
        "insufficient_scope",
    )
    .await;
    let with = app
        .token_of_kind(&user.id, "personal", &["domains:read"])
        .await;
    assert_eq!(get_json(&app, &with, &path).await["available"], true);
}
