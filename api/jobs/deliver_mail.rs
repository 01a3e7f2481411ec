//! The `deliver_mail` job: sends one outbox mail (queued by `mail::send` in the transaction of
//! the change), then marks it sent with the job's completion.
//!
//! A mail carrying documents (R27) has them rendered here, at delivery (`services::documents::
//! render`, in the language the mail asked for): documents are deterministic, so a paid
//! invoice renders as it was when the mail was queued. A document that can no longer be
//! rendered for a lasting reason (the renderer answers 4xx: gone with its purged organisation,
//! or not renderable) is left out and the mail still leaves, logged: the mail itself (a
//! receipt, a renewal notice) matters more than its copy of a document the customer can still
//! download. A passing failure (the database, a 5xx) retries the job; at its last attempt the
//! mail leaves without the document rather than not at all.

use futures_util::future::BoxFuture;

use crate::db::{self, DbConnection};
use crate::domain::documents::RenderedDocument;
use crate::jobs::{ClaimedJob, JobContext, JobHandler};
use crate::mail::{Attachment, build_message};
use crate::models::jobs as job_rows;
use crate::models::mails::{self, Mail};

pub use crate::mail::DELIVER_MAIL as KIND;

/// The `deliver_mail` job: sends one outbox mail, then marks it sent with the job's completion.
pub struct DeliverMail;

#[derive(serde::Deserialize)]
struct DeliverPayload {
    mail_id: String,
}

impl JobHandler for DeliverMail {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let DeliverPayload { mail_id } = job.payload()?;
            let pool = ctx.pool.clone();
            let id = mail_id.clone();
            let mail = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                mails::find(&mut conn, &id).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??;
            let Some(mail) = mail.filter(|m| m.status == mails::MailStatus::Pending) else {
                return Ok(()); // already sent, or gone: nothing to do
            };
            let last_attempt = job.job.attempts >= job.job.max_attempts;
            let documents = render_documents(ctx, &mail, last_attempt).await?;
            let sent = match build_message(&ctx.config.mail_from, &mail, &documents) {
                Ok(message) => ctx.mailer.deliver(message).await,
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => {
                    ctx.metrics.mails_sent.inc();
                    ctx.complete(job, move |c| {
                        mails::mark_sent(c, &mail_id, db::now())?;
                        mails::redact_secret(c, &mail_id, crate::mail::SECRET_TEMPLATES)?;
                        Ok(())
                    })
                    .await
                }
                Err(error) => {
                    ctx.metrics.mail_delivery_failures.inc();
                    let pool = ctx.pool.clone();
                    let message = error.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        let mut conn = pool.get().map_err(|e| e.to_string())?;
                        db::write(&mut conn, |c| mails::record_failure(c, &mail_id, &message))
                            .map_err(|e| e.to_string())
                    })
                    .await;
                    Err(format!("delivering mail: {error}"))
                }
            }
        })
    }

    fn on_dead(&self, conn: &mut DbConnection, job: &job_rows::Job) -> diesel::QueryResult<()> {
        if let Ok(DeliverPayload { mail_id }) = serde_json::from_str(&job.payload) {
            mails::mark_failed(conn, &mail_id)?;
            mails::redact_secret(conn, &mail_id, crate::mail::SECRET_TEMPLATES)?;
        }
        Ok(())
    }
}

/// The documents `mail` carries, rendered now. A document that cannot be rendered for a lasting
/// reason is left out (logged); a passing failure is the job's error (it retries), except at
/// its `last_attempt`, where the document is left out too.
async fn render_documents(
    ctx: &JobContext,
    mail: &Mail,
    last_attempt: bool,
) -> Result<Vec<RenderedDocument>, String> {
    let attachments = match Attachment::of_mail(mail) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(mail_id = %mail.id, "sending without its documents: {e}");
            vec![]
        }
    };
    if attachments.is_empty() {
        return Ok(vec![]);
    }
    let (pool, config, mail_id) = (ctx.pool.clone(), ctx.config.clone(), mail.id.clone());
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        let mut documents = Vec::with_capacity(attachments.len());
        for a in attachments {
            match crate::services::documents::render(
                &mut conn,
                &config,
                &a.organization_id,
                a.kind,
                &a.id,
                Some(a.language),
            ) {
                Ok(doc) => documents.push(doc),
                Err(e) if !e.status.is_server_error() || last_attempt => {
                    tracing::warn!(
                        mail_id = %mail_id, kind = %a.kind, document = %a.id, code = e.code,
                        "sending the mail without a document it can no longer carry: {}", e.detail
                    );
                }
                Err(e) => {
                    return Err(format!(
                        "rendering {} {}: {} {}",
                        a.kind,
                        a.id,
                        e.code,
                        e.internal.as_deref().unwrap_or(&e.detail)
                    ));
                }
            }
        }
        Ok(documents)
    })
    .await
    .map_err(|e| e.to_string())?
}
