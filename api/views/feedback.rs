//! Feedback (R53): the services one can write about, and a message as it was recorded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::feedback::Feedback;
use crate::services::feedback::Service;

/// A service one can send feedback about (the list of `GET /v1/feedback/services`; new
/// services may be added within `/v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackServiceId {
    Euria,
    Domains,
    Hosting,
    CloudServer,
    PublicCloud,
    JelasticCloud,
    Synology,
    Housing,
    SwissBackup,
    Ksuite,
    Mail,
    MailIos,
    MailAndroid,
    Kdrive,
    Calendar,
    Contacts,
    Newsletter,
    Swisstransfer,
    StreamingRadio,
    StreamingVideo,
    VodAod,
    GuestManager,
    Kchat,
    Kmeet,
}

/// A service and the languages its feedback is read in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "kchat", "name": "kChat", "languages": ["fr"]}))]
pub struct FeedbackService {
    /// Stable id, sent as `service` in `POST /v1/feedback`.
    #[schema(value_type = FeedbackServiceId)]
    pub id: &'static str,
    /// The service's name (a product name: not translated).
    pub name: &'static str,
    /// The languages a message about it may be written in (French only for some).
    #[schema(value_type = Vec<crate::domain::Language>)]
    pub languages: &'static [&'static str],
}

impl From<&Service> for FeedbackService {
    fn from(s: &Service) -> Self {
        Self {
            id: s.id,
            name: s.name,
            languages: s.languages,
        }
    }
}

/// Every service that takes feedback, in the order of the feedback page.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"id": "domains", "name": "Domains", "languages": ["fr", "en", "de", "it", "es"]},
    {"id": "kchat", "name": "kChat", "languages": ["fr"]}
]}))]
pub struct FeedbackServiceList {
    pub data: Vec<FeedbackService>,
}

/// A feedback message, as recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "fbk_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "service": "kdrive", "language": "en", "message": "Sharing a folder with a link that expires would help us a lot.", "created_at": "2026-12-05T09:30:00Z"}))]
pub struct FeedbackView {
    pub id: String,
    #[schema(value_type = FeedbackServiceId)]
    pub service: String,
    #[schema(value_type = crate::domain::Language)]
    pub language: String,
    /// The message as stored: Unicode NFC, line breaks as `\n`, surrounding spaces trimmed.
    pub message: String,
    pub created_at: DateTime<Utc>,
}

impl From<Feedback> for FeedbackView {
    fn from(f: Feedback) -> Self {
        Self {
            id: f.id,
            service: f.service,
            language: f.language,
            message: f.message,
            created_at: super::utc(f.created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::feedback::SERVICES;

    #[test]
    fn the_spec_enum_names_every_service_of_the_catalogue_in_order() {
        let ids: Vec<String> = SERVICES
            .iter()
            .map(|s| {
                let id: FeedbackServiceId =
                    serde_json::from_value(serde_json::json!(s.id)).expect(s.id);
                serde_json::to_value(id)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(ids, SERVICES.iter().map(|s| s.id).collect::<Vec<_>>());
        // And nothing more: the enum's variant count.
        assert_eq!(FeedbackServiceId::Kmeet as usize + 1, SERVICES.len());
    }
}
