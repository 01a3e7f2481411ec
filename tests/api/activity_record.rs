//! Part 15 of the accounts issue: every route that changes state writes exactly one activity
//! record in its transaction. This walks every write operation of the committed spec: each must
//! have a scenario below (a new route fails the test until it gets one), and each scenario's
//! successful call must add exactly the expected number of rows.

use std::collections::BTreeSet;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::helpers::fresh_domain;
use crate::helpers::{PASSWORD, TestApp, create_token, link_token, send};

/// Rows a successful call adds. Zero only where the issue says so: a refresh is not a change
/// of the account's state.
const EXPECTED: &[(&str, i64)] = &[
    ("create_user", 1),
    ("verify_email", 1),
    ("resend_verification", 1),
    ("login", 1),
    ("refresh_session", 0),
    ("logout", 1),
    ("update_me", 1),
    ("update_newsletter_subscriptions", 1),
    ("create_feedback", 1),
    ("create_token", 1),
    ("revoke_token", 1),
    ("delete_me", 1),
    ("end_session", 1),
    ("end_other_sessions", 1),
    ("update_security_settings", 1),
    ("unlock_account", 1),
    ("request_unlock_link", 1),
    ("change_password", 1),
    ("request_password_reset", 1),
    ("reset_password", 1),
    ("change_login_email", 1),
    ("confirm_login_email", 1),
    ("set_recovery_email", 1),
    ("confirm_recovery_email", 1),
    ("resend_recovery_email", 1),
    ("delete_pending_recovery_email", 1),
    ("start_totp_enrolment", 1),
    ("confirm_totp_enrolment", 1),
    ("regenerate_recovery_codes", 1),
    ("disable_two_factor", 1),
    ("login_mfa", 1),
    ("reauthenticate", 1),
    ("create_organization", 1),
    ("update_organization", 1),
    ("delete_organization", 1),
    ("update_security_policy", 1),
    ("update_billing_settings", 1),
    ("leave_organization", 1),
    ("update_member", 1),
    ("remove_member", 1),
    ("unlock_member", 1),
    ("create_invitation", 1),
    ("revoke_invitation", 1),
    ("accept_invitation", 1),
    ("create_order", 1),
    ("pay_order", 1),
    ("renew_products", 1),
    ("create_pro_forma", 1),
    ("set_auto_renewal", 1),
    // One record per product: one here.
    ("set_auto_renewals", 1),
    ("pay_invoice", 1),
    ("create_payment_method", 1),
    ("delete_payment_method", 1),
    ("set_default_payment_method", 1),
    ("top_up_prepaid_account", 1),
    ("withdraw_prepaid_money", 1),
    ("receive_payment_webhook", 1),
    ("request_cancellation", 1),
    ("confirm_cancellation", 1),
    ("withdraw_cancellation", 1),
    ("update_product", 1),
    ("withdraw_product_change", 1),
    // One in each organisation.
    ("move_product", 2),
    ("request_transfer_out", 1),
    ("cancel_transfer_out", 1),
    ("reject_transfer_out", 1),
    ("update_domain_contacts", 1),
    ("set_domain_privacy", 1),
    ("set_domain_lock", 1),
    // The first of the two owners' confirmations (the second applies the change: one more).
    ("confirm_domain_owner_change", 1),
    ("create_invoice_export", 1),
    ("create_webhook_endpoint", 1),
    ("update_webhook_endpoint", 1),
    ("delete_webhook_endpoint", 1),
    ("rotate_webhook_endpoint_secret", 1),
    ("retry_webhook_delivery", 1),
];

/// Locks `user` by failing its login until the (lowered) threshold, returning the unlock link token.
async fn lock(app: &TestApp, user: &crate::helpers::TestUser) -> String {
    app.set_lock_threshold(&user.id, 3).await;
    for _ in 0..3 {
        app.post_json(
            "/v1/auth/login",
            json!({"email": user.email, "password": "wrong wrong wrong"}),
        )
        .await;
    }
    link_token(
        &app.wait_for_mail_containing(&user.email, "/unlock?token=")
            .await,
        "/unlock",
    )
}

/// Activities the registry's jobs write on their own time (a domain a scenario paid for is
/// registered, or renewed, by a job that may finish during a later scenario): not the route's.
const BY_DOMAIN_JOBS: &[&str] = &[
    "domain.registered",
    "domain.registration_failed",
    "domain.renewed",
];

async fn count(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        use leman::db::schema::activities;
        activities::table
            .filter(activities::action.ne_all(BY_DOMAIN_JOBS))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    })
    .await
}

