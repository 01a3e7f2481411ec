use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::Services;
use crate::domain::actor::Origin;
use crate::domain::billing_states::CancellationWhen;
use crate::domain::ids::ProductId;
use crate::error::AppError;
use crate::error::responses::{Common, JsonBody, OrgAccess, Unauthenticated};
use crate::http::Json;
use crate::http::org::{InOrg, ProductsWrite, Requirement};
use crate::services::cancellations::{self, RequestInput};
use crate::views::cancellations::CancellationView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"when": "end_of_term", "reason": "We moved our site elsewhere.", "acknowledge_backup_deletion": true}))]
pub struct RequestCancellation {
    /// `end_of_term`: the product stays until its expiry; `now`: cancelled as soon as confirmed.
    pub when: CancellationWhen,
    /// Why, for us (at most 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Required `true` when the product keeps backups (`backups_deleted_at_cancellation`): they
    /// are deleted for good at cancellation, with no restore afterwards (R46).
    #[serde(default)]
    pub acknowledge_backup_deletion: bool,
}

/// Ask to cancel a product (R43–R46)
///
/// Nothing changes yet: the requester gets a link by mail (single use, valid 24 hours) that
/// confirms it (`confirm_cancellation`); unconfirmed, nothing is cancelled or deleted. Once
/// confirmed, `now` cancels the product at once and `end_of_term` leaves it `cancellation_pending`
/// until its expiry; automatic renewal is turned off, and the organisation's other administrators
/// and legal representatives are told. Invoices already issued stay due (R44). A product whose
/// offer keeps backups needs `acknowledge_backup_deletion` (R46). A product included in a bundle is
/// cancelled with its bundle; cancelling a bundle cancels what it includes. A new request replaces
/// one not yet confirmed. Holders of `products`. Tokens need `products:write`.
#[utoipa::path(
    operation_id = "request_cancellation",
    tag = "billing",
    security(("bearer_jwt" = []), ("personal_token" = [])),
    params(("org_id" = String, Path, description = "The organisation's id (`org_…`)", example = "org_01936d7a6b2f7c3e9d4a5b6c7d8e9f00"), ("product_id" = String, Path, description = "The product's id (`prd_…`)", example = "prd_01936d7a6b2f7c3e9d4a5b6c7d8e9f10")),
    extensions(("x-leman-permission" = json!(ProductsWrite::NEED)), ("x-leman-scope" = json!(ProductsWrite::SCOPE))),
    request_body = RequestCancellation,
    responses(
        (status = 202, description = "Requested: the confirmation link is on its way to the requester; the product is unchanged", body = CancellationView),
        Unauthenticated,
        OrgAccess,
        (status = 409, description = "The product is included in a bundle (`bundled_product`); it is not active, expired or suspended (`product_not_cancellable`); a confirmed cancellation waits for the end of its term (`cancellation_pending`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("bundled_product" = (summary = "Included in a bundle", value = json!({"type": "urn:leman:problem:bundled_product", "title": "Conflict", "status": 409, "detail": "This product is included in a bundle: it is cancelled with its bundle, not alone.", "code": "bundled_product"}))),
            ("product_not_cancellable" = (summary = "Not cancellable", value = json!({"type": "urn:leman:problem:product_not_cancellable", "title": "Conflict", "status": 409, "detail": "A product pending_payment cannot be cancelled: only active, expired or suspended ones can.", "code": "product_not_cancellable"}))),
            ("cancellation_pending" = (summary = "Already cancelled at the term's end", value = json!({"type": "urn:leman:problem:cancellation_pending", "title": "Conflict", "status": 409, "detail": "A confirmed cancellation of this product is waiting for the end of its term: withdraw it first to cancel otherwise.", "code": "cancellation_pending"}))),
        )),
        JsonBody,
        // After JsonBody: replaces its 422 with one that also names the backups' acknowledgement.
        (status = 422, description = "Wrong types, missing or unknown fields, or invalid values such as a `reason` over 500 characters (`validation_failed`); card data (`card_data_not_accepted`); the product keeps backups and `acknowledge_backup_deletion` is not `true` (`backup_deletion_not_acknowledged`, at `/acknowledge_backup_deletion`)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:leman:problem:backup_deletion_not_acknowledged", "title": "Unprocessable Content", "status": 422, "detail": "This product's backups are deleted for good at cancellation and cannot be restored afterwards: send `acknowledge_backup_deletion: true` to cancel it.", "code": "backup_deletion_not_acknowledged", "errors": [{"field": "/acknowledge_backup_deletion", "code": "backup_deletion_not_acknowledged", "message": "must be true: the backups are deleted for good"}]})),
        Common,
    )
)]
#[post("/orgs/{org_id}/products/{product_id}/cancellation")]
pub async fn request_cancellation(
    org: InOrg<ProductsWrite>,
    services: web::Data<Services>,
    meta: Origin,
    path: web::Path<(String, String)>,
    body: Json<RequestCancellation>,
) -> Result<HttpResponse, AppError> {
    let product_id = ProductId::parse(&path.1)?;
    let b = body.0;
    let input = RequestInput {
        when: b.when,
        reason: b.reason,
        acknowledge_backup_deletion: b.acknowledge_backup_deletion,
    };
    let outcome = cancellations::request(&services, meta, &org, product_id, input).await?;
    Ok(HttpResponse::Accepted().json(CancellationView::from(&outcome)))
}
