//! The `deliver_mail` job: sends one outbox mail (queued by `mail::send` in the transaction of
//! the change), then marks it sent with the job's completion.

use futures_util::future::BoxFuture;

use crate::db::{self, DbConnection};
use crate::jobs::{ClaimedJob, JobContext, JobHandler};
use crate::mail::build_message;
use crate::models::jobs as job_rows;
use crate::models::mails;

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
            let sent = match build_message(&ctx.config.mail_from, &mail) {
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
