//! The payment provider's webhook: `Leman-Signature: t=<unix seconds>,v1=<hex>` where the hex is
//! HMAC-SHA256 over `<t>.<raw body>` with one of the configured secrets (several during a
//! rotation). Timestamps more than 5 minutes away are refused (no replay of old deliveries),
//! signatures are compared in constant time, and each event id is handled once.
//!
//! A bank transfer quoting the reference of a pro forma made on request (R28, which has no
//! payment) is credited in full to the organisation's prepaid account
//! (`pro_forma::credit_transfer`).

use crate::error::Status;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::secrets::constant_time_eq;
use crate::context::Services;
use crate::db;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::models::{payments, pro_formas, webhook_events};

/// How far a delivery's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

fn bad_signature(detail: &str) -> AppError {
    AppError::new(Status::BadRequest, "invalid_signature", detail.to_string())
}

/// The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the signature header against the body: Ok, or the reason to refuse.
pub fn verify(
    secrets: &[String],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), AppError> {
    if secrets.is_empty() {
        return Err(bad_signature("Webhooks are not configured on this server."));
    }
    let header = header.ok_or_else(|| bad_signature("The Leman-Signature header is missing."))?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s.to_string()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| bad_signature("The signature has no timestamp."))?;
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(bad_signature(
            "The signature's timestamp is too far from now.",
        ));
    }
    let valid = secrets.iter().any(|secret| {
        let expected = sign(secret, timestamp, body);
        signatures.iter().any(|s| constant_time_eq(s, &expected))
    });
    if valid {
        Ok(())
    } else {
        Err(bad_signature("The signature does not match the body."))
    }
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    /// The provider's reference of the payment (for bank transfers: the reference quoted).
    payment_reference: String,
    failure_code: Option<String>,
}

/// What the webhook did with an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    Applied,
    /// Seen before, unknown reference, or an event type we do not act on.
    Ignored(&'static str),
}

/// Verifies and applies one delivery.
pub async fn receive(
    ctx: &Services,
    signature: Option<String>,
    body: Vec<u8>,
) -> Result<Handled, AppError> {
    verify(
        &ctx.config.webhook_secrets,
        signature.as_deref(),
        &body,
        chrono::Utc::now().timestamp(),
    )?;
    let event: Event = serde_json::from_slice(&body).map_err(|e| {
        AppError::new(
            Status::BadRequest,
            "malformed_event",
            format!("The event is not one we know: {e}."),
        )
    })?;
    if event.id.is_empty() || event.id.len() > 200 {
        return Err(AppError::new(
            Status::BadRequest,
            "malformed_event",
            "The event id is missing or too long.",
        ));
    }
    let config = ctx.config.clone();
    db::run(&ctx.pool, move |conn| {
        db::write_retrying(conn, |c| {
            // The concurrency rule: the payment's organisation is locked before anything of it
            // is touched (its payment, invoice, prepaid account, activity chain).
            let quoted = event.data.payment_reference.as_str();
            // A bank may report the structured reference of a pro forma's QR code (QRR or SCOR)
            // rather than the transfer reference of its message: both name the same pro forma.
            let structured = match payments::find_by_reference(c, quoted)?.is_none()
                && pro_formas::find_by_reference(c, quoted)?.is_none()
            {
                true => match crate::services::documents::pro_forma_number_of(quoted) {
                    Some(number) => pro_formas::find_by_number(c, &number)?
                        .and_then(|pf| pf.transfer_reference),
                    None => None,
                },
                false => None,
            };
            let reference = structured.as_deref().unwrap_or(quoted);
            // A pro forma made on request has no payment: its reference is its own.
            let pro_forma = match payments::find_by_reference(c, reference)? {
                Some(p) => {
                    crate::models::organizations::lock(c, &p.organization_id)?;
                    None
                }
                None => pro_formas::find_by_reference(c, reference)?,
            };
            if let Some(pf) = &pro_forma {
                crate::models::organizations::lock(c, &pf.organization_id)?;
            }
            let succeeded = match event.kind.as_str() {
                "payment.succeeded" => true,
                "payment.failed" => false,
                _ => {
                    webhook_events::record(c, &event.id, &event.kind, db::now())?;
                    return Ok(Handled::Ignored("event type not handled"));
                }
            };
            if !webhook_events::record(c, &event.id, &event.kind, db::now())? {
                return Ok(Handled::Ignored("event already handled"));
            }
            let Some(payment) = payments::find_by_reference(c, reference)? else {
                // A transfer quoting a pro forma made on request: the money is credited to the
                // prepaid account (every transfer, once per event; the first settles it).
                if let Some(pf) = &pro_forma {
                    if !succeeded {
                        return Ok(Handled::Ignored("transfer failed"));
                    }
                    crate::services::pro_forma::credit_transfer(c, &config, &Origin::system("payment_webhook"), pf)?;
                    return Ok(Handled::Applied);
                }
                tracing::warn!(reference = %event.data.payment_reference, "webhook for an unknown payment");
                return Ok(Handled::Ignored("unknown payment"));
            };
            let failure = event.data.failure_code.as_deref().or((!succeeded).then_some(crate::domain::billing_states::failure::DECLINED));
            let changed = crate::services::payments::settle(
                c,
                &config,
                &Origin::system("payment_webhook"),
                &payment.id,
                succeeded,
                if succeeded { None } else { failure },
                None,
            )?;
            if changed {
                return Ok(Handled::Applied);
            }
            // A payment given up (a transfer superseded by another payment or the order's
            // expiry, a charge unconfirmed for too long) succeeded after all: the money is the
            // customer's, so it goes to their prepaid account.
            if succeeded && payments::claim_late_payment(c, &payment.id, None)? {
                crate::services::prepaid::credit_top_up(c, &config, &Origin::system("payment_webhook"), &payment)?;
                return Ok(Handled::Applied);
            }
            Ok(Handled::Ignored("payment already settled"))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_body_the_time_and_a_current_secret() {
        let body = br#"{"id":"evt_1"}"#;
        let secrets = vec!["whsec_old".to_string(), "whsec_new".to_string()];
        let now = 1_800_000_000;
        let header = |secret: &str, t: i64, b: &[u8]| format!("t={t},v1={}", sign(secret, t, b));
        assert!(verify(&secrets, Some(&header("whsec_new", now, body)), body, now).is_ok());
        assert!(
            verify(
                &secrets,
                Some(&header("whsec_old", now - 299, body)),
                body,
                now
            )
            .is_ok()
        );
        for bad in [
            header("whsec_other", now, body),
            header("whsec_new", now - 301, body),
            header("whsec_new", now, b"{}"),
            format!("t={now}"),
            "v1=00".to_string(),
        ] {
            assert_eq!(
                verify(&secrets, Some(&bad), body, now).unwrap_err().code,
                "invalid_signature",
                "{bad}"
            );
        }
        assert!(verify(&secrets, None, body, now).is_err());
        assert!(verify(&[], Some(&header("whsec_new", now, body)), body, now).is_err());
    }
}
