//! Feedback and suggestions per service and language (R53, issue 14 part 6).

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestSession, create_token, my_activity_details, ok, problem, send, send_with,
};

const LANGUAGES: [&str; 5] = ["fr", "en", "de", "it", "es"];

async fn post(app: &TestApp, who: &str, body: Value) -> reqwest::Response {
    send(app, Method::POST, "/v1/feedback", who, Some(body)).await
}

fn body(service: &str, language: &str, message: &str) -> Value {
    json!({"service": service, "language": language, "message": message})
}

async fn rows(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        use leman::db::schema::feedback;
        feedback::table.count().get_result::<i64>(c).unwrap()
    })
    .await
}

async fn stored_messages(app: &TestApp) -> Vec<String> {
    app.with_conn(|c| {
        use leman::db::schema::feedback;
        feedback::table
            .order(feedback::created_at.asc())
            .select(feedback::message)
            .load::<String>(c)
            .unwrap()
    })
    .await
}

fn token(s: &TestSession) -> &str {
    &s.access_token
}

#[tokio::test]
async fn r53_services_are_listed_publicly_with_the_languages_each_reads() {
    let app = TestApp::spawn().await;
    let list = ok(app.get("/v1/feedback/services").await, 200).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 24, "the seed's feedback page lists 24 services");
    assert_eq!(data[0]["id"], "euria");
    assert_eq!(
        data[1],
        json!({"id": "domains", "name": "Domains", "languages": LANGUAGES})
    );
    let french_only: Vec<&str> = data
        .iter()
        .filter(|s| s["languages"] == json!(["fr"]))
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(french_only, ["kchat", "kmeet"]);
    for s in data {
        if s["id"] != "kchat" && s["id"] != "kmeet" {
            assert_eq!(s["languages"], json!(LANGUAGES), "{s}");
        }
    }
}

#[tokio::test]
async fn r53_feedback_is_accepted_in_each_language_a_service_reads() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-langs@example.ch").await;
    for language in LANGUAGES {
        let message = format!("A suggestion about kDrive, written in {language}.");
        let res = post(&app, token(&s), body("kdrive", language, &message)).await;
        let got = ok(res, 201).await;
        assert!(got["id"].as_str().unwrap().starts_with("fbk_"), "{got}");
        assert_eq!(got["service"], "kdrive");
        assert_eq!(got["language"], language);
        assert_eq!(got["message"], message);
        assert!(got["created_at"].as_str().unwrap().ends_with('Z'), "{got}");
    }
    assert_eq!(rows(&app).await, 5);
}

#[tokio::test]
async fn r53_french_only_services_refuse_every_other_language() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-french@example.ch").await;
    for service in ["kchat", "kmeet"] {
        for language in ["en", "de", "it", "es"] {
            let res = post(
                &app,
                token(&s),
                body(service, language, "Ceci est un avis."),
            )
            .await;
            let p = problem(res, 422, "language_not_offered").await;
            assert_eq!(p["errors"][0]["field"], "/language", "{p}");
            assert_eq!(p["errors"][0]["code"], "language_not_offered", "{p}");
            assert!(p["detail"].as_str().unwrap().contains("fr only"), "{p}");
        }
        let res = post(&app, token(&s), body(service, "fr", "Ceci est un avis.")).await;
        assert_eq!(ok(res, 201).await["language"], "fr");
    }
    assert_eq!(rows(&app).await, 2, "refused messages are not stored");
}

#[tokio::test]
async fn r53_an_unknown_service_or_language_is_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-unknown@example.ch").await;
    let res = post(
        &app,
        token(&s),
        body("kpizza", "en", "A pizza service please."),
    )
    .await;
    let p = problem(res, 422, "validation_failed").await;
    assert_eq!(
        p["errors"],
        json!([{"field": "/service", "code": "unknown_service", "message": "must be a service of GET /v1/feedback/services"}])
    );
    // Languages are the five codes, exactly: no `EN`, no `en-GB`, no `rm`.
    for language in ["EN", "en-GB", "rm", ""] {
        let res = post(
            &app,
            token(&s),
            body("mail", language, "A fine mail service."),
        )
        .await;
        let p = problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "/language", "{language}: {p}");
        assert_eq!(p["errors"][0]["code"], "invalid_language", "{p}");
    }
    // Every bad field at once.
    let res = post(&app, token(&s), body("", "xx", "short")).await;
    let p = problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["/service", "/language", "/message"]);
    // Wrong types, missing and unknown fields.
    let res = post(
        &app,
        token(&s),
        json!({"service": 3, "language": "en", "message": "x".repeat(20)}),
    )
    .await;
    problem(res, 422, "validation_failed").await;
    let res = post(
        &app,
        token(&s),
        json!({"service": "mail", "language": "en"}),
    )
    .await;
    problem(res, 422, "validation_failed").await;
    let mut extra = body("mail", "en", "A fine mail service.");
    extra["rating"] = json!(5);
    problem(post(&app, token(&s), extra).await, 422, "validation_failed").await;
    assert_eq!(rows(&app).await, 0);
}

