//! `Query<T>`: query strings read with serde_html_form (repeated keys become lists:
//! `?status=paid&status=open`), failing with a 422 that names the parameter.

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.query_string();
        let result = if raw.contains("%00") {
            Err(AppError::field(
                "",
                "invalid_characters",
                "query parameters must not contain NUL characters",
            ))
        } else {
            let form = serde_html_form::Deserializer::from_bytes(raw.as_bytes());
            serde_path_to_error::deserialize::<_, T>(form)
                .map(Query)
                .map_err(|e| {
                    let message = e.inner().to_string();
                    // The path names a parameter whose value was refused; serde names a missing or
                    // unknown one in its message (`missing field `x``).
                    let field = match e.path().to_string() {
                        path if path != "." => path,
                        _ => message.split('`').nth(1).unwrap_or("").to_string(),
                    };
                    AppError::validation(vec![FieldError {
                        field,
                        code: "invalid".into(),
                        message,
                    }])
                })
        };
        std::future::ready(result)
    }
}

pub use crate::domain::ids::path_id;
pub use crate::domain::page::{PageParams, cursor, parsed, present};

/// Refuses (422 at `field`) any value of a repeated filter that is not one of `allowed`.
pub fn one_of(values: &[String], allowed: &[&str], field: &str) -> Result<(), AppError> {
    match values.iter().find(|v| !allowed.contains(&v.as_str())) {
        None => Ok(()),
        Some(_) => Err(AppError::field(
            field,
            "invalid",
            format!("each value must be one of: {}", allowed.join(", ")),
        )),
    }
}
