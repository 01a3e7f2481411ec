//! `InOrg<R>`: the extractor of every route under `/v1/orgs/{org_id}`. The route names its
//! requirement `R` once — a token scope and what the membership must hold — and both the check
//! and the spec come from it: the route declares
//! `extensions(("x-leman-permission" = json!(R::NEED)), ("x-leman-scope" = json!(R::SCOPE)))`
//! and `openapi::to_json` turns `x-leman-scope` into the operation's `personal_token` scope.
//!
//! The extractor checks the token scope (403 `insufficient_scope`) and the id's shape (404);
//! the membership (404) and the role or permission (403 `permission_denied`) are checked by the
//! service through `OrgRequest`, inside its transaction where it writes.

use std::marker::PhantomData;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;

use crate::auth::Caller;
use crate::domain::ids::OrgId;
use crate::domain::orgs::{Need, Permission};
use crate::domain::scopes::Scope;
use crate::error::AppError;
use crate::services::orgs::OrgRequest;

/// What a route under `/v1/orgs/{org_id}` needs: a token scope and a membership requirement.
pub trait Requirement: 'static {
    const SCOPE: Scope;
    const NEED: Need;
}

macro_rules! requirement {
    ($(#[$doc:meta])* $name:ident, $scope:ident, $need:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl Requirement for $name {
            const SCOPE: Scope = Scope::$scope;
            const NEED: Need = $need;
        }
    };
}

requirement!(
    /// Any member reads the organisation (`orgs:read`).
    MemberReads, OrgsRead, Need::Member
);
requirement!(
    /// Any member changes what is theirs in it, e.g. leaving (`orgs:write`).
    MemberWrites, OrgsWrite, Need::Member
);
requirement!(
    /// Admins and legal representatives read (`orgs:read`).
    AdminReads, OrgsRead, Need::Admin
);
requirement!(
    /// Admins and legal representatives change the organisation (`orgs:write`).
    AdminWrites, OrgsWrite, Need::Admin
);
requirement!(
    /// Holders of `users` read members and invitations (`orgs:read`).
    UsersRead, OrgsRead, Need::Permission(Permission::Users)
);
requirement!(
    /// Holders of `users` manage members and invitations (`orgs:write`).
    UsersWrite, OrgsWrite, Need::Permission(Permission::Users)
);
requirement!(
    /// Holders of `accounting` read invoices, payments and the prepaid account (`billing:read`).
    AccountingReads, BillingRead, Need::Permission(Permission::Accounting)
);
requirement!(
    /// Holders of `accounting` pay, top up and manage payment methods (`billing:write`).
    AccountingWrites, BillingWrite, Need::Permission(Permission::Accounting)
);
requirement!(
    /// Admins and legal representatives read the billing settings (`billing:read`).
    BillingAdminReads, BillingRead, Need::Admin
);
requirement!(
    /// Admins and legal representatives change the billing settings (`billing:write`).
    BillingAdminWrites, BillingWrite, Need::Admin
);
requirement!(
    /// Holders of `products` read products (`products:read`).
    ProductsRead, ProductsRead, Need::Permission(Permission::Products)
);
requirement!(
    /// Holders of `products` change products (`products:write`).
    ProductsWrite, ProductsWrite, Need::Permission(Permission::Products)
);
requirement!(
    /// Holders of `products` and `accounting` order and pay (`billing:write`).
    ProductsAndAccountingWrite, BillingWrite, Need::Both(Permission::Products, Permission::Accounting)
);
requirement!(
    /// Holders of `domains` read domains (`domains:read`).
    DomainsRead, DomainsRead, Need::Permission(Permission::Domains)
);
requirement!(
    /// Holders of `domains` change domains (`domains:write`).
    DomainsWrite, DomainsWrite, Need::Permission(Permission::Domains)
);

/// The organisation a route is about, for a caller whose token may reach it.
pub struct InOrg<R: Requirement> {
    pub request: OrgRequest,
    _requirement: PhantomData<R>,
}

impl<R: Requirement> InOrg<R> {
    pub fn into_inner(self) -> OrgRequest {
        self.request
    }
}

impl<R: Requirement> std::ops::Deref for InOrg<R> {
    type Target = OrgRequest;

    fn deref(&self) -> &OrgRequest {
        &self.request
    }
}

impl<R: Requirement> FromRequest for InOrg<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let raw = req
            .match_info()
            .get("org_id")
            .unwrap_or_default()
            .to_string();
        Box::pin(async move {
            let caller = caller.await?;
            caller.require_scope(R::SCOPE)?;
            let org_id = OrgId::parse(&raw)?;
            Ok(InOrg {
                request: OrgRequest {
                    caller,
                    org_id,
                    need: R::NEED,
                },
                _requirement: PhantomData,
            })
        })
    }
}
