//! Issue 12 parts 3 and 5: the organisation's domains (list, filters, pages, search, one
//! domain), WHOIS privacy and the registrar's lock, and who may use them.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

fn base(org: &str) -> String {
    format!("/v1/orgs/{org}/domains")
}

async fn names(app: &TestApp, s: &TestSession, path: &str) -> Vec<String> {
    let body = get_json(app, s, path).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

/// What the registry says of `name`.
pub async fn at_registry(app: &TestApp, name: &str) -> leman::registry::RegistryDomain {
    let (r, name) = (app.services.registry.clone(), name.to_string());
    tokio::task::spawn_blocking(move || r.info(&name).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn domains_are_listed_by_name_filtered_paged_and_searched_in_ascii_and_unicode() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("lister@example.ch").await;
    let org = app.an_org(&s).await;
    for name in [
        "acme-res-2.de",
        "acme-res-1.ch",
        "müller-res.ch",
        "beta-res.com",
    ] {
        app.registered_domain(&org.id, name, "owner@example.ch")
            .await;
    }
    let b = base(&org.id);
    let all = names(&app, &s, &b).await;
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "by name");
    assert_eq!(all.len(), 4);
    assert!(all.contains(&"xn--mller-res-q9a.ch".to_string()), "{all:?}");

    // Pages of one, chained by the cursor, give the same list.
    let mut paged = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{b}?limit=1&cursor={c}"),
            None => format!("{b}?limit=1"),
        };
        let page = get_json(&app, &s, &path).await;
        paged.push(page["data"][0]["name"].as_str().unwrap().to_string());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, all);

    assert_eq!(
        names(&app, &s, &format!("{b}?tld=ch")).await,
        vec!["acme-res-1.ch", "xn--mller-res-q9a.ch"]
    );
    assert_eq!(
        names(&app, &s, &format!("{b}?tld=.DE")).await,
        vec!["acme-res-2.de"]
    );
    assert_eq!(
        names(&app, &s, &format!("{b}?status=active")).await.len(),
        4
    );
    assert!(
        names(&app, &s, &format!("{b}?status=expired"))
            .await
            .is_empty()
    );
    problem(
        send(&app, Method::GET, &format!("{b}?status=bogus"), &s, None).await,
        422,
        "validation_failed",
    )
    .await;
    let later = (chrono::Utc::now() + chrono::Duration::days(800)).format("%Y-%m-%dT%H:%M:%SZ");
    assert_eq!(
        names(&app, &s, &format!("{b}?expires_before={later}"))
            .await
            .len(),
        4
    );
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    assert!(
        names(&app, &s, &format!("{b}?expires_before={now}"))
            .await
            .is_empty()
    );

    // The search: ASCII, Unicode (any case), punycode; LIKE's wildcards taken literally.
    assert_eq!(names(&app, &s, &format!("{b}?q=ACME")).await.len(), 2);
    assert_eq!(
        names(&app, &s, &format!("{b}?q=M%C3%9CLLER")).await,
        vec!["xn--mller-res-q9a.ch"]
    );
    assert_eq!(
        names(&app, &s, &format!("{b}?q=xn--mller")).await,
        vec!["xn--mller-res-q9a.ch"]
    );
    assert!(names(&app, &s, &format!("{b}?q=_")).await.is_empty());
    assert!(names(&app, &s, &format!("{b}?q=%25")).await.is_empty());
}

#[tokio::test]
async fn a_domain_shows_its_names_statuses_owner_and_transfer_state_and_another_orgs_is_404() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("viewer@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "müller-res-view.ch", "owner@example.ch")
        .await;
    let v = get_json(&app, &s, &format!("{}/{}", base(&org.id), d.id)).await;
    assert_eq!(v["id"], d.id.as_str());
    assert_eq!(v["name"], d.name.as_str());
    assert_eq!(v["unicode_name"], "müller-res-view.ch");
    assert_eq!(v["tld"], "ch");
    assert_eq!(v["status"], "active");
    assert!(v["registry_statuses"].is_array());
    assert_eq!(v["locked"], false);
    assert_eq!(v["privacy"], false);
    assert_eq!(v["privacy_available"], true);
    // Paid by card: automatic renewal is on (R39).
    assert_eq!(v["auto_renew"], true);
    assert_eq!(v["product_id"], d.product_id.as_str());
    assert_eq!(v["owner"]["email"], "owner@example.ch");
    assert_eq!(v["transfer_out"]["state"], "none");
    assert!(v["registered_at"].is_string() && v["expires_at"].is_string());

    // Another organisation of the same person does not see it.
    let other = app.an_org(&s).named("Other").await;
    for path in [
        format!("{}/{}", base(&other.id), d.id),
        format!("{}/{}/contacts", base(&other.id), d.id),
        format!("{}/dom_0000000000000000000000000000000", base(&org.id)),
    ] {
        problem(
            send(&app, Method::GET, &path, &s, None).await,
            404,
            "not_found",
        )
        .await;
    }
    let listed = get_json(&app, &s, &base(&other.id)).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
}

