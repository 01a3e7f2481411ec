//! The `prerequisites_unmet` problem: a deletion refused, with each condition to meet first.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, PROBLEM_JSON, Problem};
use crate::services::deletion::Unmet;

/// One condition that blocks the deletion.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "only_member_of_organization", "detail": "You are the only member of 1 organisation: delete it or appoint someone else first.", "count": 1}))]
pub struct UnmetPrerequisite {
    /// Stable machine-readable reason.
    pub code: &'static str,
    /// What to do first, for a human.
    pub detail: String,
    /// How many objects block.
    pub count: i64,
}

impl From<Unmet> for UnmetPrerequisite {
    fn from(u: Unmet) -> Self {
        Self {
            code: u.code,
            detail: u.detail,
            count: u.count,
        }
    }
}

/// A problem (RFC 9457) with the list of unmet prerequisites as an extension member.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:leman:problem:prerequisites_unmet", "title": "Conflict", "status": 409,
    "detail": "The account cannot be deleted yet; see `unmet`.", "code": "prerequisites_unmet",
    "request_id": "01890a5d-ac96-774b-bcce-b302099a8057",
    "unmet": [{"code": "only_member_of_organization", "detail": "You are the only member of 1 organisation: delete it or appoint someone else first.", "count": 1}]
}))]
pub struct PrerequisitesUnmet {
    #[serde(flatten)]
    pub problem: Problem,
    /// Every condition to meet first.
    pub unmet: Vec<UnmetPrerequisite>,
}

impl PrerequisitesUnmet {
    /// The 409 answer, as problem+json with the request id.
    pub fn response(detail: &str, unmet: Vec<Unmet>) -> HttpResponse {
        let error = AppError::conflict("prerequisites_unmet", detail);
        let body = PrerequisitesUnmet {
            problem: error.to_problem(crate::telemetry::current_request_id()),
            unmet: unmet.into_iter().map(UnmetPrerequisite::from).collect(),
        };
        HttpResponse::build(StatusCode::CONFLICT)
            .content_type(PROBLEM_JSON)
            .json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_refusal_is_a_problem_listing_each_condition() {
        let res = PrerequisitesUnmet::response(
            "Not yet.",
            vec![Unmet {
                code: "only_member_of_organization",
                detail: "Delete it first.".into(),
                count: 2,
            }],
        );
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(
            res.headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .unwrap(),
            PROBLEM_JSON
        );
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["type"], "urn:leman:problem:prerequisites_unmet");
        assert_eq!(body["code"], "prerequisites_unmet");
        assert_eq!(body["status"], 409);
        assert_eq!(body["detail"], "Not yet.");
        assert_eq!(
            body["unmet"],
            serde_json::json!([{"code": "only_member_of_organization", "detail": "Delete it first.", "count": 2}])
        );
    }
}
