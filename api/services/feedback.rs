//! Feedback and suggestions (R53): a signed-in person writes about one of the services of the
//! seed's feedback page, in one of the languages that service takes (most take all five; kChat
//! and kMeet take French only). Staff read the messages with `leman feedback export --since`.
//!
//! The message is stored as the person meant it, in one form: Unicode NFC, line breaks as `\n`,
//! surrounding spaces trimmed; 10 to 5,000 characters; no control characters other than line
//! breaks and tabs, and no bidirectional overrides (they make a message read differently from
//! what it holds). A person sends at most [`PER_HOUR`] messages an hour, counted from the
//! messages themselves under the account's row lock, so every instance on one database shares
//! the count (429 `rate_limited` with `Retry-After` beyond it).

use chrono::NaiveDateTime;
use unicode_normalization::UnicodeNormalization as _;

use crate::auth::Caller;
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::ids::FeedbackId;
use crate::error::{AppError, FieldError, Status};
use crate::models::feedback::{self, Exported, Feedback};
use crate::models::users;
use crate::services::activity::{self, Event};

/// Every language of the Manager, in the order the feedback page lists them.
pub const ALL_LANGUAGES: &[&str] = &["fr", "en", "de", "it", "es"];

/// Services that take feedback in French only.
const FRENCH_ONLY: &[&str] = &["fr"];

/// A service one can send feedback about, and the languages it reads.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub id: &'static str,
    pub name: &'static str,
    pub languages: &'static [&'static str],
}

const fn service(id: &'static str, name: &'static str) -> Service {
    Service {
        id,
        name,
        languages: ALL_LANGUAGES,
    }
}

/// The seed's feedback page ("Provide feedback on…"), in its order.
pub const SERVICES: &[Service] = &[
    service("euria", "Euria"),
    service("domains", "Domains"),
    service("hosting", "Hosting / Site Creator"),
    service("cloud_server", "Cloud Server"),
    service("public_cloud", "Public Cloud"),
    service("jelastic_cloud", "Jelastic Cloud"),
    service("synology", "Synology"),
    service("housing", "Housing"),
    service("swiss_backup", "Swiss Backup"),
    service("ksuite", "kSuite / my kSuite+"),
    service("mail", "Mail"),
    service("mail_ios", "Mail iOS app"),
    service("mail_android", "Mail Android app"),
    service("kdrive", "kDrive"),
    service("calendar", "Calendar"),
    service("contacts", "Contacts"),
    service("newsletter", "Newsletter"),
    service("swisstransfer", "SwissTransfer"),
    service("streaming_radio", "Streaming Radio"),
    service("streaming_video", "Streaming Video"),
    service("vod_aod", "VOD / AOD"),
    service("guest_manager", "Guest Manager"),
    Service {
        id: "kchat",
        name: "kChat",
        languages: FRENCH_ONLY,
    },
    Service {
        id: "kmeet",
        name: "kMeet",
        languages: FRENCH_ONLY,
    },
];

/// Messages a person may send in an hour.
pub const PER_HOUR: i64 = 10;

/// Shortest and longest message, in characters (after normalising).
pub const MIN_CHARS: usize = 10;
pub const MAX_CHARS: usize = 5000;

pub fn find(id: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.id == id)
}

fn invalid(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        code: code.to_string(),
        message: message.into(),
    }
}