#[tokio::test]
async fn feedback_needs_a_signed_in_person_and_tokens_need_account_write() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/v1/feedback",
            body("mail", "en", "Anonymous feedback here."),
        )
        .await;
    let p = problem(res, 401, "unauthenticated").await;
    assert!(p["detail"].is_string());
    let res = post(
        &app,
        "not-a-token",
        body("mail", "en", "Forged feedback here."),
    )
    .await;
    problem(res, 401, "unauthenticated").await;

    let (_, s) = app.signed_in("fb-auth@example.ch").await;
    let (_, read_only) = create_token(&app, &s, &["account:read"]).await;
    let res = post(
        &app,
        &read_only,
        body("mail", "en", "From a read-only token."),
    )
    .await;
    problem(res, 403, "insufficient_scope").await;
    let (_, writer) = create_token(&app, &s, &["account:write"]).await;
    let res = post(
        &app,
        &writer,
        body("mail", "en", "From a script with a token."),
    )
    .await;
    ok(res, 201).await;
    assert_eq!(rows(&app).await, 1);
}

#[tokio::test]
async fn feedback_messages_are_normalised_bounded_and_free_of_control_characters() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-text@example.ch").await;
    // Decomposed "é" (e + combining acute) is stored composed; CRLF and CR become LF; trimmed.
    let raw = "  Cafe\u{301} and cre\u{300}me: two lines\r\nthen\ra third\t(tab)  \n";
    let got = ok(post(&app, token(&s), body("mail", "fr", raw)).await, 201).await;
    let stored = "Caf\u{e9} and cr\u{e8}me: two lines\nthen\na third\t(tab)";
    assert_eq!(got["message"], stored);
    assert_eq!(stored_messages(&app).await, [stored]);

    let refusals: [(&str, String, &str); 7] = [
        ("empty", String::new(), "required"),
        ("only spaces", " \n\t ".repeat(10), "required"),
        (
            "nine characters once trimmed",
            format!("   {}   ", "a".repeat(9)),
            "too_short",
        ),
        ("over 5000 characters", "é".repeat(5001), "too_long"),
        (
            "a NUL byte",
            "hello\u{0}world, how are you".to_string(),
            "invalid_characters",
        ),
        (
            "an escape sequence",
            "\u{1b}[31mred alert, please read".to_string(),
            "invalid_characters",
        ),
        (
            "a right-to-left override",
            "invoice \u{202E}fdp.exe looks odd".to_string(),
            "invalid_characters",
        ),
    ];
    for (what, message, code) in refusals {
        let res = post(&app, token(&s), body("mail", "en", &message)).await;
        let p = problem(res, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "/message", "{what}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{what}: {p}");
    }
    // The bounds themselves are fine, counted in characters (not bytes).
    ok(
        post(&app, token(&s), body("mail", "en", "ten chars!")).await,
        201,
    )
    .await;
    ok(
        post(&app, token(&s), body("mail", "en", &"é".repeat(5000))).await,
        201,
    )
    .await;
    assert_eq!(rows(&app).await, 3);
}

