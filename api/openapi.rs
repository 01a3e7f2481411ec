//! The OpenAPI document: info, security schemes, tags and shared schemas here; paths come from
//! the routes themselves (utoipa-actix-web), so code and spec cannot drift.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Leman API",
        description = "The API of the Leman customer Manager: accounts and security, organisations and roles, products, invoices, payments, renewals and domains.\n\nErrors are RFC 9457 `application/problem+json` bodies with a stable `code`. Lists use cursor pagination (`limit`, `cursor`, `next_cursor`). Money is `{\"amount\": \"12.50\", \"currency\": \"CHF\"}`. POSTs accept an `Idempotency-Key` header (kept 24 hours).",
        license(name = "Apache-2.0 OR MIT", identifier = "Apache-2.0 OR MIT"),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics, for operators"),
        (name = "meta", description = "The API describing itself"),
        (name = "accounts", description = "Sign-up, email verification and the caller's own account"),
        (name = "auth", description = "Signing in and out, sessions and their tokens"),
        (name = "newsletters", description = "Newsletter topics and the caller's subscriptions"),
        (name = "tokens", description = "Personal and application tokens for apps and integrations"),
        (name = "activities", description = "The caller's activity log"),
        (name = "security", description = "The connection log (signed-in devices), login alerts and the lock threshold"),
        (name = "two_factor", description = "Two-factor authentication (TOTP) and its recovery codes"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from `POST /v1/auth/login` (15 minutes), renewed with the refresh token."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "personal_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lmn_…")
                    .description(Some("A personal or application token (`lmn_…`) with scopes; never allowed sensitive actions."))
                    .build(),
            ),
        );
    }
}

/// The whole document, as the server serves it.
pub fn build() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    api
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn to_json(api: &utoipa::openapi::OpenApi) -> String {
    let mut json = api
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
