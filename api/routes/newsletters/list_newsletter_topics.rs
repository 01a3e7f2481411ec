use actix_web::{HttpResponse, get};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::{self, newsletters::TOPICS};
use crate::error::AppError;
use crate::error::responses::{Common, Query as QueryErrors};
use crate::http::Query;
use crate::views::newsletters::{NewsletterTopic, NewsletterTopicList};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopicsQuery {
    /// `en` (default), `fr`, `de`, `it` or `es`: the language of names and descriptions.
    #[param(value_type = Option<crate::domain::Language>, example = "fr")]
    #[serde(default, deserialize_with = "crate::http::query::present")]
    pub language: Option<String>,
}

/// List the newsletter topics
///
/// The newsletter topics one can subscribe to, named and described in the language asked for.
#[utoipa::path(
    operation_id = "list_newsletter_topics",
    tag = "newsletters",
    params(TopicsQuery),
    responses(
        (status = 200, description = "Every topic", body = NewsletterTopicList),
        QueryErrors,
        Common,
    )
)]
#[get("/newsletter-topics")]
pub async fn list_newsletter_topics(query: Query<TopicsQuery>) -> Result<HttpResponse, AppError> {
    let language = match query.0.language.as_deref() {
        None => "en".to_string(),
        Some(l) => {
            domain::parse_language(l, "language").map_err(|e| AppError::validation(vec![e]))?
        }
    };
    let data = TOPICS
        .iter()
        .map(|t| NewsletterTopic::new(t, &language))
        .collect();
    Ok(HttpResponse::Ok().json(NewsletterTopicList { data }))
}
