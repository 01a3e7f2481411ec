//! Purging a deleted organisation once its legal retention period is over: every row that
//! belongs to it, its activity records and their hash chain, then the organisation itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{
    activities, activity_chains, cancellations, invitations, invoice_lines, invoices, memberships,
    orders, organizations, payment_methods, payments, prepaid_accounts, prepaid_transactions,
    pro_formas, product_changes, products, renewals,
};

/// Deleted organisations whose retention ended by `now`, oldest first.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    organizations::table
        .filter(organizations::deleted_at.is_not_null())
        .filter(organizations::retain_until.le(now))
        .order((organizations::retain_until, organizations::id))
        .select(organizations::id)
        .limit(limit)
        .load(conn)
}

/// Deletes the organisation `org_id` and everything that belongs to it (children first). The
/// records of its chain go with the chain, so what is left still verifies.
pub fn purge(conn: &mut DbConnection, org_id: &str) -> QueryResult<()> {
    // Its tasks (invoice exports) and their files.
    super::task_files::purge_organization(conn, org_id)?;
    // Its webhook endpoints (their deliveries go with them).
    super::webhook_endpoints::purge_organization(conn, org_id)?;
    let org_invoices = invoices::table
        .filter(invoices::organization_id.eq(org_id))
        .select(invoices::id);
    diesel::delete(invoice_lines::table.filter(invoice_lines::invoice_id.eq_any(org_invoices)))
        .execute(conn)?;
    diesel::delete(payments::table.filter(payments::organization_id.eq(org_id))).execute(conn)?;
    diesel::delete(
        prepaid_transactions::table.filter(prepaid_transactions::organization_id.eq(org_id)),
    )
    .execute(conn)?;
    diesel::delete(prepaid_accounts::table.filter(prepaid_accounts::organization_id.eq(org_id)))
        .execute(conn)?;
    diesel::delete(renewals::table.filter(renewals::organization_id.eq(org_id))).execute(conn)?;
    diesel::delete(product_changes::table.filter(product_changes::organization_id.eq(org_id)))
        .execute(conn)?;
    diesel::delete(cancellations::table.filter(cancellations::organization_id.eq(org_id)))
        .execute(conn)?;
    diesel::delete(pro_formas::table.filter(pro_formas::organization_id.eq(org_id)))
        .execute(conn)?;
    // Its domains (transferred out or lapsed long ago) and their codes' hashes, before the
    // products they belong to.
    {
        use crate::db::schema::{domain_transfer_codes, domains};
        let org_domains = domains::table
            .filter(domains::organization_id.eq(org_id))
            .select(domains::id);
        diesel::delete(
            domain_transfer_codes::table
                .filter(domain_transfer_codes::domain_id.eq_any(org_domains)),
        )
        .execute(conn)?;
        diesel::delete(domains::table.filter(domains::organization_id.eq(org_id))).execute(conn)?;
    }
    diesel::delete(products::table.filter(products::organization_id.eq(org_id))).execute(conn)?;
    diesel::delete(orders::table.filter(orders::organization_id.eq(org_id))).execute(conn)?;
    diesel::delete(invoices::table.filter(invoices::organization_id.eq(org_id))).execute(conn)?;
    diesel::delete(payment_methods::table.filter(payment_methods::organization_id.eq(org_id)))
        .execute(conn)?;
    diesel::delete(invitations::table.filter(invitations::organization_id.eq(org_id)))
        .execute(conn)?;
    diesel::delete(memberships::table.filter(memberships::organization_id.eq(org_id)))
        .execute(conn)?;
    diesel::delete(
        activities::table.filter(
            activities::organization_id
                .eq(org_id)
                .or(activities::chain_id.eq(org_id)),
        ),
    )
    .execute(conn)?;
    diesel::delete(activity_chains::table.find(org_id)).execute(conn)?;
    diesel::delete(organizations::table.find(org_id)).execute(conn)?;
    Ok(())
}
