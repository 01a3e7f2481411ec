//! Mail: templates per language (en, fr, de, it, es; English when a language is missing), a
//! transactional outbox (`send` stores the rendered mail and its delivery job in the caller's
//! transaction, so a rolled-back change sends nothing) and delivery through lettre: `.eml` files
//! under the data directory by default, SMTP when `LEMAN_SMTP_URL` is set.
//!
//! Adding a mail: write `templates/<lang>/<name>.{subject,txt,html}` for each language (build.rs
//! embeds them; a test checks every template exists in every language), then call `mail::send`
//! in the transaction that causes it.
//!
//! A mail carrying billing documents (R27) is queued with `send_with_attachments`: the outbox
//! keeps which documents (`Attachment`), not their bytes; the delivery job renders them (they
//! are deterministic, so rendering later gives the document as it was) and `build_message`
//! sends them as `application/pdf` parts of a `multipart/mixed` message.

use std::sync::OnceLock;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::Environment;

use crate::config::Config;
use crate::db::{self, DbConnection};
use crate::domain::Language;
use crate::domain::documents::{DocumentKind, RenderedDocument};
use crate::models::jobs::{self as job_rows, NewJob};
use crate::models::mails::{self, Mail};

pub const LANGUAGES: [&str; 5] = ["en", "fr", "de", "it", "es"];
/// The job that delivers one outbox mail (`jobs::deliver_mail`).
pub const DELIVER_MAIL: &str = "deliver_mail";
/// Templates carrying a secret meant for their recipient alone (a domain's transfer-out code):
/// the outbox forgets their bodies once delivered or given up (`models::mails::redact_secret`).
pub const SECRET_TEMPLATES: &[&str] = &["transfer_out_code", "invoice_export_ready"];

/// Every template, embedded in the binary by build.rs: (path under templates/, source).
const TEMPLATE_FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/mail_templates.rs"));

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Undefined variables are errors, not blanks: a mail with a hole is a bug.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATE_FILES {
            env.add_template(name, source)
                .expect("embedded mail templates parse");
        }
        env
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail template `{0}` does not exist")]
    UnknownTemplate(String),
    #[error("rendering mail template: {0}")]
    Render(#[from] minijinja::Error),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
}

impl From<MailError> for crate::error::AppError {
    fn from(e: MailError) -> Self {
        crate::error::AppError::internal(e.to_string())
    }
}

/// Renders `template` in `language` (English when that language has no such template).
pub fn render(
    template: &str,
    language: &str,
    context: &serde_json::Value,
) -> Result<Rendered, MailError> {
    let env = environment();
    let language = if LANGUAGES.contains(&language)
        && env
            .get_template(&format!("{language}/{template}.subject"))
            .is_ok()
    {
        language
    } else {
        "en"
    };
    let get = |part: &str| {
        env.get_template(&format!("{language}/{template}.{part}"))
            .map_err(|_| MailError::UnknownTemplate(template.to_string()))
    };
    let mut ctx = context.clone();
    if let Some(map) = ctx.as_object_mut() {
        map.insert("lang".into(), language.into());
    }
    Ok(Rendered {
        language: language.to_string(),
        subject: get("subject")?.render(&ctx)?.trim().to_string(),
        text: get("txt")?.render(&ctx)?,
        html: get("html")?.render(&ctx)?,
    })
}

/// A billing document a mail carries: which one, of which organisation, in which language. The
/// outbox stores these (`mails.attachments`, a JSON list); the delivery job renders each.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub kind: DocumentKind,
    pub organization_id: String,
    pub id: String,
    pub language: Language,
}

impl Attachment {
    /// The stored form of `attachments` (none: no column value).
    pub fn to_column(attachments: &[Attachment]) -> Option<String> {
        (!attachments.is_empty())
            .then(|| serde_json::to_string(attachments).expect("attachments serialise"))
    }

    /// The documents of a stored mail (an unreadable list is an error, for the caller to log).
    pub fn of_mail(mail: &Mail) -> Result<Vec<Attachment>, String> {
        match mail.attachments.as_deref() {
            None | Some("") => Ok(vec![]),
            Some(raw) => serde_json::from_str(raw).map_err(|e| format!("bad attachments: {e}")),
        }
    }
}

