use actix_web::{HttpResponse, delete, web};

use crate::auth::Caller;
use crate::context::Services;
use crate::error::AppError;
use crate::error::responses::{Common, Reauthenticate, Unauthenticated};
use crate::services::deletion;
use crate::services::prerequisites::Outcome;
use crate::views::prerequisites::PrerequisitesUnmet;

/// Delete the caller's account
///
/// A sensitive action: the session must have authenticated with the password within the last 5
/// minutes (`POST /v1/auth/reauthenticate`). Refused while something depends on the account (each
/// condition is listed, with the organisations it concerns: their ids and names); otherwise every
/// session and token ends at once, personal data is erased, the activity record keeps only a
/// pseudonym, and the address can be used to sign up again.
#[utoipa::path(
    operation_id = "delete_me",
    tag = "accounts",
    security(("bearer_jwt" = [])),
    responses(
        (status = 204, description = "The account is deleted"),
        Unauthenticated,
        Reauthenticate,
        (status = 409, description = "Something must be done first; `unmet` lists each condition (`prerequisites_unmet`)", body = PrerequisitesUnmet, content_type = "application/problem+json"),
        Common,
    )
)]
#[delete("/me")]
pub async fn delete_me(
    caller: Caller,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    match deletion::delete(&services.pool, caller).await? {
        Outcome::Deleted => Ok(HttpResponse::NoContent().finish()),
        Outcome::Blocked(unmet) => Ok(PrerequisitesUnmet::response(
            "The account cannot be deleted yet; see `unmet`.",
            unmet,
        )),
    }
}
