use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::newsletters::Topic;

/// A newsletter topic's id (the catalogue of `GET /v1/newsletter-topics`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopicId {
    ProductNews,
    Offers,
    Tips,
    ServiceStatus,
    Events,
}

impl TopicId {
    pub const ALL: [TopicId; 5] = [
        TopicId::ProductNews,
        TopicId::Offers,
        TopicId::Tips,
        TopicId::ServiceStatus,
        TopicId::Events,
    ];
}

/// A newsletter topic, in the language asked for.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "service_status", "name": "Service status", "description": "Planned maintenance and incident reports."}))]
pub struct NewsletterTopic {
    /// Stable id, used in subscriptions.
    #[schema(value_type = TopicId)]
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

impl NewsletterTopic {
    pub fn new(topic: &Topic, language: &str) -> Self {
        let (name, description) = topic.text(language);
        Self {
            id: topic.id,
            name,
            description,
        }
    }
}

/// Every newsletter topic.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"id": "product_news", "name": "Product news", "description": "New products and features, and what changed in the ones you use."},
    {"id": "service_status", "name": "Service status", "description": "Planned maintenance and incident reports."}
]}))]
pub struct NewsletterTopicList {
    pub data: Vec<NewsletterTopic>,
}

/// The topics the user receives newsletters about.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"topics": ["product_news", "service_status"]}))]
pub struct NewsletterSubscriptions {
    /// Topic ids, in catalogue order.
    #[schema(value_type = Vec<TopicId>)]
    pub topics: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_ids_are_the_catalogue() {
        let documented: Vec<String> = TopicId::ALL
            .iter()
            .map(|t| {
                serde_json::to_value(t)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let catalogue: Vec<&str> = crate::domain::newsletters::TOPICS
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(documented, catalogue);
    }
}