/// Queues a mail in the caller's transaction; it leaves only if that transaction commits.
pub fn send(
    conn: &mut DbConnection,
    config: &Config,
    template: &str,
    language: &str,
    to: &str,
    context: serde_json::Value,
) -> Result<String, MailError> {
    send_with_attachments(conn, config, template, language, to, context, &[])
}

/// `send`, the mail carrying `attachments` (rendered at delivery).
pub fn send_with_attachments(
    conn: &mut DbConnection,
    config: &Config,
    template: &str,
    language: &str,
    to: &str,
    context: serde_json::Value,
    attachments: &[Attachment],
) -> Result<String, MailError> {
    let rendered = render(template, language, &context)?;
    let mail = Mail {
        id: db::new_id("mail"),
        template: template.to_string(),
        language: rendered.language,
        to_address: to.to_string(),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        status: mails::MailStatus::Pending,
        attempts: 0,
        last_error: None,
        created_at: db::now(),
        sent_at: None,
        attachments: Attachment::to_column(attachments),
    };
    db::write(conn, |c| {
        mails::insert(c, &mail)?;
        job_rows::enqueue(
            c,
            NewJob::new(
                DELIVER_MAIL,
                serde_json::json!({ "mail_id": mail.id }),
                config.job_max_attempts,
            ),
        )?;
        Ok::<_, MailError>(())
    })?;
    Ok(mail.id)
}

