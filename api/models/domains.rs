//! Domains as we know them (migration `000018_domains`): one row per domain product, written
//! after the registry answered. Contacts are JSON (`domain::domains::Contact`), statuses a JSON
//! array of EPP names.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::domains;
use crate::domain::domains::{Contact, DomainStatus, EppStatus, TransferState, statuses_from_json};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = domains, treat_none_as_null = true)]
pub struct Domain {
    pub id: String,
    pub organization_id: String,
    pub product_id: String,
    /// ASCII (punycode), lower case.
    pub name: String,
    pub unicode_name: String,
    pub tld: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: DomainStatus,
    /// JSON array of EPP statuses, as the registry last answered.
    pub registry_statuses: String,
    pub locked: bool,
    pub privacy: bool,
    pub owner_contact: String,
    pub admin_contact: String,
    pub tech_contact: String,
    pub registered_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub last_transferred_at: Option<NaiveDateTime>,
    pub owner_changed_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub transfer_state: TransferState,
    pub transfer_state_at: Option<NaiveDateTime>,
    pub transfer_code_expires_at: Option<NaiveDateTime>,
    /// The gaining registrar's tag of a requested transfer.
    pub transfer_requested_by: Option<String>,
    /// When the registry approves a requested transfer unless it is rejected.
    pub transfer_completes_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Domain {
    pub fn statuses(&self) -> Vec<EppStatus> {
        statuses_from_json(&self.registry_statuses)
    }

    /// A stored contact; a row always holds valid JSON (written from `Contact`).
    pub fn contact(raw: &str) -> Contact {
        serde_json::from_str(raw).unwrap_or_else(|_| Contact {
            name: String::new(),
            organization: None,
            address_line1: String::new(),
            address_line2: None,
            postal_code: String::new(),
            city: String::new(),
            country: String::new(),
            email: String::new(),
            phone: None,
        })
    }

    pub fn owner(&self) -> Contact {
        Self::contact(&self.owner_contact)
    }
}

pub fn insert(conn: &mut DbConnection, d: &Domain) -> QueryResult<usize> {
    diesel::insert_into(domains::table)
        .values(d.clone())
        .execute(conn)
}

/// An organisation's domain by id (`None` for another organisation's).
pub fn find(conn: &mut DbConnection, org_id: &str, id: &str) -> QueryResult<Option<Domain>> {
    domains::table
        .find(id)
        .filter(domains::organization_id.eq(org_id))
        .select(Domain::as_select())
        .first(conn)
        .optional()
}

/// The domain of a product.
pub fn of_product(conn: &mut DbConnection, product_id: &str) -> QueryResult<Option<Domain>> {
    domains::table
        .filter(domains::product_id.eq(product_id))
        .select(Domain::as_select())
        .first(conn)
        .optional()
}

/// The live registration of a name through us (`registering`, `active` or `expired`).
pub fn live_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Domain>> {
    domains::table
        .filter(domains::name.eq(name))
        .filter(domains::status.eq_any([
            DomainStatus::Registering.as_str(),
            DomainStatus::Active.as_str(),
            DomainStatus::Expired.as_str(),
        ]))
        .select(Domain::as_select())
        .first(conn)
        .optional()
}

/// Writes back a domain read earlier if it has not changed since (`updated_at` as read): the
/// compare-and-set every change of a domain goes through, so a job and a request acting on the
/// same domain cannot both apply. Sets `updated_at` to `now` (at least a microsecond later).
pub fn save(conn: &mut DbConnection, d: &mut Domain, now: NaiveDateTime) -> QueryResult<bool> {
    let read_at = d.updated_at;
    d.updated_at = now.max(read_at + chrono::Duration::microseconds(1));
    let n = diesel::update(
        domains::table
            .find(&d.id)
            .filter(domains::updated_at.eq(read_at)),
    )
    .set(d.clone())
    .execute(conn)?;
    if n != 1 {
        d.updated_at = read_at;
    }
    Ok(n == 1)
}

/// A domain follows its product through the lifecycle: `expired` while the product is expired or
/// suspended (the redemption period), `cancelled` with it, `active` again once a renewal brings
/// it back. A domain that left us (transferred out, failed) or is still registering stays as it
/// is. Called by every change of a product's status (`product_lifecycle::transition`,
/// `renewals::apply`), in the same transaction.
pub fn follow_product(
    conn: &mut DbConnection,
    product_id: &str,
    product_status: crate::domain::billing_states::ProductStatus,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::domain::billing_states::ProductStatus as P;
    let to = match product_status {
        P::Active => DomainStatus::Active,
        P::Expired | P::Suspended => DomainStatus::Expired,
        P::Cancelled => DomainStatus::Cancelled,
        _ => return Ok(0),
    };
    diesel::update(
        domains::table
            .filter(domains::product_id.eq(product_id))
            .filter(domains::status.eq_any([
                DomainStatus::Active.as_str(),
                DomainStatus::Expired.as_str(),
            ]))
            .filter(domains::status.ne(to.as_str())),
    )
    .set((domains::status.eq(to.as_str()), domains::updated_at.eq(now)))
    .execute(conn)
}

/// What `page` filters on (issue 12 part 3).
#[derive(Debug, Clone, Default)]
pub struct DomainFilter {
    pub statuses: Vec<DomainStatus>,
    pub tld: Option<String>,
    pub expires_before: Option<NaiveDateTime>,
    /// Part of the name, ASCII or Unicode, lower case.
    pub search: Option<String>,
}

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// An organisation's domains by name then id, after the keyset `after` (name, id).
pub fn page(
    conn: &mut DbConnection,
    org_id: &str,
    filter: &DomainFilter,
    after: Option<(String, String)>,
    limit: i64,
) -> QueryResult<Vec<Domain>> {
    let mut query = domains::table
        .filter(domains::organization_id.eq(org_id))
        .select(Domain::as_select())
        .order((domains::name.asc(), domains::id.asc()))
        .limit(limit)
        .into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(domains::status.eq_any(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(tld) = &filter.tld {
        query = query.filter(domains::tld.eq(tld.clone()));
    }
    if let Some(before) = filter.expires_before {
        query = query.filter(domains::expires_at.lt(before));
    }
    if let Some(search) = &filter.search {
        let pattern = contains_pattern(search);
        query = query.filter(
            domains::name
                .like(pattern.clone())
                .escape('\\')
                .or(domains::unicode_name.like(pattern).escape('\\')),
        );
    }
    if let Some((name, id)) = after {
        query = query.filter(
            domains::name
                .ge(name.clone())
                .and(domains::name.gt(name).or(domains::id.gt(id))),
        );
    }
    query.load(conn)
}

/// Whether each product renews automatically, in one query (a page of domains).
pub fn auto_renew_of(
    conn: &mut DbConnection,
    product_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, bool>> {
    use crate::db::schema::products;
    Ok(products::table
        .filter(products::id.eq_any(product_ids))
        .select((products::id, products::auto_renew))
        .load::<(String, bool)>(conn)?
        .into_iter()
        .collect())
}

/// Cancels the `registering` domains of an expired, unpaid order: their names are free again.
pub fn cancel_registering_of_order(
    conn: &mut DbConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::db::schema::products;
    let of_order = products::table
        .filter(products::order_id.eq(order_id))
        .select(products::id);
    diesel::update(
        domains::table
            .filter(domains::product_id.eq_any(of_order))
            .filter(domains::status.eq(DomainStatus::Registering.as_str())),
    )
    .set((
        domains::status.eq(DomainStatus::Cancelled.as_str()),
        domains::updated_at.eq(now),
    ))
    .execute(conn)
}

/// A domain by id, whatever its organisation (jobs).
pub fn find_any(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Domain>> {
    domains::table
        .find(id)
        .select(Domain::as_select())
        .first(conn)
        .optional()
}