/// Every route of this part, and who may call it.
fn routes(org: &str, dom: &str) -> Vec<(Method, String, Option<serde_json::Value>)> {
    let b = base(org);
    vec![
        (Method::GET, b.clone(), None),
        (Method::GET, format!("{b}/{dom}"), None),
        (Method::GET, format!("{b}/{dom}/contacts"), None),
        (
            Method::PUT,
            format!("{b}/{dom}/contacts"),
            Some(crate::domain_contacts::same_owner_body("access@example.ch")),
        ),
        (
            Method::PUT,
            format!("{b}/{dom}/privacy"),
            Some(json!({"enabled": false})),
        ),
        (
            Method::PUT,
            format!("{b}/{dom}/lock"),
            Some(json!({"locked": false})),
        ),
    ]
}

#[tokio::test]
async fn access_matrix_of_the_domain_routes() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.signed_in("legal@example.ch").await;
    let plain = app.create_user("plain@example.ch").await;
    let holder = app.create_user("holder@example.ch").await;
    let org = app
        .an_org(&owner)
        .with_member(&plain, "member", &["products"])
        .with_member(&holder, "member", &["domains"])
        .await;
    let d = app
        .registered_domain(&org.id, "acme-res-access.ch", "access@example.ch")
        .await;
    let plain_s = app.login(&plain).await;
    let holder_s = app.login(&holder).await;
    let (_, outsider) = app.signed_in("outsider@example.ch").await;
    let (_, read) = create_token(&app, &holder_s, &["domains:read"]).await;
    let (_, write) = create_token(&app, &holder_s, &["domains:read", "domains:write"]).await;
    let (_, billing) = create_token(&app, &holder_s, &["billing:read"]).await;
    for (method, path, body) in routes(&org.id, &d.id) {
        let is_write = method != Method::GET;
        let status = |res: reqwest::Response| res.status().as_u16();
        // A member without `domains`: 403.
        let res = send(&app, method.clone(), &path, &plain_s, body.clone()).await;
        problem(res, 403, "permission_denied").await;
        // Not a member: 404.
        let res = send(&app, method.clone(), &path, &outsider, body.clone()).await;
        assert_eq!(status(res), 404, "{method} {path}");
        // A holder of `domains`, legal representatives: 200.
        for who in [&holder_s, &owner] {
            let res = send(&app, method.clone(), &path, who, body.clone()).await;
            assert_eq!(status(res), 200, "{method} {path}");
        }
        // Tokens: the scope decides.
        let res = send(&app, method.clone(), &path, &read, body.clone()).await;
        assert_eq!(
            status(res),
            if is_write { 403 } else { 200 },
            "read token: {method} {path}"
        );
        let res = send(&app, method.clone(), &path, &write, body.clone()).await;
        assert_eq!(status(res), 200, "write token: {method} {path}");
        let res = send(&app, method.clone(), &path, &billing, body.clone()).await;
        assert_eq!(status(res), 403, "billing token: {method} {path}");
    }
}

#[tokio::test]
async fn privacy_is_set_at_the_registry_where_the_extension_offers_it_and_refused_elsewhere() {
    let app = TestApp::spawn().await;
    let (user, s) = app.signed_in("privacy@example.ch").await;
    let org = app.an_org(&s).await;
    let ch = app
        .registered_domain(&org.id, "acme-res-privacy.ch", "owner@example.ch")
        .await;
    let de = app
        .registered_domain(&org.id, "acme-res-privacy.de", "owner@example.ch")
        .await;
    let path = |d: &str| format!("{}/{d}/privacy", base(&org.id));
    let v = ok(
        send(
            &app,
            Method::PUT,
            &path(&ch.id),
            &s,
            Some(json!({"enabled": true})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["privacy"], true);
    assert!(at_registry(&app, &ch.name).await.privacy);
    let v = ok(
        send(
            &app,
            Method::PUT,
            &path(&ch.id),
            &s,
            Some(json!({"enabled": false})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v["privacy"], false);
    assert!(!at_registry(&app, &ch.name).await.privacy);

    let de_view = get_json(&app, &s, &format!("{}/{}", base(&org.id), de.id)).await;
    assert_eq!(de_view["privacy_available"], false);
    problem(
        send(
            &app,
            Method::PUT,
            &path(&de.id),
            &s,
            Some(json!({"enabled": true})),
        )
        .await,
        409,
        "privacy_not_available",
    )
    .await;
    assert!(!at_registry(&app, &de.name).await.privacy);

    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "domain.privacy_enabled"), 1, "{actions:?}");
    assert_eq!(count(&actions, "domain.privacy_disabled"), 1, "{actions:?}");
}

#[tokio::test]
async fn the_lock_is_client_transfer_prohibited_at_the_registry_and_in_the_view() {
    let app = TestApp::spawn().await;
    let (user, s) = app.signed_in("lock@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-lock.com", "owner@example.ch")
        .await;
    let path = format!("{}/{}/lock", base(&org.id), d.id);
    let v = ok(
        send(&app, Method::PUT, &path, &s, Some(json!({"locked": true}))).await,
        200,
    )
    .await;
    assert_eq!(v["locked"], true);
    assert!(
        v["registry_statuses"]
            .as_array()
            .unwrap()
            .contains(&json!("clientTransferProhibited")),
        "{v}"
    );
    let reg = at_registry(&app, &d.name).await;
    assert!(
        reg.statuses
            .contains(&leman::domain::domains::EppStatus::ClientTransferProhibited)
    );
    let v = ok(
        send(&app, Method::PUT, &path, &s, Some(json!({"locked": false}))).await,
        200,
    )
    .await;
    assert_eq!(v["locked"], false);
    assert!(
        !v["registry_statuses"]
            .as_array()
            .unwrap()
            .contains(&json!("clientTransferProhibited"))
    );
    let reg = at_registry(&app, &d.name).await;
    assert!(
        !reg.statuses
            .contains(&leman::domain::domains::EppStatus::ClientTransferProhibited)
    );
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "domain.locked"), 1, "{actions:?}");
    assert_eq!(count(&actions, "domain.unlocked"), 1, "{actions:?}");
}

