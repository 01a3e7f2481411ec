//! Issue 12 part 4: a domain's contacts. Admin and tech, and the owner's address, change at once
//! at the registry; a change of owner waits for the current owner's and the new owner's
//! confirmations, each through its own mailed link.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::domains::at_registry;
use crate::helpers::*;

const LINK: &str = "/confirm-domain-owner-change";

fn contact(name: &str, org: Option<&str>, email: &str) -> serde_json::Value {
    json!({"name": name, "organization": org, "address_line1": "Rue du Lac 1", "address_line2": null,
        "postal_code": "1003", "city": "Lausanne", "country": "CH", "email": email,
        "phone": "+41211234567"})
}

/// The fixture's owner (same person) at a new address, and a new tech contact.
pub fn same_owner_body(owner_email: &str) -> serde_json::Value {
    let mut owner = contact("Alice Muster", Some("Muster AG"), owner_email);
    owner["address_line1"] = json!("Chemin Neuf 7");
    json!({"owner": owner,
        "admin": contact("Alice Muster", Some("Muster AG"), owner_email),
        "tech": contact("Tech Team", None, "tech@example.ch")})
}

/// Another person as owner.
pub fn new_owner_body(new_email: &str) -> serde_json::Value {
    json!({"owner": contact("Bruno Neu", Some("Neu GmbH"), new_email),
        "admin": contact("Bruno Neu", Some("Neu GmbH"), new_email),
        "tech": contact("Bruno Neu", Some("Neu GmbH"), new_email)})
}

fn path(org: &str, dom: &str) -> String {
    format!("/v1/orgs/{org}/domains/{dom}/contacts")
}

async fn confirm(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/domain-owner-changes/confirm", json!({"token": token}))
        .await
}

#[tokio::test]
async fn contacts_are_read_and_each_field_is_checked_with_its_pointer() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("contacts@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-contacts.ch", "owner@example.ch")
        .await;
    let p = path(&org.id, &d.id);
    let c = get_json(&app, &s, &p).await;
    assert_eq!(c["owner"]["email"], "owner@example.ch");
    assert_eq!(c["admin"]["name"], "Alice Muster");
    assert_eq!(c["tech"]["country"], "CH");

    let mut body = same_owner_body("owner@example.ch");
    body["owner"]["phone"] = json!("0211234567");
    body["owner"]["name"] = json!("  ");
    body["admin"]["email"] = json!("not-an-email");
    body["tech"]["country"] = json!("XX");
    body["tech"]["city"] = json!("x".repeat(256));
    body["admin"]["postal_code"] = json!("");
    let res = send(&app, Method::PUT, &p, &s, Some(body)).await;
    let pr = problem(res, 422, "validation_failed").await;
    let mut fields: Vec<String> = pr["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "/admin/email",
            "/admin/postal_code",
            "/owner/name",
            "/owner/phone",
            "/tech/city",
            "/tech/country"
        ],
        "{pr}"
    );
    // A missing field is the usual 422.
    let res = send(&app, Method::PUT, &p, &s, Some(json!({"owner": {}}))).await;
    problem(res, 422, "validation_failed").await;
    // Nothing changed.
    assert_eq!(get_json(&app, &s, &p).await, c);
}

#[tokio::test]
async fn admin_tech_and_the_owners_address_change_at_once_at_the_registry() {
    let app = TestApp::spawn().await;
    let (user, s) = app.signed_in("direct@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-direct.ch", "owner@example.ch")
        .await;
    let p = path(&org.id, &d.id);
    // The same person with the email in another case is still the same person.
    let body = same_owner_body("Owner@Example.CH");
    let c = ok(send(&app, Method::PUT, &p, &s, Some(body)).await, 200).await;
    assert_eq!(c["owner"]["address_line1"], "Chemin Neuf 7");
    assert_eq!(c["owner"]["email"], "owner@example.ch");
    assert_eq!(c["tech"]["email"], "tech@example.ch");
    assert_eq!(get_json(&app, &s, &p).await, c);
    assert_eq!(
        at_registry(&app, &d.name).await.owner_email,
        "owner@example.ch"
    );
    let actions = app.activities_of(&user.id).await;
    assert_eq!(count(&actions, "domain.contacts_updated"), 1, "{actions:?}");
    // No owner change was recorded, no mail sent.
    assert!(texts_to(&app, "owner@example.ch").is_empty());
}

