//! OpenAPI links (3.1 `responses.<status>.links`): what an answer lets a client call next, with
//! which of its values. A create leads to reading, changing and deleting what it made; a list
//! leads to each item's operations through the first item's id. Generated clients show them,
//! and the contract run's stateful phase (`scripts/contract-test.sh`, schemathesis) follows them
//! instead of guessing, so it reaches real resources.
//!
//! A delete whose id the contract run pins in its configuration (an organisation, a payment
//! method: schemathesis applies configured values over a link's) is linked from lists only, not
//! from the create: the run would otherwise delete the pinned one, not the one just created.
//!
//! An operation with a link is an entry point of that phase's scenarios: a create that generated
//! data rarely gets through (an order, a payment, a new organisation, a transfer-out code, all
//! refused with 402/409/422/429 on most generated bodies) has none, so the scenarios start where
//! they can go on (the caller's organisations, tokens, invitations, payment methods, exports).
//!
//! utoipa 6 has no way to declare a link on a response, so they are added to the generated
//! document here, from one table, [`LINKS`]. `tests/api/spec.rs` checks every link names an
//! existing operation, only parameters that operation takes, and values the answer holds.

use serde_json::{Map, Value, json};

/// One link: `from` answering `status` leads to `to`, whose parameters take these values
/// (runtime expressions: `$request.path.<name>` or `$response.body#/<JSON pointer>`).
pub struct Link {
    pub from: &'static str,
    pub status: &'static str,
    pub to: &'static str,
    pub parameters: &'static [(&'static str, &'static str)],
}