#[tokio::test]
async fn a_domain_no_longer_active_or_expired_cannot_be_changed() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("gone@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-gone.ch", "owner@example.ch")
        .await;
    let id = d.id.clone();
    app.with_conn(move |c| {
        use leman::db::schema::domains;
        diesel::update(domains::table.find(id))
            .set(domains::status.eq("transferred_out"))
            .execute(c)
            .unwrap()
    })
    .await;
    let b = format!("{}/{}", base(&org.id), d.id);
    for (path, body) in [
        (format!("{b}/privacy"), json!({"enabled": true})),
        (format!("{b}/lock"), json!({"locked": true})),
        (
            format!("{b}/contacts"),
            crate::domain_contacts::same_owner_body("owner@example.ch"),
        ),
    ] {
        problem(
            send(&app, Method::PUT, &path, &s, Some(body)).await,
            409,
            "domain_not_manageable",
        )
        .await;
    }
    // Still readable.
    let v = get_json(&app, &s, &b).await;
    assert_eq!(v["status"], "transferred_out");
}

/// The activity walk (tests/api/activity_record.rs): one successful call of `operation`.
pub async fn activity_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    async fn rows(app: &TestApp) -> i64 {
        app.with_conn(|c| {
            leman::db::schema::activities::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await
    }
    let (_, s) = app.signed_in(email).await;
    let org = app.an_org(&s).await;
    let name = format!("acme-res-{}.ch", operation.replace('_', "-"));
    let d = app
        .registered_domain(&org.id, &name, "old-owner@example.ch")
        .await;
    let b = format!("{}/{}", base(&org.id), d.id);
    let mut token = String::new();
    if operation == "confirm_domain_owner_change" {
        ok(
            send(
                app,
                Method::PUT,
                &format!("{b}/contacts"),
                &s,
                Some(crate::domain_contacts::new_owner_body(&format!(
                    "new-{name}@example.ch"
                ))),
            )
            .await,
            202,
        )
        .await;
        let text = app
            .wait_for_mail_containing(
                &format!("new-{name}@example.ch"),
                "/confirm-domain-owner-change?token=",
            )
            .await;
        token = link_token(&text, "/confirm-domain-owner-change");
    }
    let before = rows(app).await;
    let res = match operation {
        "update_domain_contacts" => {
            send(
                app,
                Method::PUT,
                &format!("{b}/contacts"),
                &s,
                Some(crate::domain_contacts::same_owner_body(
                    "old-owner@example.ch",
                )),
            )
            .await
        }
        "set_domain_privacy" => {
            send(
                app,
                Method::PUT,
                &format!("{b}/privacy"),
                &s,
                Some(json!({"enabled": true})),
            )
            .await
        }
        "set_domain_lock" => {
            send(
                app,
                Method::PUT,
                &format!("{b}/lock"),
                &s,
                Some(json!({"locked": true})),
            )
            .await
        }
        _ => {
            app.post_json("/v1/domain-owner-changes/confirm", json!({"token": token}))
                .await
        }
    };
    assert!(res.status().is_success(), "{operation}: {}", res.status());
    rows(app).await - before
}

#[tokio::test]
async fn list_filters_out_of_their_schema_are_a_422_naming_them() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app.an_org(&s).await;
    for (query, field) in [
        ("expires_before=", "expires_before"),
        ("expires_before=tomorrow", "expires_before"),
        (&*format!("tld={}", "c".repeat(64)), "tld"),
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{}?{query}", base(&org.id)),
            &s,
            None,
        )
        .await;
        let body = problem(res, 422, "validation_failed").await;
        assert!(body.to_string().contains(field), "{query}: {body}");
    }
}