fn write_operations() -> BTreeSet<String> {
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut ops = BTreeSet::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for (method, op) in item.as_object().unwrap() {
            if ["post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.insert(op["operationId"].as_str().unwrap().to_string());
            }
        }
    }
    ops
}

/// Sets up what `operation` needs, then performs one successful call of it and returns how
/// many activity rows that call added.
async fn scenario(app: &TestApp, operation: &str, n: usize) -> i64 {
    let email = format!("walker{n}@example.ch");
    match operation {
        "create_user" => {
            let before = count(app).await;
            let body =
                json!({"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"});
            assert_eq!(app.post_json("/v1/users", body).await.status(), 202);
            count(app).await - before
        }
        "verify_email" | "resend_verification" => {
            let body =
                json!({"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"});
            app.post_json("/v1/users", body).await;
            let text = app
                .wait_for_mail_containing(&email, "/verify-email?token=")
                .await;
            let before = count(app).await;
            let res = if operation == "verify_email" {
                app.post_json(
                    "/v1/users/verify-email",
                    json!({"token": link_token(&text, "/verify-email")}),
                )
                .await
            } else {
                app.post_json("/v1/users/verify-email/resend", json!({"email": email}))
                    .await
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "login" => {
            let user = app.create_user(&email).await;
            let before = count(app).await;
            app.login(&user).await;
            count(app).await - before
        }
        "refresh_session" | "logout" | "update_me" => {
            let (_, session) = app.signed_in(&email).await;
            let before = count(app).await;
            let res = match operation {
                "refresh_session" => {
                    app.post_json(
                        "/v1/auth/refresh",
                        json!({"refresh_token": session.refresh_token}),
                    )
                    .await
                }
                "logout" => send(app, Method::POST, "/v1/auth/logout", &session, None).await,
                _ => {
                    send(
                        app,
                        Method::PATCH,
                        "/v1/me",
                        &session,
                        Some(json!({"language": "it"})),
                    )
                    .await
                }
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "update_newsletter_subscriptions" | "create_feedback" | "create_token" | "delete_me" => {
            let (_, session) = app.signed_in(&email).await;
            let before = count(app).await;
            let res =
                match operation {
                    "update_newsletter_subscriptions" => {
                        send(
                            app,
                            Method::PUT,
                            "/v1/me/newsletter-subscriptions",
                            &session,
                            Some(json!({"topics": ["product_news"]})),
                        )
                        .await
                    }
                    "create_feedback" => {
                        send(
                            app,
                            Method::POST,
                            "/v1/feedback",
                            &session,
                            Some(json!({"service": "kchat", "language": "fr", "message": "Un avis sur kChat."})),
                        )
                        .await
                    }
                    "create_token" => send(
                        app,
                        Method::POST,
                        "/v1/me/tokens",
                        &session,
                        Some(json!({"name": "CI", "kind": "personal", "scopes": ["account:read"]})),
                    )
                    .await,
                    _ => send(app, Method::DELETE, "/v1/me", &session, None).await,
                };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "revoke_token" => {
            let (_, session) = app.signed_in(&email).await;
            let (id, _) = create_token(app, &session, &["account:read"]).await;
            let before = count(app).await;
            let res = send(
                app,
                Method::DELETE,
                &format!("/v1/me/tokens/{id}"),
                &session,
                None,
            )
            .await;
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "end_session" | "end_other_sessions" | "update_security_settings" => {
            let user = app.create_user(&email).await;
            let other = app.login(&user).await;
            let session = app.login(&user).await;
            let before = count(app).await;
            let res = match operation {
                "end_session" => send(app, Method::DELETE, &format!("/v1/me/sessions/{}", other.session_id), &session, None).await,
                "end_other_sessions" => send(app, Method::DELETE, "/v1/me/sessions", &session, None).await,
                _ => send(app, Method::PUT, "/v1/me/security-settings", &session, Some(json!({"notify_on_login_success": true, "notify_on_login_failure": true, "lock_after_failed_logins": 5}))).await,
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "unlock_account" | "request_unlock_link" => {
            let user = app.create_user(&email).await;
            let token = lock(app, &user).await;
            let before = count(app).await;
            let res = if operation == "unlock_account" {
                app.post_json("/v1/auth/unlock", json!({"token": token}))
                    .await
            } else {
                app.post_json("/v1/auth/unlock/request", json!({"email": user.email}))
                    .await
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "change_password" | "change_login_email" | "set_recovery_email" => {
            let (_, session) = app.signed_in(&email).await;
            let before = count(app).await;
            let res = match operation {
                "change_password" => send(app, Method::PUT, "/v1/me/password", &session, Some(json!({"current_password": PASSWORD, "new_password": "a completely different passphrase"}))).await,
                "change_login_email" => {
                    let new = format!("moved{n}@example.ch");
                    send(app, Method::PUT, "/v1/me/login-email", &session, Some(json!({"new_email": new, "new_email_confirmation": new, "password": PASSWORD}))).await
                }
                _ => send(app, Method::PUT, "/v1/me/recovery-email", &session, Some(json!({"email": format!("backup{n}@example.ch")}))).await,
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "request_password_reset" | "reset_password" => {
            let user = app.create_user(&email).await;
            let before_request = count(app).await;
            let res = app
                .post_json(
                    "/v1/auth/password-reset/request",
                    json!({"email": user.email}),
                )
                .await;
            assert!(res.status().is_success());
            // The request is queued; its job mails the link and writes the record.
            let token = link_token(
                &app.wait_for_mail_containing(&user.email, "/reset-password?token=")
                    .await,
                "/reset-password",
            );
            if operation == "request_password_reset" {
                return count(app).await - before_request;
            }
            let before = count(app).await;
            let res = app
                .post_json(
                    "/v1/auth/password-reset",
                    json!({"token": token, "new_password": "a completely different passphrase"}),
                )
                .await;
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "confirm_login_email" => {
            let (_, session) = app.signed_in(&email).await;
            let new = format!("moved{n}@example.ch");
            send(
                app,
                Method::PUT,
                "/v1/me/login-email",
                &session,
                Some(
                    json!({"new_email": new, "new_email_confirmation": new, "password": PASSWORD}),
                ),
            )
            .await;
            let token = link_token(
                &app.wait_for_mail_containing(&new, "/confirm-login-email?token=")
                    .await,
                "/confirm-login-email",
            );
            let before = count(app).await;
            let res = app
                .post_json("/v1/users/confirm-login-email", json!({"token": token}))
                .await;
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "confirm_recovery_email" | "resend_recovery_email" | "delete_pending_recovery_email" => {
            let (_, session) = app.signed_in(&email).await;
            let backup = format!("backup{n}@example.ch");
            send(
                app,
                Method::PUT,
                "/v1/me/recovery-email",
                &session,
                Some(json!({"email": backup})),
            )
            .await;
            let token = link_token(
                &app.wait_for_mail_containing(&backup, "/confirm-recovery-email?token=")
                    .await,
                "/confirm-recovery-email",
            );
            let before = count(app).await;
            let res = match operation {
                "confirm_recovery_email" => {
                    app.post_json("/v1/me/recovery-email/confirm", json!({"token": token}))
                        .await
                }
                "resend_recovery_email" => {
                    send(
                        app,
                        Method::POST,
                        "/v1/me/recovery-email/resend",
                        &session,
                        None,
                    )
                    .await
                }
                _ => {
                    send(
                        app,
                        Method::DELETE,
                        "/v1/me/recovery-email/pending",
                        &session,
                        None,
                    )
                    .await
                }
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "start_totp_enrolment" | "confirm_totp_enrolment" => {
            let (_, session) = app.signed_in(&email).await;
            if operation == "start_totp_enrolment" {
                let before = count(app).await;
                let res = send(app, Method::POST, "/v1/me/two-factor/totp", &session, None).await;
                assert!(res.status().is_success(), "{operation}: {}", res.status());
                return count(app).await - before;
            }
            let res = send(app, Method::POST, "/v1/me/two-factor/totp", &session, None).await;
            let secret = res.json::<serde_json::Value>().await.unwrap()["secret"]
                .as_str()
                .unwrap()
                .to_string();
            let before = count(app).await;
            let res = send(
                app,
                Method::POST,
                "/v1/me/two-factor/totp/confirm",
                &session,
                Some(json!({"code": crate::helpers::totp_code(&secret, 0)})),
            )
            .await;
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "regenerate_recovery_codes" | "disable_two_factor" | "login_mfa" | "reauthenticate" => {
            let (user, session) = app.signed_in(&email).await;
            let two_factor = app.enable_two_factor(&session).await;
            let before;
            let res = match operation {
                "regenerate_recovery_codes" => {
                    before = count(app).await;
                    send(
                        app,
                        Method::POST,
                        "/v1/me/two-factor/recovery-codes",
                        &session,
                        None,
                    )
                    .await
                }
                "disable_two_factor" => {
                    before = count(app).await;
                    send(app, Method::DELETE, "/v1/me/two-factor", &session, None).await
                }
                "login_mfa" => {
                    let mfa_token = app.mfa_token(&user).await;
                    let code = app.next_totp_code(&user.id, &two_factor).await;
                    before = count(app).await;
                    app.post_json(
                        "/v1/auth/login/mfa",
                        json!({"mfa_token": mfa_token, "code": code}),
                    )
                    .await
                }
                _ => {
                    let code = app.next_totp_code(&user.id, &two_factor).await;
                    before = count(app).await;
                    send(
                        app,
                        Method::POST,
                        "/v1/auth/reauthenticate",
                        &session,
                        Some(json!({"password": PASSWORD, "code": code})),
                    )
                    .await
                }
            };
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            count(app).await - before
        }
        "create_organization"
        | "update_organization"
        | "delete_organization"
        | "update_security_policy"
        | "update_billing_settings"
        | "leave_organization"
        | "update_member"
        | "remove_member"
        | "unlock_member"
        | "create_invitation"
        | "revoke_invitation"
        | "accept_invitation" => org_scenario(app, operation, &email).await,
        "create_order"
        | "pay_order"
        | "renew_products"
        | "create_pro_forma"
        | "set_auto_renewal"
        | "set_auto_renewals"
        | "pay_invoice"
        | "create_payment_method"
        | "delete_payment_method"
        | "set_default_payment_method"
        | "top_up_prepaid_account"
        | "withdraw_prepaid_money"
        | "receive_payment_webhook" => billing_scenario(app, operation, &email).await,
        "request_cancellation" | "confirm_cancellation" | "withdraw_cancellation" => {
            crate::lifecycle::activity_scenario(app, operation, &email).await
        }
        "update_product" | "withdraw_product_change" | "move_product" => {
            crate::product_changes::activity_scenario(app, operation, &email).await
        }
        "request_transfer_out" | "cancel_transfer_out" | "reject_transfer_out" => {
            crate::transfer_out::activity_scenario(app, operation, &email).await
        }
        "update_domain_contacts"
        | "set_domain_privacy"
        | "set_domain_lock"
        | "confirm_domain_owner_change" => {
            crate::domains::activity_scenario(app, operation, &email).await
        }
        "create_invoice_export" => {
            crate::invoice_exports::activity_scenario(app, operation, &email).await
        }
        "create_webhook_endpoint"
        | "update_webhook_endpoint"
        | "delete_webhook_endpoint"
        | "rotate_webhook_endpoint_secret"
        | "retry_webhook_delivery" => {
            crate::webhooks::activity_scenario(app, operation, &email).await
        }
        other => panic!("no scenario for {other}"),
    }
}

/// The organisations' write routes, each from an organisation with a legal representative
/// (with 2FA) and a plain member.
async fn org_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    let (legal, session) = app.signed_in(email).await;
    let member = app.create_user(&format!("member.{email}")).await;
    let member_session = app.login(&member).await;
    let org = if operation == "create_organization" {
        String::new()
    } else {
        app.create_org(&session, "Walker Sàrl").await
    };
    if !["create_organization", "delete_organization"].contains(&operation) {
        app.add_member(&org, &member.id, "member", &[]).await;
    }
    if operation == "update_security_policy" {
        app.enable_two_factor(&session).await;
    }
    let invitation = if operation == "revoke_invitation" {
        app.pending_invitation(&org, &legal.id, "someone@example.ch")
            .await
    } else {
        String::new()
    };
    let mut accept_token = String::new();
    if operation == "accept_invitation" {
        let newcomer = format!("new.{email}");
        send(
            app,
            Method::POST,
            &format!("/v1/orgs/{org}/invitations"),
            &session,
            Some(json!({"email": newcomer, "role": "member", "permissions": []})),
        )
        .await;
        accept_token = link_token(
            &app.wait_for_mail_containing(&newcomer, "/accept-invitation?token=")
                .await,
            "/accept-invitation",
        );
    }
    if operation == "unlock_member" {
        lock(app, &member).await;
    }
    let newcomer_session = if operation == "accept_invitation" {
        Some(app.signed_in(&format!("new.{email}")).await.1)
    } else {
        None
    };
    let before = count(app).await;
    let token = &session.access_token;
    let m = &member.id;
    let res = match operation {
        "create_organization" => send(app, Method::POST, "/v1/orgs", token, Some(json!({"name": "Walker", "country": "FR", "currency": "EUR",
                "billing_address": {"line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris"}}))).await,
        "update_organization" => send(app, Method::PATCH, &format!("/v1/orgs/{org}"), token, Some(json!({"name": "Walker SA"}))).await,
        "delete_organization" => send(app, Method::DELETE, &format!("/v1/orgs/{org}"), token, None).await,
        "update_security_policy" => send(app, Method::PUT, &format!("/v1/orgs/{org}/security-policy"), token, Some(json!({"require_two_factor": true}))).await,
        "update_billing_settings" => send(app, Method::PUT, &format!("/v1/orgs/{org}/billing-settings"), token, Some(json!({"attach_invoice_pdf": true, "invoice_language": "de", "invoice_email": "compta@example.ch"}))).await,
        "leave_organization" => send(app, Method::POST, &format!("/v1/orgs/{org}/leave"), &member_session, None).await,
        "update_member" => send(app, Method::PATCH, &format!("/v1/orgs/{org}/members/{m}"), token, Some(json!({"permissions": ["accounting"]}))).await,
        "remove_member" => send(app, Method::DELETE, &format!("/v1/orgs/{org}/members/{m}"), token, None).await,
        "unlock_member" => send(app, Method::POST, &format!("/v1/orgs/{org}/members/{m}/unlock"), token, None).await,
        "create_invitation" => send(app, Method::POST, &format!("/v1/orgs/{org}/invitations"), token, Some(json!({"email": "invitee@example.ch", "role": "member", "permissions": ["products"]}))).await,
        "revoke_invitation" => send(app, Method::DELETE, &format!("/v1/orgs/{org}/invitations/{invitation}"), token, None).await,
        _ => send(app, Method::POST, "/v1/invitations/accept", &newcomer_session.unwrap().access_token, Some(json!({"token": accept_token}))).await,
    };
    assert!(res.status().is_success(), "{operation}: {}", res.status());
    count(app).await - before
}

/// The billing write routes, from an organisation with a card and an open order.
async fn billing_scenario(app: &TestApp, operation: &str, email: &str) -> i64 {
    let (_, s) = app.signed_in(email).await;
    let org = app.create_org(&s, "Billing Sàrl").await;
    let card = app
        .add_payment_method(&s, &org, json!({"type": "card", "token": "tok_visa"}))
        .await;
    let twint = app
        .add_payment_method(&s, &org, json!({"type": "twint"}))
        .await;
    let order = app
        .order(
            &s,
            &org,
            json!([{"offer_id": "domain-ch", "billing_period": "P1Y", "domain_name": fresh_domain("ch")}]),
        )
        .await;
    let (order_id, invoice_id) = (
        order["id"].as_str().unwrap(),
        order["invoice_id"].as_str().unwrap(),
    );
    let mut reference = String::new();
    if operation == "receive_payment_webhook" {
        let res = send(
            app,
            Method::POST,
            &format!("/v1/orgs/{org}/orders/{order_id}/payments"),
            &s,
            Some(json!({"method": "payment_method", "payment_method_id": twint})),
        )
        .await;
        assert_eq!(res.status(), 202);
        let p: serde_json::Value = res.json().await.unwrap();
        reference = crate::helpers::sandbox_reference(p["id"].as_str().unwrap());
    }
    // Paid by card: the product runs, with auto-renewal on (R39).
    if operation == "renew_products" || operation.starts_with("set_auto_renewal") {
        let res = send(
            app,
            Method::POST,
            &format!("/v1/orgs/{org}/orders/{order_id}/payments"),
            &s,
            Some(json!({"method": "payment_method", "payment_method_id": card})),
        )
        .await;
        assert_eq!(res.status(), 201);
        // A domain runs once the registry confirmed it.
        let product = order["products"][0]["id"].as_str().unwrap();
        app.wait_until_provisioned(&s, &org, product).await;
    }
    if operation == "withdraw_prepaid_money" {
        let res = send(app, Method::POST, &format!("/v1/orgs/{org}/prepaid-account/top-ups"), &s, Some(json!({"amount": {"amount": "50.00", "currency": "CHF"}, "payment_method_id": card}))).await;
        assert_eq!(res.status(), 201);
    }
    let before = count(app).await;
    let t = &s.access_token;
    let by_card = json!({"method": "payment_method", "payment_method_id": card});
    let res = match operation {
        "create_order" => send(app, Method::POST, &format!("/v1/orgs/{org}/orders"), t, Some(json!({"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]}))).await,
        "pay_order" => send(app, Method::POST, &format!("/v1/orgs/{org}/orders/{order_id}/payments"), t, Some(by_card.clone())).await,
        "renew_products" => send(app, Method::POST, &format!("/v1/orgs/{org}/renewals"), t, Some(json!({"items": [{"product_id": order["products"][0]["id"], "billing_period": "P1Y"}]}))).await,
        "create_pro_forma" => send(app, Method::POST, &format!("/v1/orgs/{org}/pro-forma-invoices"), t, Some(json!({"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1M"}]}))).await,
        "set_auto_renewal" => send(app, Method::PUT, &format!("/v1/orgs/{org}/products/{}/auto-renewal", order["products"][0]["id"].as_str().unwrap()), t, Some(json!({"enabled": false}))).await,
        "set_auto_renewals" => send(app, Method::POST, &format!("/v1/orgs/{org}/renewals/auto-renewal"), t, Some(json!({"product_ids": [order["products"][0]["id"]], "enabled": false}))).await,
        "pay_invoice" => send(app, Method::POST, &format!("/v1/orgs/{org}/invoices/{invoice_id}/payments"), t, Some(by_card.clone())).await,
        "create_payment_method" => send(app, Method::POST, &format!("/v1/orgs/{org}/payment-methods"), t, Some(json!({"type": "bank_transfer", "iban": "CH93 0076 2011 6238 5295 7"}))).await,
        "delete_payment_method" => send(app, Method::DELETE, &format!("/v1/orgs/{org}/payment-methods/{twint}"), t, None).await,
        "set_default_payment_method" => send(app, Method::POST, &format!("/v1/orgs/{org}/payment-methods/prepaid/default"), t, None).await,
        "top_up_prepaid_account" => send(app, Method::POST, &format!("/v1/orgs/{org}/prepaid-account/top-ups"), t, Some(json!({"amount": {"amount": "20.00", "currency": "CHF"}, "payment_method_id": card}))).await,
        "withdraw_prepaid_money" => send(app, Method::POST, &format!("/v1/orgs/{org}/prepaid-account/withdrawals"), t, Some(json!({"amount": {"amount": "30.00", "currency": "CHF"}, "iban": "CH93 0076 2011 6238 5295 7"}))).await,
        _ => {
            let res = app
                .webhook(
                    json!({"id": format!("evt_{email}"), "type": "payment.succeeded", "data": {"payment_reference": reference}}),
                    chrono::Utc::now().timestamp(),
                )
                .await;
            assert!(res.status().is_success(), "{operation}: {}", res.status());
            return count(app).await - before;
        }
    };
    assert!(res.status().is_success(), "{operation}: {}", res.status());
    count(app).await - before
}

#[tokio::test]
async fn every_write_route_writes_exactly_one_activity_record() {
    let in_spec = write_operations();
    let covered: BTreeSet<String> = EXPECTED.iter().map(|(op, _)| op.to_string()).collect();
    let missing: Vec<_> = in_spec.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "write operations without a scenario here: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&in_spec).collect();
    assert!(
        stale.is_empty(),
        "scenarios for operations no longer in the spec: {stale:?}"
    );

    // One server for every scenario: more sign-ins than a person makes in a minute.
    let app = TestApp::builder()
        .env("LEMAN_AUTH_RATE_PER_IP", "100000")
        .env(
            "LEMAN_PAYMENT_WEBHOOK_SECRETS",
            crate::helpers::WEBHOOK_SECRET,
        )
        .spawn()
        .await;
    for (n, (operation, expected)) in EXPECTED.iter().enumerate() {
        let added = scenario(&app, operation, n).await;
        assert_eq!(added, *expected, "{operation} wrote {added} activity rows");
    }
}

#[tokio::test]
async fn reads_and_failures_for_unknown_accounts_write_nothing() {
    let app = TestApp::spawn().await;
    let (_, session) = app.signed_in("reader@example.ch").await;
    let before = count(&app).await;
    send(&app, Method::GET, "/v1/me", &session, None).await;
    app.post_json(
        "/v1/auth/login",
        json!({"email": "nobody@example.ch", "password": "whatever it is"}),
    )
    .await;
    app.post_json(
        "/v1/users/verify-email/resend",
        json!({"email": "nobody@example.ch"}),
    )
    .await;
    app.post_json("/v1/users/verify-email", json!({"token": "made-up"}))
        .await;
    assert_eq!(count(&app).await, before);
}