const fn link(
    from: &'static str,
    status: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> Link {
    Link {
        from,
        status,
        to,
        parameters,
    }
}

/// The organisation of the request, under `/v1/orgs/{org_id}`.
const ORG: (&str, &str) = ("org_id", "$request.path.org_id");

/// Every link of the document, grouped by the answer they start from (a table: one link a line).
#[rustfmt::skip]
pub const LINKS: &[Link] = &[
    // Organisations: the caller's list leads to each organisation's lists.
    link("list_my_organizations", "200", "get_organization", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "update_organization", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_members", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_invitations", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_orders", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_invoices", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_credit_notes", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_payment_methods", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_products", &[("org_id", "$response.body#/data/0/id")]),
    link("list_my_organizations", "200", "list_domains", &[("org_id", "$response.body#/data/0/id")]),
    link("get_organization", "200", "update_organization", &[("org_id", "$response.body#/id")]),
    link("get_organization", "200", "get_billing_settings", &[("org_id", "$response.body#/id")]),
    link("get_organization", "200", "get_security_policy", &[("org_id", "$response.body#/id")]),
    link("update_organization", "200", "get_organization", &[("org_id", "$response.body#/id")]),
    // Personal and application tokens.
    link("create_token", "201", "revoke_token", &[("token_id", "$response.body#/id")]),
    link("list_tokens", "200", "revoke_token", &[("token_id", "$response.body#/data/0/id")]),
    // Outgoing webhook endpoints and their deliveries.
    link("list_my_organizations", "200", "list_webhook_endpoints", &[("org_id", "$response.body#/data/0/id")]),
    link("create_webhook_endpoint", "201", "get_webhook_endpoint", &[ORG, ("webhook_endpoint_id", "$response.body#/id")]),
    link("create_webhook_endpoint", "201", "update_webhook_endpoint", &[ORG, ("webhook_endpoint_id", "$response.body#/id")]),
    link("create_webhook_endpoint", "201", "rotate_webhook_endpoint_secret", &[ORG, ("webhook_endpoint_id", "$response.body#/id")]),
    link("list_webhook_endpoints", "200", "get_webhook_endpoint", &[ORG, ("webhook_endpoint_id", "$response.body#/data/0/id")]),
    link("list_webhook_endpoints", "200", "update_webhook_endpoint", &[ORG, ("webhook_endpoint_id", "$response.body#/data/0/id")]),
    link("list_webhook_endpoints", "200", "delete_webhook_endpoint", &[ORG, ("webhook_endpoint_id", "$response.body#/data/0/id")]),
    link("list_webhook_endpoints", "200", "list_webhook_deliveries", &[ORG, ("webhook_endpoint_id", "$response.body#/data/0/id")]),
    link("list_webhook_deliveries", "200", "retry_webhook_delivery", &[ORG, ("webhook_endpoint_id", "$request.path.webhook_endpoint_id"), ("delivery_id", "$response.body#/data/0/id")]),
    // Members and invitations.
    link("list_members", "200", "update_member", &[ORG, ("user_id", "$response.body#/data/0/user_id")]),
    link("list_members", "200", "unlock_member", &[ORG, ("user_id", "$response.body#/data/0/user_id")]),
    link("list_members", "200", "remove_member", &[ORG, ("user_id", "$response.body#/data/0/user_id")]),
    link("update_member", "200", "unlock_member", &[ORG, ("user_id", "$response.body#/user_id")]),
    link("create_invitation", "201", "revoke_invitation", &[ORG, ("invitation_id", "$response.body#/id")]),
    link("list_invitations", "200", "revoke_invitation", &[ORG, ("invitation_id", "$response.body#/data/0/id")]),
    // Orders and invoices.
    link("list_orders", "200", "get_order", &[ORG, ("order_id", "$response.body#/data/0/id")]),
    link("list_orders", "200", "pay_order", &[ORG, ("order_id", "$response.body#/data/0/id")]),
    link("get_order", "200", "pay_order", &[ORG, ("order_id", "$response.body#/id")]),
    link("list_invoices", "200", "get_invoice", &[ORG, ("invoice_id", "$response.body#/data/0/id")]),
    link("list_invoices", "200", "get_invoice_pdf", &[ORG, ("invoice_id", "$response.body#/data/0/id")]),
    link("list_invoices", "200", "pay_invoice", &[ORG, ("invoice_id", "$response.body#/data/0/id")]),
    link("get_invoice", "200", "get_invoice_pdf", &[ORG, ("invoice_id", "$response.body#/id")]),
    link("get_invoice", "200", "pay_invoice", &[ORG, ("invoice_id", "$response.body#/id")]),
    // Payment methods.
    link("create_payment_method", "201", "set_default_payment_method", &[ORG, ("payment_method_id", "$response.body#/id")]),
    link("list_payment_methods", "200", "set_default_payment_method", &[ORG, ("payment_method_id", "$response.body#/data/0/id")]),
    link("list_payment_methods", "200", "delete_payment_method", &[ORG, ("payment_method_id", "$response.body#/data/0/id")]),
    // Pro forma invoices and credit notes.
    link("create_pro_forma", "201", "get_pro_forma", &[ORG, ("pro_forma_id", "$response.body#/id")]),
    link("create_pro_forma", "201", "get_pro_forma_pdf", &[ORG, ("pro_forma_id", "$response.body#/id")]),
    link("get_pro_forma", "200", "get_pro_forma_pdf", &[ORG, ("pro_forma_id", "$response.body#/id")]),
    link("list_credit_notes", "200", "get_credit_note", &[ORG, ("credit_note_id", "$response.body#/data/0/id")]),
    link("list_credit_notes", "200", "get_credit_note_pdf", &[ORG, ("credit_note_id", "$response.body#/data/0/id")]),
    link("get_credit_note", "200", "get_credit_note_pdf", &[ORG, ("credit_note_id", "$response.body#/id")]),
    link("get_credit_note", "200", "get_invoice", &[ORG, ("invoice_id", "$response.body#/invoice_id")]),
    // Products.
    link("list_products", "200", "get_product", &[ORG, ("product_id", "$response.body#/data/0/id")]),
    link("list_products", "200", "update_product", &[ORG, ("product_id", "$response.body#/data/0/id")]),
    link("list_products", "200", "set_auto_renewal", &[ORG, ("product_id", "$response.body#/data/0/id")]),
    link("list_products", "200", "request_cancellation", &[ORG, ("product_id", "$response.body#/data/0/id")]),
    link("list_products", "200", "withdraw_product_change", &[ORG, ("product_id", "$response.body#/data/0/id")]),
    link("get_product", "200", "set_auto_renewal", &[ORG, ("product_id", "$response.body#/id")]),
    link("get_product", "200", "move_product", &[ORG, ("product_id", "$response.body#/id")]),
    link("request_cancellation", "202", "withdraw_cancellation", &[ORG, ("product_id", "$request.path.product_id")]),
    link("request_cancellation", "202", "get_product", &[ORG, ("product_id", "$request.path.product_id")]),
    // Domains.
    link("list_domains", "200", "get_domain", &[ORG, ("domain_id", "$response.body#/data/0/id")]),
    link("list_domains", "200", "get_domain_contacts", &[ORG, ("domain_id", "$response.body#/data/0/id")]),
    link("list_domains", "200", "get_transfer_out", &[ORG, ("domain_id", "$response.body#/data/0/id")]),
    link("get_domain", "200", "get_domain_contacts", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "update_domain_contacts", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "set_domain_lock", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "set_domain_privacy", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "get_transfer_out", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "request_transfer_out", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "cancel_transfer_out", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "reject_transfer_out", &[ORG, ("domain_id", "$response.body#/id")]),
    link("get_domain", "200", "get_product", &[ORG, ("product_id", "$response.body#/product_id")]),
    // Tasks: an export answers 202 with the task to follow.
    link("create_invoice_export", "202", "get_task", &[("task_id", "$response.body#/id")]),
    link("create_invoice_export", "202", "download_task_result", &[("task_id", "$response.body#/id")]),
    link("get_task", "200", "download_task_result", &[("task_id", "$response.body#/id")]),
];

/// Adds every link of [`LINKS`] to the document (serialised, before it is written or served).
/// A link whose source operation or status is missing is left out; the spec test reports it.
pub fn declare(doc: &mut Value) {
    for l in LINKS {
        let Some(answer) = response_mut(doc, l.from, l.status) else {
            continue;
        };
        let Some(answer) = answer.as_object_mut() else {
            continue;
        };
        let parameters: Map<String, Value> = l
            .parameters
            .iter()
            .map(|(name, expr)| (name.to_string(), json!(expr)))
            .collect();
        let links = answer.entry("links").or_insert_with(|| json!({}));
        if let Some(links) = links.as_object_mut() {
            links.insert(
                l.to.to_string(),
                json!({"operationId": l.to, "parameters": parameters}),
            );
        }
    }
}

/// The response `status` of the operation `operation_id`.
fn response_mut<'a>(doc: &'a mut Value, operation_id: &str, status: &str) -> Option<&'a mut Value> {
    doc.get_mut("paths")?
        .as_object_mut()?
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .find(|op| op.get("operationId").and_then(Value::as_str) == Some(operation_id))?
        .get_mut("responses")?
        .get_mut(status)
}
