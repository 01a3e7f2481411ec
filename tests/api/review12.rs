//! Review of issue 12 (domains), from outside: holes found and closed, each proved here.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::domain_contacts::new_owner_body;
use crate::helpers::*;
use crate::transfer_out::{code_in_mail, simulate};

const LINK: &str = "/confirm-domain-owner-change";

/// A transfer code mailed to the owner must not outlive their ownership: once a change of owner
/// is confirmed by both, the code the previous owner holds is cleared at the registry and void
/// here, so they cannot take the domain away from the new owner.
#[tokio::test]
async fn review12_a_change_of_owner_voids_the_code_the_previous_owner_holds() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("handover@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "handover.ch", "old@example.ch")
        .await;
    let transfer = format!("/v1/orgs/{}/domains/{}/transfer-out", org.id, d.id);
    ok(
        send(
            &app,
            Method::POST,
            &transfer,
            &s,
            Some(json!({"unlock": true, "disable_privacy": true})),
        )
        .await,
        202,
    )
    .await;
    let code = code_in_mail(&app, &d, "old@example.ch", 1).await;

    let contacts = format!("/v1/orgs/{}/domains/{}/contacts", org.id, d.id);
    ok(
        send(
            &app,
            Method::PUT,
            &contacts,
            &s,
            Some(new_owner_body("new@example.ch")),
        )
        .await,
        202,
    )
    .await;
    for who in ["old@example.ch", "new@example.ch"] {
        let token = link_token(&app.wait_for_mail_containing(who, LINK).await, LINK);
        ok(
            app.post_json("/v1/domain-owner-changes/confirm", json!({"token": token}))
                .await,
            200,
        )
        .await;
    }
    let view = get_json(&app, &s, &transfer).await;
    assert_eq!(view["state"], "cancelled", "{view}");
    let id = d.id.clone();
    let live: i64 = app
        .with_conn(move |c| {
            use leman::db::schema::domain_transfer_codes as t;
            t::table
                .filter(t::domain_id.eq(&id))
                .filter(t::voided_at.is_null())
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(live, 0);
    // The previous owner's code is refused at the registry.
    let (accepted, out) = simulate(
        &app,
        &[
            "transfer-request",
            "handover.ch",
            &code,
            "--registrar",
            "THIEF",
        ],
    );
    assert!(!accepted, "the old owner's code still worked: {out}");
    assert!(!out.contains(&code), "{out}");
}

/// A name ends with a root dot in any of its Unicode forms (`。`, `．`, `｡`) as it does with
/// `.`: all normalise to one ASCII name; empty and huge input is a 422 naming the field.
#[tokio::test]
async fn review12_names_normalise_whatever_their_final_dot_case_or_width() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("dots@example.ch").await;
    for raw in [
        "Dotted.CH",
        "dotted.ch.",
        "dotted.ch%E3%80%82",
        "dotted.ch%EF%BC%8E",
        "dotted.ch%EF%BD%A1",
        "%EF%BD%84otted%E3%80%82ch",
        "%20DOTTED.ch%20",
    ] {
        let a = get_json(&app, &s, &format!("/v1/domains/availability?name={raw}")).await;
        assert_eq!(a["name"], "dotted.ch", "{raw}: {a}");
        assert_eq!(a["unicode_name"], "dotted.ch", "{raw}: {a}");
    }
    let huge = "a".repeat(5000) + ".ch";
    for bad in ["", "%E3%80%82", ".", huge.as_str(), "dotted..ch"] {
        let p = problem(
            send(
                &app,
                Method::GET,
                &format!("/v1/domains/availability?name={bad}"),
                &s,
                None,
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "name", "{bad}: {p}");
    }
}

/// One name ordered at once by two organisations, spelt differently (case, a final ideographic
/// dot): one order wins, the other is a 422 on the item's name, and one registration exists.
#[tokio::test]
async fn review12_one_name_ordered_at_once_by_two_orgs_is_won_by_one() {
    let app = TestApp::spawn().await;
    let (_, s1) = app.signed_in("first@example.ch").await;
    let (_, s2) = app.signed_in("second@example.ch").await;
    let o1 = app.an_org(&s1).with_card().await;
    let o2 = app.an_org(&s2).with_card().await;
    let body = |name: &str, card_id: &str| {
        json!({"items": [{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": name}],
               "payment": card(card_id)})
    };
    let (p1, p2) = (
        format!("/v1/orgs/{}/orders", o1.id),
        format!("/v1/orgs/{}/orders", o2.id),
    );
    let (r1, r2) = tokio::join!(
        send(
            &app,
            Method::POST,
            &p1,
            &s1,
            Some(body("Contest.CH", o1.card()))
        ),
        send(
            &app,
            Method::POST,
            &p2,
            &s2,
            Some(body("contest.ch\u{3002}", o2.card()))
        ),
    );
    let statuses = [r1.status().as_u16(), r2.status().as_u16()];
    assert!(
        statuses.contains(&201) && statuses.contains(&422),
        "{statuses:?}"
    );
    let loser = if statuses[0] == 422 { r1 } else { r2 };
    let p = problem(loser, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "/items/0/domain_name", "{p}");
    assert_eq!(p["errors"][0]["code"], "domain_not_available", "{p}");
    let rows: i64 = app
        .with_conn(|c| {
            use leman::db::schema::domains as t;
            t::table
                .filter(t::name.eq("contest.ch"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(rows, 1);
}