/// Characters a message may not hold: controls other than line feed and tab (carriage returns
/// are turned into line feeds first), and the bidirectional embeddings, overrides and isolates.
fn refused(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The message as stored: NFC, `\r\n` and lone `\r` as `\n`, trimmed; or why it is refused.
pub fn parse_message(raw: &str) -> Result<String, FieldError> {
    let field = "/message";
    // The spec's `maxLength` bounds what the client sent.
    if raw.chars().count() > MAX_CHARS {
        return Err(invalid(
            field,
            "too_long",
            format!("must be at most {MAX_CHARS} characters"),
        ));
    }
    let text: String = raw
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .nfc()
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "required", "must not be empty"));
    }
    if text.chars().any(refused) {
        return Err(invalid(
            field,
            "invalid_characters",
            "must not contain control characters (other than line breaks and tabs) or bidirectional overrides",
        ));
    }
    if text.chars().count() < MIN_CHARS {
        return Err(invalid(
            field,
            "too_short",
            format!("must be at least {MIN_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

/// A message checked against the catalogue: the service exists and reads the language.
pub struct NewFeedback {
    pub service: &'static Service,
    pub language: &'static str,
    pub message: String,
}

/// Checks a message: 422 `validation_failed` listing every bad field, or 422
/// `language_not_offered` when the service does not read that (valid) language.
pub fn check(service: &str, language: &str, message: &str) -> Result<NewFeedback, AppError> {
    let mut errors = Vec::new();
    let found = find(service);
    if found.is_none() {
        errors.push(invalid(
            "/service",
            "unknown_service",
            "must be a service of GET /v1/feedback/services",
        ));
    }
    let lang = ALL_LANGUAGES.iter().copied().find(|l| *l == language);
    if lang.is_none() {
        errors.push(invalid(
            "/language",
            "invalid_language",
            "must be one of fr, en, de, it, es",
        ));
    }
    let message = parse_message(message).map_err(|e| errors.push(e)).ok();
    let (Some(service), Some(language), Some(message)) = (found, lang, message) else {
        return Err(AppError::validation(errors));
    };
    if !service.languages.contains(&language) {
        let offered = service.languages.join(", ");
        let mut e = AppError::unprocessable(
            "language_not_offered",
            format!("Feedback on {} is read in {offered} only.", service.name),
        );
        e.errors = vec![invalid(
            "/language",
            "language_not_offered",
            format!("must be one of {offered} for this service"),
        )];
        return Err(e);
    }
    Ok(NewFeedback {
        service,
        language,
        message,
    })
}

/// 429 `rate_limited`: the seconds until the oldest message counted leaves the hour.
fn too_many(oldest: Option<NaiveDateTime>, now: NaiveDateTime) -> AppError {
    let wait = oldest
        .map(|at| (at + chrono::Duration::hours(1) - now).num_seconds() + 1)
        .unwrap_or(1)
        .max(1);
    AppError::new(
        Status::TooManyRequests,
        "rate_limited",
        format!("At most {PER_HOUR} feedback messages an hour. Retry in {wait} s."),
    )
    .retry_after(wait as u64)
}

fn store(
    conn: &mut DbConnection,
    meta: &Origin,
    user_id: &str,
    new: &NewFeedback,
) -> Result<Feedback, AppError> {
    let now = db::now();
    // Two messages at once on PostgreSQL: the second waits for the first's count.
    if !users::lock(conn, user_id)? {
        return Err(crate::auth::caller::unauthenticated(
            "The account no longer exists.",
        ));
    }
    let (sent, oldest) = feedback::sent_since(conn, user_id, now - chrono::Duration::hours(1))?;
    if sent >= PER_HOUR {
        return Err(too_many(oldest, now));
    }
    let row = Feedback {
        id: FeedbackId::generate().into_inner(),
        user_id: user_id.to_string(),
        service: new.service.id.to_string(),
        language: new.language.to_string(),
        message: new.message.clone(),
        created_at: now,
    };
    feedback::insert(conn, &row)?;
    activity::record(
        conn,
        meta,
        Event::feedback_sent(user_id, &row.id, &row.service, &row.language),
    )?;
    Ok(row)
}

/// Records a message from the caller (see the module's rules).
pub async fn send(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    service: String,
    language: String,
    message: String,
) -> Result<Feedback, AppError> {
    let new = check(&service, &language, &message)?;
    db::run(pool, move |conn| {
        db::write(conn, |c| store(c, &meta, &caller.user_id, &new))
    })
    .await
}

/// Messages sent at or after `since`, in time order, handed to `each` one page at a time so
/// the export never holds them all. Returns how many there were.
pub fn export_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    mut each: impl FnMut(&Exported) -> std::io::Result<()>,
) -> Result<u64, AppError> {
    const PAGE: i64 = 500;
    let mut after = None;
    let mut n = 0;
    loop {
        let page = feedback::page_since(conn, since, after.take(), PAGE)?;
        for row in &page {
            each(row).map_err(|e| AppError::internal(format!("writing the export: {e}")))?;
            n += 1;
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => {
                after = Some((last.created_at, last.id.clone()));
            }
            _ => return Ok(n),
        }
    }
}

/// `--since` of the export: an RFC 3339 instant, or a `YYYY-MM-DD` day (from its midnight, UTC).
pub fn parse_since(raw: &str) -> Result<NaiveDateTime, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(db::truncate(t.with_timezone(&chrono::Utc).naive_utc()));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN));
    }
    Err(format!(
        "--since must be a day (2026-12-01) or an RFC 3339 time (2026-12-01T08:00:00Z), not {raw:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_stored_in_nfc_with_unix_line_breaks_and_trimmed() {
        let raw = "  Cafe\u{301} au lait\r\nsecond line\rthird\t!  ";
        assert_eq!(
            parse_message(raw).unwrap(),
            "Caf\u{e9} au lait\nsecond line\nthird\t!"
        );
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_refused() {
        for bad in [
            "hello\u{0}world!!",
            "hello\u{7}world!!",
            "abc\u{202E}defghijk",
            "abc\u{85}defghijk",
        ] {
            assert_eq!(
                parse_message(bad).unwrap_err().code,
                "invalid_characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn message_length_is_bounded_in_characters() {
        assert_eq!(parse_message("   ").unwrap_err().code, "required");
        assert_eq!(parse_message("too short").unwrap_err().code, "too_short");
        assert!(parse_message("ten chars!").is_ok());
        assert!(parse_message(&"é".repeat(MAX_CHARS)).is_ok());
        assert_eq!(
            parse_message(&"é".repeat(MAX_CHARS + 1)).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn every_service_reads_french_and_only_kchat_and_kmeet_read_only_french() {
        assert_eq!(SERVICES.len(), 24);
        for s in SERVICES {
            assert!(s.languages.contains(&"fr"), "{}", s.id);
        }
        let french_only: Vec<&str> = SERVICES
            .iter()
            .filter(|s| s.languages == ["fr"])
            .map(|s| s.id)
            .collect();
        assert_eq!(french_only, ["kchat", "kmeet"]);
    }

    #[test]
    fn since_is_a_day_or_an_rfc3339_time() {
        assert_eq!(
            parse_since("2026-12-01").unwrap().to_string(),
            "2026-12-01 00:00:00"
        );
        assert_eq!(
            parse_since("2026-12-01T08:30:00+01:00")
                .unwrap()
                .to_string(),
            "2026-12-01 07:30:00"
        );
        assert!(parse_since("yesterday").is_err());
    }
}
