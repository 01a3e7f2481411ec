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
