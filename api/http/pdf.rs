//! Answering with a billing document: `application/pdf`, a strong `ETag` (the hash of the
//! deterministic bytes) and `304 Not Modified` when the client already holds those bytes.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::domain::documents::RenderedDocument;

/// The document, or 304 when `If-None-Match` names its entity tag (or `*`).
pub fn answer(req: &HttpRequest, doc: RenderedDocument) -> HttpResponse {
    let etag = doc.etag();
    let matches = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag);
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}\"", doc.filename),
        ))
        .body(doc.bytes)
}
