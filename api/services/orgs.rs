//! Organisations (R2, R14, R15): creating one (the creator becomes its legal representative),
//! reading and editing it, the caller's list, and the access check every route under
//! `/v1/orgs/{org_id}` goes through: not a member (or no such organisation) is 404, a member
//! without what the route needs is 403 `permission_denied`.

use crate::domain::scopes::Scope;
use crate::error::Status;

use crate::auth::Caller;
use crate::db::{self, DbConnection, Pool};
use crate::domain::Checks;
use crate::domain::actor::Origin;
use crate::domain::ids::OrgId;
use crate::domain::orgs::{
    self as rules, BillingAddress, Currency, Grant, Need, Permissions, Role,
};
use crate::domain::page::PageParams;
use crate::domain::page::cursor;
use crate::error::AppError;
use crate::models::memberships::{self, Membership};
use crate::models::organizations::{self, Organization, OrganizationChange};
use crate::services::activity::{self, Event};
use crate::services::tokens::next_cursor;

/// A member's standing in the organisation a request is about.
#[derive(Debug, Clone)]
pub struct Access {
    pub org: Organization,
    pub membership: Membership,
    pub grant: Grant,
}

/// A request about one organisation: who asks, which organisation (its id already parsed) and
/// what the route needs. `http::org::InOrg` builds it from the route's declared requirement,
/// after checking the token scope; the membership check runs here, in the service's own
/// connection or transaction.
#[derive(Debug, Clone)]
pub struct OrgRequest {
    pub caller: Caller,
    pub org_id: OrgId,
    pub need: Need,
}

impl OrgRequest {
    /// The caller's access inside a transaction (taking the organisation's row lock first).
    pub fn authorize(&self, conn: &mut DbConnection) -> Result<Access, AppError> {
        authorize(conn, &self.caller, &self.org_id, self.need)
    }

    /// The caller's access, read in its own connection (for routes that only read).
    pub async fn access(&self, pool: &Pool) -> Result<Access, AppError> {
        let this = self.clone();
        db::run(pool, move |conn| this.authorize(conn)).await
    }
}

pub fn not_found() -> AppError {
    AppError::not_found("No such organisation.")
}

/// The caller's access to `org_id` for a route needing `need`: the token scope first, then the
/// membership (404 when there is none: another organisation's ids reveal nothing), then the
/// role or permission (403 `permission_denied`).
pub fn authorize(
    conn: &mut DbConnection,
    caller: &Caller,
    org_id: &str,
    need: Need,
) -> Result<Access, AppError> {
    // Inside a write transaction the organisation's row lock comes first (the concurrency rule):
    // whatever this transaction then reads of the organisation stays true until it commits.
    if db::in_transaction(conn)? {
        organizations::lock(conn, org_id)?;
    }
    let (membership, org) =
        memberships::find_with_org(conn, org_id, &caller.user_id)?.ok_or_else(not_found)?;
    let grant = membership.grant();
    if !grant.satisfies(need) {
        let detail = match need {
            Need::Admin => {
                "This needs an admin or a legal representative of this organisation.".to_string()
            }
            Need::Both(a, b) => format!(
                "This needs the `{}` and `{}` permissions in this organisation.",
                a.as_str(),
                b.as_str()
            ),
            other => format!(
                "This needs the `{}` permission in this organisation.",
                other.as_str()
            ),
        };
        return Err(AppError::new(
            Status::Forbidden,
            "permission_denied",
            detail,
        ));
    }
    Ok(Access {
        org,
        membership,
        grant,
    })
}

/// One keyset page of what an organisation holds: the caller's access (checked for the route's
/// requirement), the limit and cursor read, `load(conn, org_id, after, limit + 1)`
/// run, and the next page's cursor made from `key` (the row's timestamp and id).
pub async fn page_in<T, L, K>(
    pool: &Pool,
    org: &OrgRequest,
    page: PageParams,
    load: L,
    key: K,
) -> Result<(Vec<T>, Option<String>), AppError>
where
    T: Send + 'static,
    L: FnOnce(
            &mut DbConnection,
            &str,
            Option<(chrono::NaiveDateTime, String)>,
            i64,
        ) -> diesel::QueryResult<Vec<T>>
        + Send
        + 'static,
    K: Fn(&T) -> (chrono::NaiveDateTime, &str),
{
    let access = org.access(pool).await?;
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut rows = db::run(pool, move |conn| {
        Ok(load(conn, &access.org.id, after, limit + 1)?)
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |r| {
        let (at, id) = key(r);
        cursor::encode(at, id)
    });
    Ok((rows, next))
}

pub struct NewOrganization {
    pub name: String,
    pub country: String,
    pub currency: Currency,
    pub billing_address: BillingAddress,
    pub vat_number: Option<String>,
}

fn check_vat(checks: &mut Checks, raw: Option<&str>) -> Option<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Some(None),
        Some(v) => checks
            .check(rules::parse_vat_number(v, "/vat_number"))
            .map(Some),
    }
}

fn org_name(raw: &str) -> Result<String, crate::error::FieldError> {
    rules::parse_text(raw, "/name", 100)
}

