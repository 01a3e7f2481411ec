use actix_web::{HttpResponse, get, web};

use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::Common;
use crate::views::catalog::{OfferList, OfferView};

/// List the offers of the catalogue
///
/// Every offer of the catalogue: its kind, its prices per billing period in CHF and EUR (before
/// VAT), its VAT category and its options. Public: no authentication.
#[utoipa::path(
    operation_id = "list_offers",
    tag = "billing",
    responses(
        (status = 200, description = "The catalogue", body = OfferList),
        Common,
    )
)]
#[get("/catalog/offers")]
pub async fn list_offers(services: web::Data<Services>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(OfferList {
            data: services
                .catalog
                .offers
                .iter()
                .map(OfferView::from)
                .collect(),
        }))
}