#[tokio::test]
async fn a_change_of_owner_needs_both_owners_confirmations() {
    let app = TestApp::spawn().await;
    let (user, s) = app.signed_in("changer@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-owner.ch", "old@example.ch")
        .await;
    let p = path(&org.id, &d.id);
    let pending = ok(
        send(
            &app,
            Method::PUT,
            &p,
            &s,
            Some(new_owner_body("new@example.ch")),
        )
        .await,
        202,
    )
    .await;
    assert_eq!(pending["status"], "awaiting_confirmation");
    assert!(pending["expires_at"].is_string());
    assert_eq!(pending["current_owner_confirmed"], false);
    // Each owner gets its own link; the requester gets none.
    let old_token = link_token(
        &app.wait_for_mail_containing("old@example.ch", LINK).await,
        LINK,
    );
    let new_token = link_token(
        &app.wait_for_mail_containing("new@example.ch", LINK).await,
        LINK,
    );
    assert_ne!(old_token, new_token);
    assert!(
        texts_to(&app, "changer@example.ch")
            .iter()
            .all(|t| !t.contains(LINK))
    );
    // Nothing changed yet.
    assert_eq!(
        get_json(&app, &s, &p).await["owner"]["email"],
        "old@example.ch"
    );

    // One confirmation is not enough.
    let one = ok(confirm(&app, &old_token).await, 200).await;
    assert_eq!(one["status"], "awaiting_confirmation");
    assert_eq!(one["current_owner_confirmed"], true);
    assert_eq!(one["new_owner_confirmed"], false);
    assert_eq!(
        get_json(&app, &s, &p).await["owner"]["email"],
        "old@example.ch"
    );
    assert_eq!(
        at_registry(&app, &d.name).await.owner_email,
        "old@example.ch"
    );
    // A link works once.
    problem(confirm(&app, &old_token).await, 400, "invalid_token").await;
    problem(confirm(&app, "made-up-token").await, 400, "invalid_token").await;

    // Both: applied at the registry and here, the change of owner dated.
    let both = ok(confirm(&app, &new_token).await, 200).await;
    assert_eq!(both["status"], "applied");
    assert_eq!(both["contacts"]["owner"]["email"], "new@example.ch");
    let c = get_json(&app, &s, &p).await;
    assert_eq!(c["owner"]["name"], "Bruno Neu");
    assert_eq!(c["owner"]["email"], "new@example.ch");
    assert_eq!(
        at_registry(&app, &d.name).await.owner_email,
        "new@example.ch"
    );
    let id = d.id.clone();
    let changed_at = app
        .with_conn(move |c| {
            use leman::db::schema::domains;
            domains::table
                .find(id)
                .select(domains::owner_changed_at)
                .first::<Option<chrono::NaiveDateTime>>(c)
                .unwrap()
        })
        .await;
    assert!(changed_at.is_some());
    problem(confirm(&app, &new_token).await, 400, "invalid_token").await;

    let actions = app.activities_of(&user.id).await;
    assert_eq!(
        count(&actions, "domain.owner_change_requested"),
        1,
        "{actions:?}"
    );
}

#[tokio::test]
async fn an_expired_or_replaced_owner_change_link_is_refused() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("expiry@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-expiry.ch", "old@example.ch")
        .await;
    let p = path(&org.id, &d.id);
    ok(
        send(
            &app,
            Method::PUT,
            &p,
            &s,
            Some(new_owner_body("first@example.ch")),
        )
        .await,
        202,
    )
    .await;
    let first = link_token(
        &app.wait_for_mail_containing("first@example.ch", LINK).await,
        LINK,
    );
    // A newer request replaces the pending one: its links confirm nothing.
    ok(
        send(
            &app,
            Method::PUT,
            &p,
            &s,
            Some(new_owner_body("second@example.ch")),
        )
        .await,
        202,
    )
    .await;
    problem(confirm(&app, &first).await, 400, "invalid_token").await;
    let second = link_token(
        &app.wait_for_mail_containing("second@example.ch", LINK)
            .await,
        LINK,
    );
    // The current owner got one link per request: only the newer one still confirms.
    let mails = app.wait_for_mails("old@example.ch", 2).await;
    let mut statuses = vec![];
    for m in &mails {
        let t = link_token(&mail_text(m), LINK);
        statuses.push(confirm(&app, &t).await.status().as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 400]);
    // Past its 7 days, the second's link is refused too.
    app.with_conn(|c| {
        use leman::db::schema::domain_owner_changes as t;
        diesel::update(t::table)
            .set(t::expires_at.eq(leman::db::now() - chrono::Duration::minutes(1)))
            .execute(c)
            .unwrap()
    })
    .await;
    problem(confirm(&app, &second).await, 400, "invalid_token").await;
    assert_eq!(
        get_json(&app, &s, &p).await["owner"]["email"],
        "old@example.ch"
    );
    assert_eq!(
        at_registry(&app, &d.name).await.owner_email,
        "old@example.ch"
    );
}

#[tokio::test]
async fn contacts_set_at_once_replace_a_pending_change_of_owner() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("replacer@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "acme-res-replace.ch", "old@example.ch")
        .await;
    let p = path(&org.id, &d.id);
    ok(
        send(
            &app,
            Method::PUT,
            &p,
            &s,
            Some(new_owner_body("next@example.ch")),
        )
        .await,
        202,
    )
    .await;
    let token = link_token(
        &app.wait_for_mail_containing("next@example.ch", LINK).await,
        LINK,
    );
    ok(
        send(
            &app,
            Method::PUT,
            &p,
            &s,
            Some(same_owner_body("old@example.ch")),
        )
        .await,
        200,
    )
    .await;
    problem(confirm(&app, &token).await, 400, "invalid_token").await;
}