#[tokio::test]
async fn feedback_is_rate_limited_per_account_with_retry_after() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-limit@example.ch").await;
    for i in 0..10 {
        let message = format!("Suggestion number {i} for Swiss Backup.");
        ok(
            post(&app, token(&s), body("swiss_backup", "en", &message)).await,
            201,
        )
        .await;
    }
    let res = post(
        &app,
        token(&s),
        body("swiss_backup", "en", "One suggestion too many."),
    )
    .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3500..=3601).contains(&retry),
        "the oldest leaves the hour: {retry}"
    );
    let p = problem(res, 429, "rate_limited").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("10 feedback messages an hour"),
        "{p}"
    );
    // Another person is not affected.
    let (_, other) = app.signed_in("fb-limit-other@example.ch").await;
    ok(
        post(
            &app,
            token(&other),
            body("swiss_backup", "en", "My own suggestion here."),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(rows(&app).await, 11);
}

#[tokio::test]
async fn feedback_rate_limit_holds_when_requests_arrive_at_once() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-race@example.ch").await;
    let calls = (0..16).map(|i| {
        let message = format!("Concurrent suggestion {i} about kSuite.");
        let (app, s) = (&app, &s);
        async move {
            post(app, token(s), body("ksuite", "de", &message))
                .await
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(calls).await;
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(rows(&app).await, 10);
}

#[tokio::test]
async fn feedback_writes_one_activity_record_without_the_message() {
    let app = TestApp::spawn().await;
    let (user, s) = app.signed_in("fb-activity@example.ch").await;
    let got = ok(
        post(
            &app,
            token(&s),
            body("kmeet", "fr", "Un message confidentiel."),
        )
        .await,
        201,
    )
    .await;
    let details = my_activity_details(&app, token(&s), "feedback.sent").await;
    assert_eq!(
        details,
        [json!({"feedback_id": got["id"], "service": "kmeet", "language": "fr"})]
    );
    let actions = app.activities_of(&user.id).await;
    assert_eq!(crate::helpers::count(&actions, "feedback.sent"), 1);
    assert!(!details[0].to_string().contains("confidentiel"));
}

#[tokio::test]
async fn feedback_with_an_idempotency_key_is_recorded_once_and_replayed() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("fb-replay@example.ch").await;
    let keyed = |message: &'static str| {
        send_with(
            &app,
            Method::POST,
            "/v1/feedback",
            &s,
            Some(body("calendar", "it", message)),
            &[("Idempotency-Key", "fb-replay-1")],
        )
    };
    let first = ok(keyed("Un suggerimento per il calendario.").await, 201).await;
    let res = keyed("Un suggerimento per il calendario.").await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(ok(res, 201).await, first);
    let res = keyed("Un altro suggerimento, diverso.").await;
    problem(res, 422, "idempotency_key_reused").await;
    assert_eq!(rows(&app).await, 1);
}

/// Runs `leman feedback export --since <since>`; returns the JSON lines printed.
fn export(app: &TestApp, since: &str) -> Vec<Value> {
    let out = app.cli(&["feedback", "export", "--since", since], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn feedback_export_prints_json_lines_sent_since_a_day_or_a_time() {
    let app = TestApp::spawn().await;
    let (user, s) = app.signed_in("fb-export@example.ch").await;
    let old = ok(
        post(
            &app,
            token(&s),
            body("housing", "en", "Old news from last month."),
        )
        .await,
        201,
    )
    .await;
    let multiline = "Deux lignes\net des \"guillemets\", très bien.";
    let new = ok(
        post(&app, token(&s), body("hosting", "fr", multiline)).await,
        201,
    )
    .await;
    // The first message was sent on 2026-11-03 at 10:00 UTC.
    let old_id = old["id"].as_str().unwrap().to_string();
    app.with_conn(move |c| {
        use leman::db::schema::feedback;
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 3)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        diesel::update(feedback::table.find(old_id))
            .set(feedback::created_at.eq(at))
            .execute(c)
            .unwrap();
    })
    .await;

    let all = export(&app, "2026-11-03");
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["id"], old["id"], "oldest first");
    assert_eq!(all[0]["created_at"], "2026-11-03T10:00:00.000000Z");
    assert_eq!(
        all[1],
        json!({
            "id": new["id"], "created_at": all[1]["created_at"], "user_id": user.id,
            "email": user.email, "service": "hosting", "language": "fr", "message": multiline,
        })
    );
    // An RFC 3339 time is exact; the moment itself is included.
    assert_eq!(export(&app, "2026-11-03T10:00:00Z").len(), 2);
    assert_eq!(export(&app, "2026-11-03T11:00:00+01:00").len(), 2);
    assert_eq!(export(&app, "2026-11-03T10:00:00.000001Z").len(), 1);
    assert_eq!(export(&app, "2026-11-04")[0]["id"], new["id"]);
    assert!(export(&app, "2999-01-01").is_empty());

    let out = app.cli(&["feedback", "export", "--since", "last week"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since must be"));
    let out = app.cli(&["feedback", "export"], &[]);
    assert!(!out.status.success(), "--since is required");
}
