//! Issue 15 part 7: what the OWASP ASVS 5.0 table of docs/security.md found no test for.
//!
//! The security headers of answers no `Authorization` header marks as private. A public write (a login, a sign-up, a link's confirmation) carries a secret in its body and
//! may answer one, or personal data: it is `no-store` like every authenticated answer; public
//! reads (the catalogue, the spec) stay cacheable. `nosniff` is on all of them.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const LINK: &str = "/confirm-domain-owner-change";

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn assert_private(res: &reqwest::Response, what: &str) {
    assert_eq!(
        header(res, "cache-control").as_deref(),
        Some("no-store"),
        "{what}"
    );
    assert_eq!(
        header(res, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
}

#[tokio::test]
async fn public_writes_answer_no_store_and_public_reads_stay_cacheable() {
    let app = TestApp::spawn().await;
    let user = app.create_user("headers-public@example.ch").await;
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": user.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_private(&res, "login");
    let res = app
        .post_json(
            "/v1/users",
            json!({"email": "headers-new@example.ch", "password": PASSWORD,
                "first_name": "Ada", "last_name": "Muster", "language": "en"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_private(&res, "sign-up");
    for path in [
        "/v1/cancellations/confirm",
        "/v1/domain-owner-changes/confirm",
        "/v1/users/verify-email",
        "/v1/auth/password-reset",
    ] {
        let res = app.post_json(path, json!({"token": "x".repeat(43)})).await;
        assert!(res.status().is_client_error(), "{path}");
        assert_private(&res, path);
    }
    for path in [
        "/v1/catalog/offers",
        "/v1/openapi.json",
        "/v1/newsletter-topics",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_ne!(
            header(&res, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
    }
}

/// The confirmation of a change of owner answers the new owner's contact (name, address, mail,
/// phone) to whoever holds the link, with no `Authorization`: no cache may keep it.
#[tokio::test]
async fn a_confirmed_owner_change_answers_its_contacts_no_store() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("headers-owner@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-headers.ch", "old-owner@example.ch")
        .await;
    let p = format!("/v1/orgs/{}/domains/{}/contacts", org.id, d.id);
    let res = send(
        &app,
        Method::PUT,
        &p,
        &s,
        Some(crate::domain_contacts::new_owner_body(
            "new-owner@example.ch",
        )),
    )
    .await;
    assert_eq!(res.status(), 202);
    // The current owner confirms first (an answer with no contacts yet), then the new owner:
    // the change applies and the answer shows the contacts.
    for to in ["old-owner@example.ch", "new-owner@example.ch"] {
        let token = link_token(&app.wait_for_mail_containing(to, LINK).await, LINK);
        let res = app
            .post_json("/v1/domain-owner-changes/confirm", json!({"token": token}))
            .await;
        assert_eq!(res.status(), 200);
        assert_private(&res, to);
        let body: serde_json::Value = res.json().await.unwrap();
        if to.starts_with("new") {
            assert_eq!(body["status"], "applied");
            assert!(
                body["contacts"]
                    .to_string()
                    .contains("new-owner@example.ch"),
                "the answer carries the contact: {body}"
            );
        }
    }
}

/// ASVS 7.3.2: a session ends at its absolute lifetime however active it is: neither its access
/// token nor its refresh token works past `expires_at`.
#[tokio::test]
async fn a_session_past_its_absolute_lifetime_is_refused_however_active() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("asvs-absolute@example.ch").await;
    assert_eq!(
        send(&app, Method::GET, "/v1/me", &session, None)
            .await
            .status(),
        200
    );
    let sid = session.session_id.clone();
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::sessions;
        // Seen a second ago, but created longer ago than the absolute lifetime allows.
        diesel::update(sessions::table.find(sid))
            .set((
                sessions::last_seen_at.eq(leman::db::now()),
                sessions::expires_at.eq(leman::db::now() - chrono::Duration::seconds(1)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    problem(
        send(&app, Method::GET, "/v1/me", &session, None).await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        app.post_json(
            "/v1/auth/refresh",
            json!({"refresh_token": session.refresh_token}),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
}

/// ASVS 13.4.4: `TRACE` (and any method a route does not declare) is refused with a problem,
/// and never echoes the request.
#[tokio::test]
async fn trace_is_refused_and_echoes_nothing() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("asvs-trace@example.ch").await;
    for path in ["/v1/me", "/healthz", "/v1/openapi.json"] {
        let res = app
            .client
            .request(Method::TRACE, app.url(path))
            .header("authorization", format!("Bearer {}", session.access_token))
            .header("x-secret-probe", "echo-me")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        let body = res.text().await.unwrap();
        assert!(!body.contains("echo-me"), "{path}: {body}");
        assert!(!body.contains(&session.access_token), "{path}");
    }
}

/// ASVS 3.4.3, 3.4.5, 3.4.6: no answer may be framed or leak a referrer; a JSON answer may load
/// nothing; Swagger UI's page keeps working (its own scripts are not refused).
#[tokio::test]
async fn every_answer_refuses_framing_and_referrers_and_json_loads_nothing() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("asvs-csp@example.ch").await;
    let mut answers = vec![(
        "/v1/me signed in".to_string(),
        send(&app, Method::GET, "/v1/me", &session, None).await,
    )];
    for path in [
        "/healthz",
        "/v1/nope",
        "/v1/me",
        "/v1/openapi.json",
        "/docs/",
    ] {
        answers.push((path.to_string(), app.get(path).await));
    }
    for (what, res) in &answers {
        assert_eq!(
            header(res, "referrer-policy").as_deref(),
            Some("no-referrer"),
            "{what}"
        );
        let csp = header(res, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        let json = header(res, "content-type").is_some_and(|ct| ct.contains("json"));
        assert_eq!(csp.contains("default-src 'none'"), json, "{what}: {csp}");
    }
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    assert!(
        header(&docs, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

/// ASVS 15.3.7: a query parameter given twice is refused, never read as one of its values.
#[tokio::test]
async fn a_query_parameter_given_twice_is_refused() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("asvs-pollution@example.ch").await;
    for path in [
        "/v1/me/tokens?limit=1&limit=50",
        "/v1/me/tokens?cursor=a&cursor=b",
        "/v1/me/activities?action=login.succeeded&limit=5&limit=6",
    ] {
        let res = send(&app, Method::GET, path, &session, None).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["code"].is_string(), "{path}: {body}");
    }
}
