//! The `prerequisites_unmet` problem: a deletion refused, with each condition to meet first.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, PROBLEM_JSON, Problem};
use crate::services::prerequisites::{Blocker, ObjectKind, Unmet};

/// An object that blocks a deletion: what it is, its id and a label, so a front end can link to
/// it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "organization", "id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Müller Design Sàrl"}))]
pub struct BlockingObject {
    pub kind: ObjectKind,
    /// The object's id (for `prepaid_account`: the organisation's).
    pub id: String,
    /// A label for a human: the organisation's, member's or product's name, the invoice
    /// number, the invited address, what a payment or the prepaid account holds.
    pub name: String,
}

impl From<Blocker> for BlockingObject {
    fn from(b: Blocker) -> Self {
        Self {
            kind: b.kind,
            id: b.id,
            name: b.name,
        }
    }
}

/// One condition that blocks the deletion.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "only_member_of_organization", "detail": "You are the only member of 1 organisation: delete it or appoint someone else first.", "count": 1,
    "objects": [{"kind": "organization", "id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Müller Design Sàrl"}]}))]
pub struct UnmetPrerequisite {
    /// Stable machine-readable reason.
    pub code: &'static str,
    /// What to do first, for a human.
    pub detail: String,
    /// How many objects block (for `prepaid_balance`: the balance in minor units).
    pub count: i64,
    /// The objects that block, up to 100 (`count` says how many there are).
    pub objects: Vec<BlockingObject>,
}

impl From<Unmet> for UnmetPrerequisite {
    fn from(u: Unmet) -> Self {
        Self {
            code: u.code,
            detail: u.detail,
            count: u.count,
            objects: u.objects.into_iter().map(BlockingObject::from).collect(),
        }
    }
}

/// A problem (RFC 9457) with the list of unmet prerequisites as an extension member.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:leman:problem:prerequisites_unmet", "title": "Conflict", "status": 409,
    "detail": "The account cannot be deleted yet; see `unmet`.", "code": "prerequisites_unmet",
    "request_id": "01890a5d-ac96-774b-bcce-b302099a8057",
    "unmet": [{"code": "only_member_of_organization", "detail": "You are the only member of 1 organisation: delete it or appoint someone else first.", "count": 1,
               "objects": [{"kind": "organization", "id": "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00", "name": "Müller Design Sàrl"}]}]
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
                objects: vec![Blocker::new(
                    ObjectKind::Organization,
                    "org_1",
                    "Müller Sàrl",
                )],
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
            serde_json::json!([{"code": "only_member_of_organization", "detail": "Delete it first.", "count": 2,
                "objects": [{"kind": "organization", "id": "org_1", "name": "Müller Sàrl"}]}])
        );
    }
}
