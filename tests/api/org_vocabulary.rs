//! Issue 10, organisations: the routes of organisations, members and invitations under
//! `/v1/orgs/{org_id}` name their requirement once (`InOrg<R>`). The token scope is checked
//! first, then the id's shape, then the membership; a malformed id and another organisation's
//! id are the same 404. Roles and permissions are enums in the spec, and one billing address
//! schema serves the request and the answer.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestSession, example_body, operations, problem, send, spec};

/// The operations of organisations, members and invitations under `/v1/orgs/{org_id}`:
/// (method, path, operation). The activity log's two routes are the organisation's too.
fn org_operations(spec: &Value) -> Vec<(Method, String, Value)> {
    let ops: Vec<_> = operations(spec)
        .into_iter()
        .filter(|(_, path, op)| {
            path.starts_with("/v1/orgs/{org_id}")
                && ["organizations", "members", "activities"]
                    .iter()
                    .any(|t| op["tags"][0] == *t)
        })
        .map(|(m, p, op)| {
            (
                Method::from_bytes(m.to_uppercase().as_bytes()).unwrap(),
                p,
                op,
            )
        })
        .collect();
    // Guards the filter: every route of the area is walked.
    assert_eq!(
        ops.len(),
        16,
        "{:?}",
        ops.iter().map(|o| &o.1).collect::<Vec<_>>()
    );
    ops
}

/// An organisation of `legal` with a plain member and a pending invitation: (org, member, ivt).
async fn organisation(app: &TestApp, legal: &(String, TestSession)) -> (String, String, String) {
    let org = app.create_org(&legal.1, "Vocabulary Sàrl").await;
    let member = app
        .create_user(&format!("m.{}@example.ch", &org[4..14]))
        .await;
    app.add_member(&org, &member.id, "member", &[]).await;
    let invitation = app
        .pending_invitation(&org, &legal.0, &format!("i.{}@example.ch", &org[4..14]))
        .await;
    (org, member.id, invitation)
}

fn url(path: &str, org: &str, member: &str, invitation: &str) -> String {
    path.replace("{org_id}", org)
        .replace("{user_id}", member)
        .replace("{invitation_id}", invitation)
}

#[tokio::test]
async fn v2_a_malformed_or_foreign_org_id_is_the_same_404_through_the_extractor() {
    let app = TestApp::spawn().await;
    let (legal, session) = app.signed_in("legal@example.ch").await;
    let legal = (legal.id, session);
    let (_, member, invitation) = organisation(&app, &legal).await;
    let (_, outsider) = app.signed_in("outsider@example.ch").await;
    let foreign = app.create_org(&outsider, "Elsewhere").await;
    let hex = "0193".to_string() + &"a".repeat(28);
    let ids = [
        foreign,
        format!("org_{hex}"),
        "org_123".to_string(),
        format!("usr_{hex}"),
        format!("org_{}g", &hex[..31]),
        format!("ORG_{hex}"),
    ];
    let spec = spec();
    for (method, path, op) in org_operations(&spec) {
        let body = example_body(&spec, &op);
        for id in &ids {
            let res = send(
                &app,
                method.clone(),
                &url(&path, id, &member, &invitation),
                &legal.1,
                body.clone(),
            )
            .await;
            let p = problem(res, 404, "not_found").await;
            assert_eq!(p["detail"], "No such organisation.", "{method} {path} {id}");
        }
    }
}

