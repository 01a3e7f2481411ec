//! A password-reset request, done out of the request (finding 11 of issue 9): the request only
//! queues this job, for known and unknown addresses alike, so its time says nothing; the job
//! looks the address up and mails the link (`services::passwords::send_reset_link`).

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{ClaimedJob, JobContext, JobHandler};
use crate::domain::actor::Origin;

pub const KIND: &str = "request_password_reset";

/// The normalised address asked for, and who asked (for the activity record and the mail).
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub email: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct RequestPasswordReset;

impl JobHandler for RequestPasswordReset {
    fn run<'a>(
        &'a self,
        ctx: &'a JobContext,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), String>> {
        let config = ctx.config.clone();
        Box::pin(async move {
            let Payload {
                email,
                ip,
                user_agent,
            } = job.payload()?;
            let meta = Origin::request(ip, user_agent);
            ctx.complete(job, move |conn| {
                crate::services::passwords::send_reset_link(conn, &config, &meta, &email)
            })
            .await
        })
    }
}