/// Creates an organisation; the caller becomes its legal representative.
pub async fn create(
    pool: &Pool,
    meta: Origin,
    caller: Caller,
    input: NewOrganization,
) -> Result<(Organization, Membership), AppError> {
    caller.require_scope(Scope::OrgsWrite)?;
    let mut checks = Checks::default();
    let name = checks.check(org_name(&input.name));
    let country = checks.check(rules::parse_country(&input.country, "/country"));
    let address = input.billing_address.parse(&mut checks, "/billing_address");
    let vat = check_vat(&mut checks, input.vat_number.as_deref());
    checks.finish()?;
    let (Some(name), Some(country), Some(address), Some(vat_number)) =
        (name, country, address, vat)
    else {
        return Err(AppError::internal("checked fields missing"));
    };
    let now = db::now();
    let org = Organization {
        id: OrgId::generate().into_inner(),
        name,
        country,
        currency: input.currency.as_str().to_string(),
        address_line1: address.line1,
        address_line2: address.line2,
        postal_code: address.postal_code,
        city: address.city,
        vat_number,
        require_two_factor: false,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        retain_until: None,
        default_payment_method: None,
    };
    let membership = Membership {
        organization_id: org.id.clone(),
        user_id: caller.user_id.clone(),
        role: Role::LegalRepresentative,
        permissions: Permissions::default(),
        created_at: now,
        updated_at: now,
    };
    let (o, m) = (org.clone(), membership.clone());
    db::run(pool, move |conn| {
        db::write(conn, |c| {
            organizations::insert(c, &o)?;
            memberships::insert(c, &m)?;
            activity::record(c, &meta, Event::organization_created(&caller.user_id, &o))?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok((org, membership))
}

/// The fields of an edit; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Default)]
pub struct OrganizationEdit {
    pub name: Option<String>,
    pub country: Option<String>,
    pub currency: Option<Currency>,
    pub billing_address: Option<BillingAddress>,
    pub vat_number: Option<Option<String>>,
}

/// Edits the organisation's identity (admins and legal representatives).
pub async fn update(
    pool: &Pool,
    meta: Origin,
    org: &OrgRequest,
    edit: OrganizationEdit,
) -> Result<(Organization, Membership), AppError> {
    let org = org.clone();
    let mut checks = Checks::default();
    let name = edit.name.as_deref().map(|n| checks.check(org_name(n)));
    let country = edit
        .country
        .as_deref()
        .map(|c| checks.check(rules::parse_country(c, "/country")));
    let address = edit
        .billing_address
        .as_ref()
        .map(|a| a.parse(&mut checks, "/billing_address"));
    let vat = edit
        .vat_number
        .as_ref()
        .map(|v| check_vat(&mut checks, v.as_deref()));
    checks.finish()?;
    let now = db::now();
    let mut change = OrganizationChange {
        name: name.flatten(),
        country: country.flatten(),
        currency: edit.currency.map(|c| c.as_str().to_string()),
        vat_number: vat.flatten(),
        updated_at: Some(now),
        ..Default::default()
    };
    if let Some(Some(a)) = address {
        change.address_line1 = Some(a.line1);
        change.address_line2 = Some(a.line2);
        change.postal_code = Some(a.postal_code);
        change.city = Some(a.city);
    }
    let mut fields: Vec<&str> = Vec::new();
    for (set, field) in [
        (change.name.is_some(), "name"),
        (change.country.is_some(), "country"),
        (change.currency.is_some(), "currency"),
        (change.address_line1.is_some(), "billing_address"),
        (change.vat_number.is_some(), "vat_number"),
    ] {
        if set {
            fields.push(field);
        }
    }
    db::run(pool, move |conn| {
        db::write_retrying(conn, |c| {
            let access = org.authorize(c)?;
            let org_id = &org.org_id;
            let changes_currency = edit
                .currency
                .is_some_and(|cur| cur != Currency::from_code(&access.org.currency));
            if changes_currency
                && (crate::models::products::count_all(c, org_id)? > 0
                    || crate::models::invoices::count_all(c, org_id)? > 0
                    || crate::models::payments::any_for_organization(c, org_id)?
                    || crate::models::prepaid::ever_used(c, org_id)?
                    // A pro forma's transfer, in its currency, may still arrive.
                    || crate::models::pro_formas::any_for_organization(c, org_id)?)
            {
                return Err(AppError::conflict(
                    "currency_locked",
                    "The organisation has products, invoices, pro formas, payments or prepaid money: its currency can no longer change.",
                ));
            }
            organizations::update(c, org_id, &change)?;
            activity::record(
                c,
                &meta,
                Event::organization_updated(&org.caller.user_id, org_id, &fields),
            )?;
            let updated = organizations::find(c, org_id)?.ok_or_else(not_found)?;
            Ok((updated, access.membership))
        })
    })
    .await
}

/// A page of the caller's organisations (with their role), oldest membership first.
pub async fn list_mine(
    pool: &Pool,
    caller: &Caller,
    page: PageParams,
) -> Result<(Vec<(Membership, Organization)>, Option<String>), AppError> {
    caller.require_scope(Scope::OrgsRead)?;
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let user_id = caller.user_id.clone();
    let mut rows = db::run(pool, move |conn| {
        Ok(memberships::page_for_user(
            conn,
            &user_id,
            after,
            limit + 1,
        )?)
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |(m, _)| {
        cursor::encode(m.created_at, &m.organization_id)
    });
    Ok((rows, next))
}
