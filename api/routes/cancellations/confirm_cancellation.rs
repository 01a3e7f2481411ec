use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::ratelimit::IpRateLimited;
use crate::context::Services;
use crate::domain::actor::Origin;
use crate::error::AppError;
use crate::error::responses::{Common, RateLimited, TokenBody};
use crate::http::Json;
use crate::services::cancellations;
use crate::views::cancellations::CancellationView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q0Zp7m3Vt2kX9sLr4Wc8yHb1NfJd6Ga5Ue0Ao3Ri7Ks"}))]
pub struct ConfirmCancellation {
    /// The `token` query parameter of the link mailed to whoever asked for the cancellation.
    pub token: String,
}

/// Confirm a product's cancellation with a mailed token
///
/// Confirm a product's cancellation with the token of the link mailed to its requester (R43;
/// single use, valid 24 hours; no authentication: the token is the proof, and its requester
/// must still hold `products` in the organisation). `now`: the product is cancelled at once;
/// `end_of_term`: it is `cancellation_pending` until its expiry. Automatic renewal is turned
/// off; the organisation's other administrators and legal representatives are told (R45);
/// invoices already issued stay due (R44). A refused confirmation leaves the link usable.
#[utoipa::path(
    operation_id = "confirm_cancellation",
    tag = "billing",
    request_body = ConfirmCancellation,
    responses(
        (status = 200, description = "Confirmed", body = CancellationView),
        (status = 409, description = "The product can no longer be cancelled this way: included in a bundle meanwhile (`bundled_product`), no longer active, expired or suspended (`product_not_cancellable`), or another cancellation was confirmed meanwhile (`cancellation_pending`)", body = crate::error::Problem, content_type = "application/problem+json", examples(
            ("product_not_cancellable" = (summary = "Not cancellable any more", value = json!({"type": "urn:leman:problem:product_not_cancellable", "title": "Conflict", "status": 409, "detail": "A product cancelled cannot be cancelled: only active, expired or suspended ones can.", "code": "product_not_cancellable"}))),
            ("cancellation_pending" = (summary = "Confirmed meanwhile", value = json!({"type": "urn:leman:problem:cancellation_pending", "title": "Conflict", "status": 409, "detail": "A confirmed cancellation of this product is waiting for the end of its term: withdraw it first to cancel otherwise.", "code": "cancellation_pending"}))),
            ("bundled_product" = (summary = "Included in a bundle", value = json!({"type": "urn:leman:problem:bundled_product", "title": "Conflict", "status": 409, "detail": "This product is included in a bundle: it is cancelled with its bundle, not alone.", "code": "bundled_product"}))),
        )),
        TokenBody,
        RateLimited,
        Common,
    )
)]
#[post("/cancellations/confirm")]
pub async fn confirm_cancellation(
    _limited: IpRateLimited,
    services: web::Data<Services>,
    meta: Origin,
    body: Json<ConfirmCancellation>,
) -> Result<HttpResponse, AppError> {
    let outcome = cancellations::confirm(&services, meta, body.0.token).await?;
    Ok(HttpResponse::Ok().json(CancellationView::from(&outcome)))
}
