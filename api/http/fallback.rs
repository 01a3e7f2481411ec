//! What answers when no route matched: 405 with `Allow` when the path exists under another method
//! (actix itself would say 404, actix-web #2735), else 404. The table is built from the OpenAPI
//! paths, which are the registered routes.

use crate::error::Status;
use actix_web::http::header::ALLOW;
use actix_web::{HttpRequest, web};

use crate::error::AppError;

/// Path templates (`/v1/orgs/{org_id}`) with the methods registered on each.
#[derive(Debug, Default, Clone)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &api.paths.paths {
            let segments = path
                .trim_matches('/')
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_string())
                    }
                })
                .collect();
            let mut methods = Vec::new();
            let ops = [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
                ("HEAD", &item.head),
                ("OPTIONS", &item.options),
            ];
            for (name, op) in ops {
                if op.is_some() {
                    methods.push(name.to_string());
                }
            }
            routes.push((segments, methods));
        }
        Self { routes }
    }

    /// Methods allowed on `path`, if any route has that shape. Only the most specific shapes
    /// count: `/invoices/exports` is that literal resource, not an invoice whose id is `exports`.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut allowed: Vec<String> = Vec::new();
        let mut best = 0;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| match s {
                    Segment::Literal(l) => l == p,
                    Segment::Param => !p.is_empty(),
                });
            if !matches {
                continue;
            }
            let literals = segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count();
            if literals > best {
                best = literals;
                allowed.clear();
            }
            if literals == best {
                allowed.extend(methods.iter().cloned());
            }
        }
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

pub async fn not_matched(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, AppError> {
    Err(match table.allowed(req.path()) {
        Some(methods) => AppError::new(
            Status::MethodNotAllowed,
            "method_not_allowed",
            format!(
                "{} is not allowed here; allowed: {}.",
                req.method(),
                methods.join(", ")
            ),
        )
        .with_header(ALLOW, methods.join(", ")),
        None => AppError::not_found(format!("No route matches {}.", req.path())),
    })
}
