//! Organisations (R2, R14, R15, R18, R22, R9, R12): creating and switching, roles and who may
//! grant what, invitations, the last legal representative, unlocking a member, and deletion.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestSession, TestUser, get_json, link_token, ok, problem, send};

/// Calls and expects the problem `status`/`code`; returns its body.
#[allow(clippy::too_many_arguments)]
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    s: &TestSession,
    body: Option<Value>,
    status: u16,
    code: &str,
) -> Value {
    problem(send(app, method, path, s, body).await, status, code).await
}

#[tokio::test]
async fn r2_one_login_creates_several_organisations_and_switches_between_them() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("zoe@example.ch").await;
    let body = json!({
        "name": "  Müller Design Sàrl ", "country": "ch", "currency": "CHF",
        "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"},
        "vat_number": "che-123.456.789"
    });
    let pro = ok(
        send(&app, Method::POST, "/v1/orgs", &s, Some(body)).await,
        201,
    )
    .await;
    assert_eq!(pro["name"], "Müller Design Sàrl");
    assert_eq!(pro["country"], "CH");
    assert_eq!(pro["vat_number"], "CHE-123.456.789");
    assert_eq!(pro["my_role"], "legal_representative");
    assert_eq!(
        pro["my_permissions"],
        json!(["accounting", "products", "domains", "users"])
    );
    let personal = app.create_org(&s, "Zoë privé").await;

    let list = ok(
        send(&app, Method::GET, "/v1/me/organizations?limit=1", &s, None).await,
        200,
    )
    .await;
    assert_eq!(list["data"][0]["id"], pro["id"]);
    let cursor = list["next_cursor"].as_str().unwrap();
    let next = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/me/organizations?limit=1&cursor={cursor}"),
            &s,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(next["data"][0]["id"], personal.as_str());
    assert!(next["next_cursor"].is_null());

    let got = ok(
        send(&app, Method::GET, &format!("/v1/orgs/{personal}"), &s, None).await,
        200,
    )
    .await;
    assert_eq!(got["name"], "Zoë privé");
    let edited = ok(
        send(
            &app,
            Method::PATCH,
            &format!("/v1/orgs/{}", pro["id"].as_str().unwrap()),
            &s,
            Some(json!({"currency": "EUR", "vat_number": null, "billing_address": {"line1": "Hauptstrasse 1", "postal_code": "8001", "city": "Zürich"}})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited["currency"], "EUR");
    assert!(edited["vat_number"].is_null());
    assert_eq!(edited["billing_address"]["city"], "Zürich");
    assert_eq!(edited["name"], "Müller Design Sàrl");

    // Bad input: every field reported at once, nothing created.
    let res = send(
        &app,
        Method::POST,
        "/v1/orgs",
        &s,
        Some(json!({"name": " ", "country": "XX", "currency": "CHF",
            "billing_address": {"line1": "", "postal_code": "1", "city": "x"}, "vat_number": "12"})),
    )
    .await;
    let p = problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["/name", "/country", "/billing_address/line1", "/vat_number"]
    );
    let res = send(
        &app,
        Method::POST,
        "/v1/orgs",
        &s,
        Some(json!({"name": "X", "country": "CH", "currency": "USD",
        "billing_address": {"line1": "a", "postal_code": "1", "city": "x"}})),
    )
    .await;
    problem(res, 422, "validation_failed").await;
    let list = ok(
        send(&app, Method::GET, "/v1/me/organizations", &s, None).await,
        200,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);

    // Tokens need the orgs scopes.
    let token = app
        .personal_token(&app.create_user("tok@example.ch").await.id)
        .await;
    let res = send(&app, Method::GET, "/v1/me/organizations", &token, None).await;
    problem(res, 403, "insufficient_scope").await;
}

/// R15's cast: a legal representative who made the organisation, an admin, a member holding
/// `users` (and `accounting`), a plain member holding `domains`, and a second admin.
struct Grants {
    app: TestApp,
    org: String,
    legal: TestUser,
    ls: TestSession,
    admin: TestUser,
    admins: TestSession,
    users: TestUser,
    us: TestSession,
    plain: TestUser,
    other_admin: TestUser,
}

impl Grants {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (legal, ls) = app.signed_in("legal@example.ch").await;
        let (admin, admins) = app.signed_in("admin@example.ch").await;
        let (users, us) = app.signed_in("users@example.ch").await;
        let plain = app.create_user("plain@example.ch").await;
        let other_admin = app.create_user("admin2@example.ch").await;
        let org = app
            .an_org(&ls)
            .named("Grants")
            .with_member(&admin, "admin", &[])
            .with_member(&users, "member", &["users", "accounting"])
            .with_member(&plain, "member", &["domains"])
            .with_member(&other_admin, "admin", &[])
            .await
            .id;
        Self {
            app,
            org,
            legal,
            ls,
            admin,
            admins,
            users,
            us,
            plain,
            other_admin,
        }
    }

    fn invitations(&self) -> String {
        format!("/v1/orgs/{}/invitations", self.org)
    }

    fn member(&self, id: &str) -> String {
        format!("/v1/orgs/{}/members/{id}", self.org)
    }
}

fn grant_invitation(role: &str, perms: Value) -> Value {
    json!({"email": "new@example.ch", "role": role, "permissions": perms})
}