/// Where mail goes.
pub enum Mailer {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        match &config.smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Mailer::Smtp(b.build()))
                .map_err(|e| format!("LEMAN_SMTP_URL: {e}")),
            None => {
                let dir = config.mail_dir();
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Ok(Mailer::File(AsyncFileTransport::new(dir)))
            }
        }
    }

    pub async fn deliver(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::File(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// The message of an outbox mail, ready for the transport: its text and HTML as alternatives;
/// with `documents` (its attachments, rendered by the caller), a `multipart/mixed` message of
/// those alternatives and one `application/pdf` attachment per document, in base64.
pub fn build_message(
    from: &Mailbox,
    mail: &Mail,
    documents: &[RenderedDocument],
) -> Result<Message, String> {
    let to: Mailbox = mail
        .to_address
        .parse()
        .map_err(|e| format!("bad recipient: {e}"))?;
    let alternative =
        MultiPart::alternative_plain_html(mail.text_body.clone(), mail.html_body.clone());
    let body = if documents.is_empty() {
        alternative
    } else {
        let pdf = ContentType::parse("application/pdf").expect("a valid content type");
        documents
            .iter()
            .fold(MultiPart::mixed().multipart(alternative), |parts, doc| {
                parts.singlepart(
                    lettre::message::Attachment::new(doc.filename.clone()).body(
                        Body::new_with_encoding(doc.bytes.clone(), ContentTransferEncoding::Base64)
                            .expect("base64 encodes any bytes"),
                        pdf.clone(),
                    ),
                )
            })
    };
    // The outbox row's id names the message (`<mail_…@sender domain>`): a redelivery after a
    // crash between the send and its record carries the same Message-ID, so receivers (and the
    // fault harness, scripts/fault_test.py) tell one mail sent twice from two mails.
    Message::builder()
        .from(from.clone())
        .to(to)
        .message_id(Some(format!("<{}@{}>", mail.id, from.email.domain())))
        .subject(mail.subject.clone())
        .multipart(body)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_in_every_language() {
        let ctx = serde_json::json!({"first_name": "Zoë <b>", "link": "http://x/verify-email?token=a&b", "hours": 24});
        for lang in LANGUAGES {
            let r = render("verify_email", lang, &ctx).unwrap();
            assert_eq!(r.language, lang);
            assert!(r.text.contains("http://x/verify-email?token=a&b"), "{lang}");
            assert!(r.text.contains("Zoë <b>"));
            // HTML is escaped.
            assert!(r.html.contains("Zoë &lt;b&gt;"), "{lang}");
            assert!(!r.subject.is_empty());
        }
    }

    #[test]
    fn every_template_exists_in_every_language() {
        let names: std::collections::BTreeSet<&str> = TEMPLATE_FILES
            .iter()
            .filter_map(|(path, _)| path.strip_prefix("en/").and_then(|p| p.split('.').next()))
            .collect();
        assert!(names.contains("verify_email"));
        for name in names {
            for lang in LANGUAGES {
                for part in ["subject", "txt", "html"] {
                    let path = format!("{lang}/{name}.{part}");
                    assert!(
                        TEMPLATE_FILES.iter().any(|(p, _)| *p == path),
                        "missing {path}"
                    );
                }
            }
        }
    }

    fn outbox_mail() -> Mail {
        Mail {
            id: "mail_1".into(),
            template: "payment_receipt".into(),
            language: "en".into(),
            to_address: "zoe@example.ch".into(),
            subject: "Payment received".into(),
            text_body: "Thank you".into(),
            html_body: "<p>Thank you</p>".into(),
            status: mails::MailStatus::Pending,
            attempts: 0,
            last_error: None,
            created_at: db::now(),
            sent_at: None,
            attachments: None,
        }
    }

    #[test]
    fn a_mail_with_documents_is_mixed_with_one_base64_pdf_part_each_and_without_stays_alternative()
    {
        let from: Mailbox = "Leman <noreply@example.ch>".parse().unwrap();
        let plain = String::from_utf8(
            build_message(&from, &outbox_mail(), &[])
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(plain.contains("multipart/alternative"));
        assert!(!plain.contains("multipart/mixed"));
        let doc = RenderedDocument {
            filename: "invoice-2026-000001.pdf".into(),
            bytes: b"%PDF-1.7 tiny".to_vec(),
        };
        let mixed = String::from_utf8(
            build_message(&from, &outbox_mail(), &[doc.clone(), doc])
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(mixed.contains("Content-Type: multipart/mixed"), "{mixed}");
        assert!(mixed.contains("multipart/alternative"));
        assert_eq!(
            mixed
                .matches("Content-Disposition: attachment; filename=\"invoice-2026-000001.pdf\"")
                .count(),
            2,
            "{mixed}"
        );
        assert!(mixed.contains("Content-Type: application/pdf"));
        assert!(
            mixed.contains("JVBERi0xLjcgdGlueQ=="),
            "base64 of the bytes: {mixed}"
        );
    }

    #[test]
    fn the_message_id_names_the_outbox_row_so_a_redelivery_is_recognised() {
        let from: Mailbox = "Leman <noreply@example.ch>".parse().unwrap();
        let once = String::from_utf8(
            build_message(&from, &outbox_mail(), &[])
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let again = String::from_utf8(
            build_message(&from, &outbox_mail(), &[])
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let id = |m: &str| {
            m.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .map(str::to_string)
        };
        assert_eq!(
            id(&once).as_deref(),
            Some("Message-ID: <mail_1@example.ch>"),
            "{once}"
        );
        assert_eq!(id(&once), id(&again));
    }

    #[test]
    fn attachments_round_trip_through_the_outbox_column() {
        let a = Attachment {
            kind: DocumentKind::Invoice,
            organization_id: "org_1".into(),
            id: "inv_1".into(),
            language: Language::De,
        };
        assert_eq!(Attachment::to_column(&[]), None);
        let column = Attachment::to_column(std::slice::from_ref(&a)).unwrap();
        assert_eq!(
            column,
            r#"[{"kind":"invoice","organization_id":"org_1","id":"inv_1","language":"de"}]"#
        );
        let mut mail = outbox_mail();
        assert_eq!(Attachment::of_mail(&mail).unwrap(), vec![]);
        mail.attachments = Some(column);
        assert_eq!(Attachment::of_mail(&mail).unwrap(), vec![a]);
        mail.attachments = Some("{".into());
        assert!(Attachment::of_mail(&mail).is_err());
    }

    #[test]
    fn unknown_languages_fall_back_to_english_and_holes_are_errors() {
        let ctx = serde_json::json!({"first_name": "A", "link": "l", "hours": 1});
        assert_eq!(render("verify_email", "rm", &ctx).unwrap().language, "en");
        assert!(render("verify_email", "en", &serde_json::json!({})).is_err());
        assert!(matches!(
            render("nope", "en", &ctx),
            Err(MailError::UnknownTemplate(_))
        ));
    }
}