#[tokio::test]
async fn v2_a_token_without_the_scope_is_refused_before_any_membership_check() {
    let app = TestApp::spawn().await;
    let (legal, session) = app.signed_in("legal@example.ch").await;
    let legal = (legal.id, session);
    let (org, member, invitation) = organisation(&app, &legal).await;
    let (_, outsider) = app.signed_in("outsider@example.ch").await;
    let foreign = app.create_org(&outsider, "Elsewhere").await;
    // The legal representative's own tokens: one for another area, one for every org route.
    let unscoped = app
        .token_of_kind(&legal.0, "personal", &["account:read"])
        .await;
    let scoped = app
        .token_of_kind(&legal.0, "personal", &["orgs:write"])
        .await;
    let spec = spec();
    let mut session_only = Vec::new();
    for (method, path, op) in org_operations(&spec) {
        let body = example_body(&spec, &op);
        let scopes: Vec<&str> = op["security"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["personal_token"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let what = format!("{method} {path}");
        let call = |org_id: &str, token: &str| {
            let (app, method, body) = (&app, method.clone(), body.clone());
            let (to, token) = (url(&path, org_id, &member, &invitation), token.to_string());
            async move { send(app, method, &to, token, body).await }
        };
        let Some(scope) = scopes.first() else {
            // No token may do this (a sensitive action): no scope, and a token is refused as a
            // token once the membership is known.
            session_only.push(what.clone());
            problem(call(&foreign, &unscoped).await, 404, "not_found").await;
            problem(
                call(&org, &unscoped).await,
                403,
                "reauthentication_required",
            )
            .await;
            continue;
        };
        assert_eq!(scopes.len(), 1, "{what}");
        // Own organisation, another's, or no organisation at all: the scope speaks first.
        for org_id in [org.as_str(), foreign.as_str(), "org_123"] {
            let p = problem(call(org_id, &unscoped).await, 403, "insufficient_scope").await;
            assert_eq!(
                p["detail"],
                format!("This token lacks the `{scope}` scope."),
                "{what} {org_id}"
            );
        }
        // With the scope, the membership is checked: another organisation is a 404.
        problem(call(&foreign, &scoped).await, 404, "not_found").await;
    }
    assert_eq!(session_only, ["DELETE /v1/orgs/{org_id}"]);
    // The refusals changed nothing: the member and the invitation are still there.
    let members =
        crate::helpers::get_json(&app, &legal.1, &format!("/v1/orgs/{org}/members")).await;
    assert_eq!(members["data"].as_array().unwrap().len(), 2);
    let invitations =
        crate::helpers::get_json(&app, &legal.1, &format!("/v1/orgs/{org}/invitations")).await;
    assert_eq!(invitations["data"][0]["id"], invitation.as_str());
}

/// The schema a property refers to, through `oneOf` with `null` and arrays.
fn refers_to(schema: &Value) -> Option<String> {
    if let Some(r) = schema["$ref"].as_str() {
        return Some(r.rsplit('/').next().unwrap().to_string());
    }
    if let Some(items) = schema.get("items") {
        return refers_to(items);
    }
    schema["oneOf"].as_array()?.iter().find_map(refers_to)
}

#[tokio::test]
async fn v2_the_spec_shows_roles_and_permissions_as_enums_and_one_billing_address() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    assert_eq!(
        schemas["Role"]["enum"],
        json!(["member", "admin", "legal_representative"])
    );
    assert_eq!(
        schemas["Permission"]["enum"],
        json!(["accounting", "products", "domains", "users"])
    );
    assert_eq!(schemas["Currency"]["enum"], json!(["CHF", "EUR"]));
    // Every property naming a role or permissions, in requests and answers, is the enum.
    let mut seen = Vec::new();
    for (name, schema) in schemas {
        let Some(props) = schema["properties"].as_object() else {
            continue;
        };
        for (prop, s) in props {
            let expected = match prop.as_str() {
                "role" | "my_role" => "Role",
                "permissions" | "my_permissions" => "Permission",
                "billing_address" => "BillingAddress",
                _ => continue,
            };
            assert_eq!(
                refers_to(s).as_deref(),
                Some(expected),
                "{name}.{prop}: {s}"
            );
            seen.push(format!("{name}.{prop}"));
        }
    }
    for must in [
        "OrganizationView.my_role",
        "OrganizationView.my_permissions",
        "OrganizationView.billing_address",
        "CreateOrganization.billing_address",
        "UpdateOrganization.billing_address",
        "MemberView.role",
        "MemberView.permissions",
        "UpdateMember.role",
        "UpdateMember.permissions",
        "InvitationView.role",
        "InvitationView.permissions",
        "CreateInvitation.role",
        "CreateInvitation.permissions",
    ] {
        assert!(
            seen.iter().any(|s| s == must),
            "{must} not found in {seen:?}"
        );
    }
    assert!(!schemas.contains_key("BillingAddressView"));
    let role_filter = spec["paths"]["/v1/orgs/{org_id}/members"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "role")
        .unwrap();
    assert_eq!(refers_to(&role_filter["schema"]).as_deref(), Some("Role"));
}

#[tokio::test]
async fn v2_an_address_is_answered_as_it_was_checked_and_a_role_filter_is_an_enum() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&s, "Address Sàrl").await;
    let edited = crate::helpers::ok(
        send(
            &app,
            Method::PATCH,
            &format!("/v1/orgs/{org}"),
            &s,
            Some(
                json!({"billing_address": {"line1": "  Hauptstrasse 1 ", "line2": "   ",
                "postal_code": " 8001", "city": "Zürich "}}),
            ),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        edited["billing_address"],
        json!({"line1": "Hauptstrasse 1", "line2": null, "postal_code": "8001", "city": "Zürich"})
    );
    let listed = crate::helpers::get_json(&app, &s, "/v1/me/organizations").await;
    assert_eq!(
        listed["data"][0]["billing_address"],
        edited["billing_address"]
    );
    let admins = crate::helpers::get_json(
        &app,
        &s,
        &format!("/v1/orgs/{org}/members?role=legal_representative"),
    )
    .await;
    assert_eq!(admins["data"][0]["role"], "legal_representative");
    let none =
        crate::helpers::get_json(&app, &s, &format!("/v1/orgs/{org}/members?role=admin")).await;
    assert_eq!(none["data"], json!([]));
    let res = send(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}/members?role=owner"),
        &s,
        None,
    )
    .await;
    problem(res, 422, "validation_failed").await;
}