#[tokio::test]
async fn r15_who_may_grant_what_a_holder_of_users_grants_plain_membership_within_its_own() {
    let g = Grants::new().await;
    let (app, us) = (&g.app, &g.us);
    // A holder of `users`: plain members, with no more than they hold.
    ok(
        send(
            app,
            Method::POST,
            &g.invitations(),
            us,
            Some(grant_invitation("member", json!(["accounting"]))),
        )
        .await,
        201,
    )
    .await;
    for body in [
        grant_invitation("member", json!(["products"])),
        grant_invitation("admin", json!([])),
        grant_invitation("legal_representative", json!([])),
    ] {
        refused(
            app,
            Method::POST,
            &g.invitations(),
            us,
            Some(body),
            403,
            "grant_not_allowed",
        )
        .await;
    }
    ok(
        send(
            app,
            Method::PATCH,
            &g.member(&g.plain.id),
            us,
            Some(json!({"permissions": ["accounting"]})),
        )
        .await,
        200,
    )
    .await;
    refused(
        app,
        Method::PATCH,
        &g.member(&g.plain.id),
        us,
        Some(json!({"permissions": ["products"]})),
        403,
        "grant_not_allowed",
    )
    .await;
    refused(
        app,
        Method::PATCH,
        &g.member(&g.plain.id),
        us,
        Some(json!({"role": "admin"})),
        403,
        "grant_not_allowed",
    )
    .await;
    refused(
        app,
        Method::DELETE,
        &g.member(&g.other_admin.id),
        us,
        None,
        403,
        "grant_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn r15_who_may_grant_what_an_admin_grants_admin_but_never_legal_representative() {
    let g = Grants::new().await;
    let (app, admins) = (&g.app, &g.admins);
    // An admin: also admins, never legal representatives.
    let promoted = ok(
        send(
            app,
            Method::PATCH,
            &g.member(&g.plain.id),
            admins,
            Some(json!({"role": "admin"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(promoted["role"], "admin");
    assert_eq!(
        promoted["permissions"],
        json!(["accounting", "products", "domains", "users"])
    );
    refused(
        app,
        Method::PATCH,
        &g.member(&g.plain.id),
        admins,
        Some(json!({"role": "legal_representative"})),
        403,
        "grant_not_allowed",
    )
    .await;
    refused(
        app,
        Method::PATCH,
        &g.member(&g.legal.id),
        admins,
        Some(json!({"role": "member"})),
        403,
        "grant_not_allowed",
    )
    .await;
    refused(
        app,
        Method::POST,
        &g.invitations(),
        admins,
        Some(grant_invitation("legal_representative", json!([]))),
        403,
        "grant_not_allowed",
    )
    .await;
    assert_eq!(
        send(
            app,
            Method::DELETE,
            &g.member(&g.other_admin.id),
            admins,
            None
        )
        .await
        .status(),
        204
    );
}

#[tokio::test]
async fn r15_who_may_grant_what_a_legal_representative_grants_everything() {
    let g = Grants::new().await;
    let (app, ls) = (&g.app, &g.ls);
    // A legal representative: everything, including another legal representative.
    let appointed = ok(
        send(
            app,
            Method::PATCH,
            &g.member(&g.admin.id),
            ls,
            Some(json!({"role": "legal_representative"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(appointed["role"], "legal_representative");
    ok(
        send(
            app,
            Method::POST,
            &g.invitations(),
            ls,
            Some(grant_invitation("legal_representative", json!([]))),
        )
        .await,
        201,
    )
    .await;
}

#[tokio::test]
async fn r15_who_may_grant_what_unknown_values_and_ids_are_refused() {
    let g = Grants::new().await;
    let (app, ls) = (&g.app, &g.ls);
    refused(
        app,
        Method::PATCH,
        &g.member(&g.plain.id),
        ls,
        Some(json!({"permissions": ["root"]})),
        422,
        "validation_failed",
    )
    .await;
    refused(
        app,
        Method::PATCH,
        &g.member("usr_00000000000000000000000000000000"),
        ls,
        Some(json!({"role": "member"})),
        404,
        "not_found",
    )
    .await;
    refused(
        app,
        Method::PATCH,
        &g.member("nonsense"),
        ls,
        Some(json!({"role": "member"})),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn r15_who_may_grant_what_every_change_is_logged_with_the_member_as_subject() {
    let g = Grants::new().await;
    let (app, org) = (&g.app, &g.org);
    // One change by each grantor: the `users` holder invites and edits, the admin promotes,
    // the legal representative appoints.
    let changes = [
        (
            Method::POST,
            g.invitations(),
            &g.us,
            grant_invitation("member", json!(["accounting"])),
            201,
        ),
        (
            Method::PATCH,
            g.member(&g.plain.id),
            &g.us,
            json!({"permissions": ["accounting"]}),
            200,
        ),
        (
            Method::PATCH,
            g.member(&g.plain.id),
            &g.admins,
            json!({"role": "admin"}),
            200,
        ),
        (
            Method::PATCH,
            g.member(&g.admin.id),
            &g.ls,
            json!({"role": "legal_representative"}),
            200,
        ),
    ];
    for (method, path, who, body, status) in changes {
        ok(send(app, method, &path, who, Some(body)).await, status).await;
    }
    // Every change is in the organisation's log, with the member as its subject.
    let log = get_json(
        app,
        &g.ls,
        &format!("/v1/orgs/{org}/activities?action=member.updated"),
    )
    .await;
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["subject_user_id"], g.admin.id.as_str());
    assert_eq!(rows[0]["details"]["role"], "legal_representative");
    let by_users = get_json(
        app,
        &g.ls,
        &format!("/v1/orgs/{org}/activities?actor_id={}", g.users.id),
    )
    .await;
    assert_eq!(
        by_users["data"].as_array().unwrap().len(),
        2,
        "one invitation, one edit"
    );
}

#[tokio::test]
async fn r15_invitations_are_accepted_once_by_the_invited_login_within_7_days_the_invitee_joins_once()
 {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Invites Sàrl").await;
    let inv = format!("/v1/orgs/{org}/invitations");
    // The invitee has no account yet: the mail is in the inviter's language.
    let created = ok(
        send(&app, Method::POST, &inv, &ls, Some(json!({"email": " Ana.Garcia@Example.ES ", "role": "member", "permissions": ["products", "accounting", "products"]}))).await,
        201,
    )
    .await;
    assert_eq!(created["email"], "ana.garcia@example.es");
    assert_eq!(created["permissions"], json!(["accounting", "products"]));
    // Its own id prefix: never mistaken for an invoice (`inv_`).
    assert!(
        created["id"].as_str().unwrap().starts_with("ivt_"),
        "{created}"
    );
    let text = app
        .wait_for_mail_containing("ana.garcia@example.es", "/accept-invitation?token=")
        .await;
    assert!(text.contains("Invites Sàrl"), "{text}");
    let token = link_token(&text, "/accept-invitation");

    // Someone else signed in: refused, and the invitation stays usable.
    let (_, stranger) = app.signed_in("stranger@example.ch").await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &stranger,
        Some(json!({"token": token})),
        403,
        "invitation_for_another_account",
    )
    .await;
    let (ana, anas) = app.signed_in("ana.garcia@example.es").await;
    let joined = ok(
        send(
            &app,
            Method::POST,
            "/v1/invitations/accept",
            &anas,
            Some(json!({"token": token})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(joined["id"], org.as_str());
    assert_eq!(joined["my_permissions"], json!(["accounting", "products"]));
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &anas,
        Some(json!({"token": token})),
        400,
        "invalid_token",
    )
    .await;
    let members = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/members"),
            &ls,
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(
        members["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == ana.id.as_str())
    );
    // Inviting a member again is a conflict.
    refused(
        &app,
        Method::POST,
        &inv,
        &ls,
        Some(json!({"email": "ana.garcia@example.es", "role": "member"})),
        409,
        "already_member",
    )
    .await;
}

#[tokio::test]
async fn r15_invitations_are_accepted_once_by_the_invited_login_within_7_days_replaced_withdrawn_or_expired_ones_stop_working()
 {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Invites Sàrl").await;
    let inv = format!("/v1/orgs/{org}/invitations");
    // A new invitation replaces the pending one; a withdrawn or expired one stops working.
    let invite_luca = json!({"email": "luca@example.ch", "role": "admin"});
    send(&app, Method::POST, &inv, &ls, Some(invite_luca.clone())).await;
    let first = link_token(
        &app.wait_for_mail_containing("luca@example.ch", "/accept-invitation?token=")
            .await,
        "/accept-invitation",
    );
    send(&app, Method::POST, &inv, &ls, Some(invite_luca)).await;
    let tokens = |mails: Vec<String>| -> Vec<String> {
        mails
            .iter()
            .map(|m| link_token(&crate::helpers::mail_text(m), "/accept-invitation"))
            .collect()
    };
    let second = tokens(app.wait_for_mails("luca@example.ch", 2).await)
        .into_iter()
        .find(|t| *t != first)
        .unwrap();
    let pending = ok(send(&app, Method::GET, &inv, &ls, None).await, 200).await;
    let pending = pending["data"].as_array().unwrap();
    assert_eq!(pending.len(), 1);
    let (_, lucas) = app.signed_in("luca@example.ch").await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &lucas,
        Some(json!({"token": first})),
        400,
        "invalid_token",
    )
    .await;
    let id = pending[0]["id"].as_str().unwrap();
    assert_eq!(
        send(&app, Method::DELETE, &format!("{inv}/{id}"), &ls, None)
            .await
            .status(),
        204
    );
    refused(
        &app,
        Method::DELETE,
        &format!("{inv}/{id}"),
        &ls,
        None,
        404,
        "not_found",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &lucas,
        Some(json!({"token": second})),
        400,
        "invalid_token",
    )
    .await;

    send(
        &app,
        Method::POST,
        &inv,
        &ls,
        Some(json!({"email": "luca@example.ch", "role": "member"})),
    )
    .await;
    let third = tokens(app.wait_for_mails("luca@example.ch", 3).await)
        .into_iter()
        .find(|t| *t != first && *t != second)
        .unwrap();
    app.with_conn(|c| {
        use diesel::prelude::*;
        use leman::db::schema::invitations as i;
        diesel::update(
            i::table
                .filter(i::revoked_at.is_null())
                .filter(i::accepted_at.is_null()),
        )
        .set(i::expires_at.eq(leman::db::now() - chrono::Duration::seconds(1)))
        .execute(c)
        .unwrap()
    })
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &lucas,
        Some(json!({"token": third})),
        400,
        "invalid_token",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &lucas,
        Some(json!({"token": "made-up"})),
        400,
        "invalid_token",
    )
    .await;
    let mine = ok(
        send(&app, Method::GET, "/v1/me/organizations", &lucas, None).await,
        200,
    )
    .await;
    assert_eq!(mine["data"], json!([]));
}

#[tokio::test]
async fn r15_the_last_legal_representative_cannot_leave_be_removed_or_demoted() {
    let app = TestApp::spawn().await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let (member, ms) = app.signed_in("member@example.ch").await;
    let org = app.create_org(&ls, "Last One").await;
    app.add_member(&org, &member.id, "member", &[]).await;
    let me = format!("/v1/orgs/{org}/members/{}", legal.id);
    refused(
        &app,
        Method::POST,
        &format!("/v1/orgs/{org}/leave"),
        &ls,
        None,
        409,
        "last_legal_representative",
    )
    .await;
    refused(
        &app,
        Method::DELETE,
        &me,
        &ls,
        None,
        409,
        "last_legal_representative",
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &me,
        &ls,
        Some(json!({"role": "admin"})),
        409,
        "last_legal_representative",
    )
    .await;
    // With a second legal representative, the first may go.
    send(
        &app,
        Method::PATCH,
        &format!("/v1/orgs/{org}/members/{}", member.id),
        &ls,
        Some(json!({"role": "legal_representative"})),
    )
    .await;
    assert_eq!(
        send(
            &app,
            Method::POST,
            &format!("/v1/orgs/{org}/leave"),
            &ls,
            None
        )
        .await
        .status(),
        204
    );
    refused(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}"),
        &ls,
        None,
        404,
        "not_found",
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("/v1/orgs/{org}/leave"),
        &ms,
        None,
        409,
        "last_legal_representative",
    )
    .await;
}

#[tokio::test]
async fn r18_the_member_list_flags_who_lacks_two_factor_and_filters_on_it() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    app.enable_two_factor(&ls).await;
    let org = app.create_org(&ls, "Flags").await;
    let without = app.create_user("without@example.ch").await;
    let admin = app.create_user("admin@example.ch").await;
    app.add_member(&org, &without.id, "member", &["accounting"])
        .await;
    app.add_member(&org, &admin.id, "admin", &[]).await;
    let all = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/members"),
            &ls,
            None,
        )
        .await,
        200,
    )
    .await;
    let flags: Vec<(String, bool, bool)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["two_factor_enabled"].as_bool().unwrap(),
                m["locked"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("legal@example.ch".to_string(), true, false),
            ("without@example.ch".to_string(), false, false),
            ("admin@example.ch".to_string(), false, false)
        ]
    );
    assert!(all["data"][0]["last_login_at"].is_string());
    let lacking = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/members?two_factor_enabled=false&role=member"),
            &ls,
            None,
        )
        .await,
        200,
    )
    .await;
    let ids: Vec<&str> = lacking["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [without.id.as_str()]);
    refused(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}/members?role=owner"),
        &ls,
        None,
        422,
        "validation_failed",
    )
    .await;
    for flag in ["maybe", ""] {
        refused(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/members?two_factor_enabled={flag}"),
            &ls,
            None,
            422,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn r12_an_organisation_admin_unlocks_a_locked_member() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Unlockers").await;
    let member = app.create_user("locked@example.ch").await;
    let stranger = app.create_user("stranger@example.ch").await;
    app.add_member(&org, &member.id, "member", &[]).await;
    let unlock = format!("/v1/orgs/{org}/members/{}/unlock", member.id);
    refused(
        &app,
        Method::POST,
        &unlock,
        &ls,
        None,
        409,
        "account_not_locked",
    )
    .await;
    app.set_lock_threshold(&member.id, 3).await;
    for _ in 0..3 {
        app.post_json(
            "/v1/auth/login",
            json!({"email": member.email, "password": "wrong wrong wrong"}),
        )
        .await;
    }
    app.wait_for_mail_containing(&member.email, "/unlock?token=")
        .await;
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": member.email, "password": member.password}),
        )
        .await;
    assert_eq!(res.status(), 401, "locked");
    assert_eq!(
        send(&app, Method::POST, &unlock, &ls, None).await.status(),
        204
    );
    let text = app
        .wait_for_mail_containing(&member.email, "Unlockers")
        .await;
    assert!(text.contains("Zoë Müller"), "names the admin: {text}");
    app.login(&member).await;
    // One record, in the member's own log as its subject.
    let actions = app.activities_of(&member.id).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "account.unlocked").count(),
        1,
        "{actions:?}"
    );
    // Only members of the organisation, only by admins.
    refused(
        &app,
        Method::POST,
        &format!("/v1/orgs/{org}/members/{}/unlock", stranger.id),
        &ls,
        None,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn r22_each_prerequisite_blocks_deletion_alone_and_is_listed() {
    let app = TestApp::spawn().await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Doomed").await;
    let check = format!("/v1/orgs/{org}/deletion-check");
    let fresh = ok(send(&app, Method::GET, &check, &ls, None).await, 200).await;
    assert_eq!(fresh, json!({"deletable": true, "unmet": [], "offers": []}));

    // Another member alone blocks.
    let member = app.create_user("member@example.ch").await;
    app.add_member(&org, &member.id, "member", &[]).await;
    let blocked = ok(send(&app, Method::GET, &check, &ls, None).await, 200).await;
    assert_eq!(blocked["deletable"], false);
    assert_eq!(blocked["unmet"][0]["code"], "other_members");
    assert_eq!(blocked["unmet"][0]["count"], 1);
    let p = refused(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}"),
        &ls,
        None,
        409,
        "prerequisites_unmet",
    )
    .await;
    assert_eq!(p["unmet"], blocked["unmet"]);
    send(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}/members/{}", member.id),
        &ls,
        None,
    )
    .await;

    // A pending invitation alone blocks.
    let invitation = app
        .pending_invitation(&org, &legal.id, "later@example.ch")
        .await;
    let p = refused(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}"),
        &ls,
        None,
        409,
        "prerequisites_unmet",
    )
    .await;
    let codes: Vec<&str> = p["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["pending_invitations"]);
    send(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}/invitations/{invitation}"),
        &ls,
        None,
    )
    .await;

    // Both at once are both listed.
    app.add_member(&org, &member.id, "member", &[]).await;
    app.pending_invitation(&org, &legal.id, "later@example.ch")
        .await;
    let both = ok(send(&app, Method::GET, &check, &ls, None).await, 200).await;
    let codes: Vec<&str> = both["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["other_members", "pending_invitations"]);
}

#[tokio::test]
async fn r14_an_admin_deletes_an_empty_organisation_after_a_recent_authentication_which_archives_it()
 {
    let app = TestApp::spawn().await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Gone").await;
    let keep = app.create_org(&ls, "Kept").await;
    app.make_session_not_recent(&ls).await;
    refused(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}"),
        &ls,
        None,
        403,
        "reauthentication_required",
    )
    .await;
    let res = send(
        &app,
        Method::POST,
        "/v1/auth/reauthenticate",
        &ls,
        Some(json!({"password": legal.password})),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        send(&app, Method::DELETE, &format!("/v1/orgs/{org}"), &ls, None)
            .await
            .status(),
        204
    );
    let list = ok(
        send(&app, Method::GET, "/v1/me/organizations", &ls, None).await,
        200,
    )
    .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [keep.as_str()]);
    refused(
        &app,
        Method::GET,
        &format!("/v1/orgs/{org}"),
        &ls,
        None,
        404,
        "not_found",
    )
    .await;
    refused(
        &app,
        Method::DELETE,
        &format!("/v1/orgs/{org}"),
        &ls,
        None,
        404,
        "not_found",
    )
    .await;
    // Archived for the retention period, with its record.
    let (retain_until, deleted_at) = {
        let id = org.clone();
        app.with_conn(move |c| {
            use diesel::prelude::*;
            use leman::db::schema::organizations as o;
            o::table
                .find(id)
                .select((o::retain_until, o::deleted_at))
                .first::<(Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>)>(c)
                .unwrap()
        })
        .await
    };
    let years = (retain_until.unwrap() - deleted_at.unwrap()).num_days() / 365;
    assert_eq!(years, 10);
    assert!(
        app.activities_of(&legal.id)
            .await
            .contains(&"organization.deleted".to_string())
    );
    // The user's account stays.
    assert_eq!(
        send(&app, Method::GET, "/v1/me", &ls, None).await.status(),
        200
    );
}

/// `retain_until` of a deleted organisation: the API no longer shows a deleted organisation.
async fn retain_until(app: &TestApp, org: &str) -> chrono::NaiveDateTime {
    let id = org.to_string();
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::organizations as o;
        o::table
            .find(id)
            .select(o::retain_until)
            .first::<Option<chrono::NaiveDateTime>>(c)
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn r14_an_admin_deletes_an_empty_organisation_after_a_recent_authentication_purged_when_its_retention_ends()
 {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Gone").await;
    let keep = app.create_org(&ls, "Kept").await;
    ok(
        send(&app, Method::DELETE, &format!("/v1/orgs/{org}"), &ls, None).await,
        204,
    )
    .await;
    let retain_until = retain_until(&app, &org).await;

    // Not before its retention ends: the periodic purge leaves it.
    let purged = app
        .with_conn(|c| leman::services::org_deletion::purge_due(c, leman::db::now()).unwrap())
        .await;
    assert_eq!(purged, 0);
    // After it, the organisation, its rows and its chain are gone; every other chain verifies.
    let after = retain_until + chrono::Duration::days(1);
    let purged = app
        .with_conn(move |c| leman::services::org_deletion::purge_due(c, after).unwrap())
        .await;
    assert_eq!(purged, 1);
    let (orgs, records, members) = {
        let id = org.clone();
        app.with_conn(move |c| {
            use diesel::prelude::*;
            use leman::db::schema::{activities as a, memberships as m, organizations as o};
            (
                o::table.find(&id).count().get_result::<i64>(c).unwrap(),
                a::table
                    .filter(a::organization_id.eq(&id).or(a::chain_id.eq(&id)))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
                m::table
                    .filter(m::organization_id.eq(&id))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap(),
            )
        })
        .await
    };
    assert_eq!((orgs, records, members), (0, 0, 0));
    let reports = app
        .with_conn(|c| leman::services::audit::verify_all(c).unwrap())
        .await;
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|r| r.intact), "{reports:?}");
    assert_eq!(
        send(&app, Method::GET, &format!("/v1/orgs/{keep}"), &ls, None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn r9_account_deletion_waits_for_the_organisations_that_depend_on_it() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Depends").await;
    let p = refused(
        &app,
        Method::DELETE,
        "/v1/me",
        &ls,
        None,
        409,
        "prerequisites_unmet",
    )
    .await;
    assert_eq!(p["unmet"][0]["code"], "only_member_of_organization");
    assert_eq!(p["unmet"][0]["count"], 1);
    let (member, ms) = app.signed_in("member@example.ch").await;
    app.add_member(&org, &member.id, "member", &[]).await;
    let p = refused(
        &app,
        Method::DELETE,
        "/v1/me",
        &ls,
        None,
        409,
        "prerequisites_unmet",
    )
    .await;
    let codes: Vec<&str> = p["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["last_legal_representative"]);
    // A plain member can go; the organisation loses them.
    assert_eq!(
        send(&app, Method::DELETE, "/v1/me", &ms, None)
            .await
            .status(),
        204
    );
    let members = ok(
        send(
            &app,
            Method::GET,
            &format!("/v1/orgs/{org}/members"),
            &ls,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(members["data"].as_array().unwrap().len(), 1);
    let _ = ms;
}

/// PUT of the organisation's 2FA requirement with a bearer `token`.
async fn put_policy(app: &TestApp, org: &str, token: &str, on: bool) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        &format!("/v1/orgs/{org}/security-policy"),
        token,
        Some(json!({ "require_two_factor": on })),
    )
    .await
}

/// Whether the organisation requires 2FA, as `s` reads it.
async fn required(app: &TestApp, org: &str, s: &TestSession) -> bool {
    let res = send(
        app,
        Method::GET,
        &format!("/v1/orgs/{org}/security-policy"),
        s,
        None,
    )
    .await;
    ok(res, 200).await["require_two_factor"].as_bool().unwrap()
}

#[tokio::test]
async fn f6_only_a_recently_authenticated_session_turns_the_organisations_two_factor_requirement_off()
 {
    let app = TestApp::spawn().await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let two_factor = app.enable_two_factor(&ls).await;
    let org = app.create_org(&ls, "Strict Sàrl").await;
    let app_token = app
        .token_of_kind(&legal.id, "application", &["orgs:write"])
        .await;
    let personal = app
        .token_of_kind(&legal.id, "personal", &["orgs:write"])
        .await;
    // Tightening needs no fresh proof: a token may turn the requirement on.
    ok(put_policy(&app, &org, &personal, true).await, 200).await;
    assert!(required(&app, &org, &ls).await);
    // Loosening does: tokens are refused, whatever their scope ...
    for token in [&app_token, &personal] {
        let body = problem(
            put_policy(&app, &org, token, false).await,
            403,
            "reauthentication_required",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains("Tokens"),
            "{body}"
        );
        assert!(
            required(&app, &org, &ls).await,
            "a token turned the requirement off"
        );
    }
    // ... and so is a session that authenticated more than 5 minutes ago.
    app.make_session_not_recent(&ls).await;
    problem(
        put_policy(&app, &org, &ls.access_token, false).await,
        403,
        "reauthentication_required",
    )
    .await;
    assert!(required(&app, &org, &ls).await);
    // Setting it on again (no change) stays open to the old session.
    ok(put_policy(&app, &org, &ls.access_token, true).await, 200).await;
    // A person who just signed in turns it off.
    let fresh = app.login_with_two_factor(&legal, &two_factor).await;
    let res = put_policy(&app, &org, &fresh.access_token, false).await;
    assert_eq!(ok(res, 200).await, json!({"require_two_factor": false}));
    assert!(!required(&app, &org, &ls).await);
    // Nothing was recorded for the refused attempts.
    let records = app.activities_of(&legal.id).await;
    assert_eq!(
        records
            .iter()
            .filter(|a| *a == "organization.security_policy_updated")
            .count(),
        3,
        "{records:?}"
    );
}

/// The ids of the organisation's pending invitations, as `s` lists them.
async fn pending_ids(app: &TestApp, org: &str, s: &TestSession) -> Vec<String> {
    let res = send(
        app,
        Method::GET,
        &format!("/v1/orgs/{org}/invitations"),
        s,
        None,
    )
    .await;
    ok(res, 200).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// `s` invites `email` into `org`; returns the invitation's id.
async fn invite(app: &TestApp, org: &str, s: &TestSession, body: Value) -> String {
    let res = send(
        app,
        Method::POST,
        &format!("/v1/orgs/{org}/invitations"),
        s,
        Some(body),
    )
    .await;
    ok(res, 201).await["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn f8_withdrawing_or_replacing_an_invitation_follows_the_rule_of_making_it() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Rights Sàrl").await;
    let (users, us) = app.signed_in("users@example.ch").await;
    app.add_member(&org, &users.id, "member", &["users"]).await;
    let inv = format!("/v1/orgs/{org}/invitations");

    // The legal representative invites an accountant and an admin.
    let accountant = invite(
        &app,
        &org,
        &ls,
        json!({"email": "acc@example.ch", "role": "member", "permissions": ["accounting"]}),
    )
    .await;
    let admin = invite(
        &app,
        &org,
        &ls,
        json!({"email": "adm@example.ch", "role": "admin"}),
    )
    .await;
    // A holder of `users` alone could make neither: they withdraw neither ...
    for id in [&accountant, &admin] {
        refused(
            &app,
            Method::DELETE,
            &format!("{inv}/{id}"),
            &us,
            None,
            403,
            "grant_not_allowed",
        )
        .await;
    }
    // ... nor replace either with an invitation they may make.
    for email in ["acc@example.ch", "adm@example.ch"] {
        refused(
            &app,
            Method::POST,
            &inv,
            &us,
            Some(json!({"email": email, "role": "member", "permissions": []})),
            403,
            "grant_not_allowed",
        )
        .await;
    }
    let mut pending = pending_ids(&app, &org, &ls).await;
    pending.sort();
    let mut expected = vec![accountant.clone(), admin.clone()];
    expected.sort();
    assert_eq!(pending, expected, "both invitations stand");
    // What they may make, they may replace and withdraw.
    let mine = invite(
        &app,
        &org,
        &us,
        json!({"email": "new@example.ch", "role": "member", "permissions": ["users"]}),
    )
    .await;
    let replaced = invite(
        &app,
        &org,
        &us,
        json!({"email": "new@example.ch", "role": "member"}),
    )
    .await;
    assert!(!pending_ids(&app, &org, &ls).await.contains(&mine));
    assert_eq!(
        send(
            &app,
            Method::DELETE,
            &format!("{inv}/{replaced}"),
            &us,
            None
        )
        .await
        .status(),
        204
    );
    // The legal representative withdraws theirs.
    assert_eq!(
        send(&app, Method::DELETE, &format!("{inv}/{admin}"), &ls, None)
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn f8_an_invitation_ends_when_its_maker_could_no_longer_make_it_as_each_change_happens() {
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "1000")
        .spawn()
        .await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let (removed, rs) = app.signed_in("removed@example.ch").await;
    let (leaver, lvs) = app.signed_in("leaver@example.ch").await;
    let (demoted, ds) = app.signed_in("demoted@example.ch").await;
    let (admin, ads) = app.signed_in("admin@example.ch").await;
    let (deleted, dels) = app.signed_in("deleted@example.ch").await;
    let org = app
        .an_org(&ls)
        .named("Void Sàrl")
        .with_member(&removed, "member", &["users"])
        .with_member(&leaver, "member", &["users"])
        .with_member(&demoted, "member", &["users", "accounting"])
        .with_member(&admin, "admin", &[])
        .with_member(&deleted, "member", &["users"])
        .await
        .id;

    let mut made = vec![];
    for (who, body) in [
        (&rs, json!({"email": "a@example.ch", "role": "member"})),
        (&lvs, json!({"email": "b@example.ch", "role": "member"})),
        (
            &ds,
            json!({"email": "c@example.ch", "role": "member", "permissions": ["accounting"]}),
        ),
        (
            &ds,
            json!({"email": "d@example.ch", "role": "member", "permissions": ["users"]}),
        ),
        (&ads, json!({"email": "e@example.ch", "role": "admin"})),
        (
            &ads,
            json!({"email": "f@example.ch", "role": "member", "permissions": ["users"]}),
        ),
        (&dels, json!({"email": "g@example.ch", "role": "member"})),
    ] {
        made.push(invite(&app, &org, who, body).await);
    }
    let [
        by_removed,
        by_leaver,
        by_demoted_acc,
        by_demoted_users,
        by_admin_admin,
        by_admin_member,
        by_deleted,
    ]: [String; 7] = made.try_into().unwrap();
    // Keep the mailed link of the first: it stops working too.
    let token = link_token(
        &app.wait_for_mail_containing("a@example.ch", "/accept-invitation?token=")
            .await,
        "/accept-invitation",
    );
    assert_eq!(pending_ids(&app, &org, &ls).await.len(), 7);

    // Removed; left; lost `accounting` (keeps `users`); admin made a member with `users`;
    // account deleted.
    let members = format!("/v1/orgs/{org}/members");
    let changes = [
        (
            Method::DELETE,
            format!("{members}/{}", removed.id),
            &ls,
            None,
            204,
        ),
        (
            Method::POST,
            format!("/v1/orgs/{org}/leave"),
            &lvs,
            None,
            204,
        ),
        (
            Method::PATCH,
            format!("{members}/{}", demoted.id),
            &ls,
            Some(json!({"permissions": ["users"]})),
            200,
        ),
        (
            Method::PATCH,
            format!("{members}/{}", admin.id),
            &ls,
            Some(json!({"role": "member", "permissions": ["users"]})),
            200,
        ),
        (Method::DELETE, "/v1/me".to_string(), &dels, None, 204),
    ];
    for (method, path, who, body, status) in changes {
        ok(send(&app, method, &path, who, body).await, status).await;
    }

    // What they could still make stands; the rest is void.
    let mut left = pending_ids(&app, &org, &ls).await;
    left.sort();
    let mut standing = vec![by_demoted_users, by_admin_member];
    standing.sort();
    assert_eq!(left, standing);
    for gone in [
        by_removed,
        by_leaver,
        by_demoted_acc,
        by_admin_admin,
        by_deleted,
    ] {
        assert!(!left.contains(&gone));
    }
    let (_, invitee) = app.signed_in("a@example.ch").await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &invitee,
        Some(json!({"token": token})),
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn f8_an_invitation_ends_when_its_maker_could_no_longer_make_it_even_if_made_before_the_rule()
{
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let removed = app.create_user("removed@example.ch").await;
    let org = app
        .an_org(&ls)
        .named("Void Sàrl")
        .with_member(&removed, "member", &["users"])
        .await
        .id;
    ok(
        send(
            &app,
            Method::DELETE,
            &format!("/v1/orgs/{org}/members/{}", removed.id),
            &ls,
            None,
        )
        .await,
        204,
    )
    .await;

    // An invitation made before this rule by someone since gone is refused at acceptance too.
    // Written directly: the API no longer lets such an invitation stand.
    let secret = leman::auth::secrets::new_secret("");
    let now = leman::db::now();
    let row = leman::models::invitations::Invitation {
        id: leman::db::new_id(leman::services::invitations::ID_PREFIX),
        organization_id: org.clone(),
        email: "h@example.ch".into(),
        role: leman::domain::orgs::Role::Member,
        permissions: Default::default(),
        token_hash: leman::auth::secrets::hash(&secret),
        invited_by: removed.id.clone(),
        expires_at: now + chrono::Duration::days(7),
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
        created_at: now,
    };
    app.with_conn(move |c| leman::models::invitations::insert(c, &row).unwrap())
        .await;
    let (_, h) = app.signed_in("h@example.ch").await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &h,
        Some(json!({"token": secret})),
        400,
        "invalid_token",
    )
    .await;
    let mine = ok(
        send(&app, Method::GET, "/v1/me/organizations", &h, None).await,
        200,
    )
    .await;
    assert_eq!(mine["data"], json!([]));
}

/// The outbox rows of invitation mails to `to`: (subject, text, html).
async fn invitation_mails(app: &TestApp, to: &str) -> Vec<(String, String, String)> {
    use diesel::prelude::*;
    use leman::db::schema::mails as m;
    let to = to.to_string();
    app.with_conn(move |c| {
        m::table
            .filter(m::to_address.eq(to))
            .filter(m::template.eq("invitation"))
            .select((m::subject, m::text_body, m::html_body))
            .load(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn f7_an_organisation_sends_at_most_20_invitations_an_hour_and_3_a_day_to_one_address() {
    let app = TestApp::spawn().await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Busy Sàrl").await;
    let inv = format!("/v1/orgs/{org}/invitations");
    for n in 0..20 {
        invite(
            &app,
            &org,
            &ls,
            json!({"email": format!("n{n}@example.ch"), "role": "member"}),
        )
        .await;
    }
    let before = app.activities_of(&legal.id).await.len();
    let res = send(
        &app,
        Method::POST,
        &inv,
        &ls,
        Some(json!({"email": "n20@example.ch", "role": "member"})),
    )
    .await;
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3601).contains(&wait), "{wait}");
    let body = problem(res, 429, "rate_limited").await;
    assert!(
        body["detail"].as_str().unwrap().contains("20 invitations"),
        "{body}"
    );
    assert!(invitation_mails(&app, "n20@example.ch").await.is_empty());
    assert_eq!(
        app.activities_of(&legal.id).await.len(),
        before,
        "nothing recorded"
    );
    assert_eq!(pending_ids(&app, &org, &ls).await.len(), 20);

    // One address: three invitations a day from one organisation (replacements count), then 429;
    // another organisation is not held back by it.
    let other = app.create_org(&ls, "Calm Sàrl").await;
    for _ in 0..3 {
        invite(
            &app,
            &other,
            &ls,
            json!({"email": "ana@example.ch", "role": "member"}),
        )
        .await;
    }
    let res = send(
        &app,
        Method::POST,
        &format!("/v1/orgs/{other}/invitations"),
        &ls,
        Some(json!({"email": "ana@example.ch", "role": "member"})),
    )
    .await;
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_000..=86_401).contains(&wait), "{wait}");
    problem(res, 429, "rate_limited").await;
    assert_eq!(invitation_mails(&app, "ana@example.ch").await.len(), 3);
    let third = app.create_org(&ls, "Third Sàrl").await;
    invite(
        &app,
        &third,
        &ls,
        json!({"email": "ana@example.ch", "role": "member"}),
    )
    .await;
    // Once the hour has passed, the first organisation invites again.
    app.with_conn(|c| {
        use diesel::prelude::*;
        use leman::db::schema::invitations as i;
        diesel::update(i::table)
            .set(i::created_at.eq(leman::db::now() - chrono::Duration::minutes(61)))
            .execute(c)
            .unwrap()
    })
    .await;
    invite(
        &app,
        &org,
        &ls,
        json!({"email": "n20@example.ch", "role": "member"}),
    )
    .await;
}

#[tokio::test]
async fn f7_names_a_stranger_chose_reach_the_invitation_mail_as_inert_text() {
    let app = TestApp::spawn().await;
    let (legal, ls) = app.signed_in("legal@example.ch").await;
    let id = legal.id.clone();
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::users as u;
        diesel::update(u::table.find(id))
            .set((
                u::first_name.eq("Support: call www.evil.example"),
                u::last_name.eq("\u{202E}moc.live"),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
    let org = app
        .create_org(
            &ls,
            r#"<a href="https://evil.example/claim">Claim</a> x@evil.example"#,
        )
        .await;
    invite(
        &app,
        &org,
        &ls,
        json!({"email": "ana@example.ch", "role": "member"}),
    )
    .await;
    let mails = invitation_mails(&app, "ana@example.ch").await;
    let (subject, text, html) = &mails[0];
    for part in [subject, text, html] {
        // No address, link or host of the stranger's survives whole, and no direction override.
        for whole in ["evil.example", "://evil", "x@evil", "\u{202E}"] {
            assert!(!part.contains(whole), "{whole:?} in {part}");
        }
        assert!(part.contains("evil.\u{200B}example"), "{part}");
    }
    // The names are there to read, escaped in HTML.
    assert!(html.contains("&lt;a href="), "{html}");
    for tag in html.split("<a ").skip(1) {
        let tag = &tag[..tag.find('>').unwrap()];
        assert!(
            tag.starts_with(
                "href=\"https:&#x2f;&#x2f;app.leman.test&#x2f;accept-invitation?token="
            ),
            "a stranger's link: {tag}"
        );
    }
    assert!(
        text.contains("Support:\u{200B} call www.\u{200B}evil.\u{200B}example"),
        "{text}"
    );
    // The one link is Leman's.
    assert_eq!(text.matches("://").count(), 1, "{text}");
    assert!(text.contains("/accept-invitation?token="), "{text}");
}

#[tokio::test]
async fn f1_only_a_verified_login_accepts_an_invitation() {
    let app = TestApp::spawn().await;
    let (_, ls) = app.signed_in("legal@example.ch").await;
    let org = app.create_org(&ls, "Verified Sàrl").await;
    invite(
        &app,
        &org,
        &ls,
        json!({"email": "ana@example.ch", "role": "member"}),
    )
    .await;
    let token = link_token(
        &app.wait_for_mail_containing("ana@example.ch", "/accept-invitation?token=")
            .await,
        "/accept-invitation",
    );
    // Someone signs up with the invited address: without the verification link they cannot
    // even sign in, so there is no caller to accept with.
    let res = app
        .post_json(
            "/v1/users",
            json!({"email": "ana@example.ch", "password": crate::helpers::PASSWORD, "first_name": "Eve", "last_name": "Intruder", "language": "en", "timezone": "Europe/Zurich"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let res = app
        .post_json(
            "/v1/auth/login",
            json!({"email": "ana@example.ch", "password": crate::helpers::PASSWORD}),
        )
        .await;
    problem(res, 403, "email_not_verified").await;
    // And should a session of an unverified login exist, accepting is refused all the same.
    let (other, os) = app.signed_in("bob@example.ch").await;
    invite(
        &app,
        &org,
        &ls,
        json!({"email": "bob@example.ch", "role": "member"}),
    )
    .await;
    let bob_token = link_token(
        &app.wait_for_mail_containing("bob@example.ch", "/accept-invitation?token=")
            .await,
        "/accept-invitation",
    );
    let id = other.id.clone();
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::users as u;
        diesel::update(u::table.find(id))
            .set(u::email_verified_at.eq(None::<chrono::NaiveDateTime>))
            .execute(c)
            .unwrap()
    })
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/invitations/accept",
        &os,
        Some(json!({"token": bob_token})),
        403,
        "email_not_verified",
    )
    .await;
    assert_eq!(
        pending_ids(&app, &org, &ls).await.len(),
        2,
        "both invitations still wait"
    );
    let _ = token;
}
