//! A registered domain for tests of what comes after registration (contacts, privacy, lock,
//! transfers). Tests create domains only through `TestApp::registered_domain`, so how a domain
//! comes to be (today: ordered, paid and provisioned by the job) is said once, here.

use crate::helpers::*;

/// What `registered_domain` made.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct TestDomain {
    pub id: String,
    pub product_id: String,
    /// ASCII name.
    pub name: String,
    /// The owner contact's email (WHOIS's): where transfer codes go.
    pub owner_email: String,
}

impl TestApp {
    /// `name` registered for `org` (of `owner`), its owner contact `owner_email`, active.
    pub async fn registered_domain(&self, org: &str, name: &str, owner_email: &str) -> TestDomain {
        use leman::domain::domains::{Contact, Contacts, DomainName, DomainStatus, TransferState};
        let parsed = DomainName::parse(name, "name").unwrap();
        let contact = Contact {
            name: "Alice Muster".into(),
            organization: Some("Muster AG".into()),
            address_line1: "Rue du Lac 1".into(),
            address_line2: None,
            postal_code: "1003".into(),
            city: "Lausanne".into(),
            country: "CH".into(),
            email: owner_email.into(),
            phone: Some("+41211234567".into()),
        };
        let contacts = Contacts {
            owner: contact.clone(),
            admin: contact.clone(),
            tech: contact.clone(),
        };
        let registry = self.services.registry.clone();
        let (ascii, c2) = (parsed.ascii.clone(), contacts.clone());
        let at_registry =
            tokio::task::spawn_blocking(move || registry.create(&ascii, 1, &c2, false))
                .await
                .unwrap()
                .expect("the sandbox registry creates the name");
        let offer = format!("domain-{}", parsed.tld);
        let (org, parsed2) = (org.to_string(), parsed.clone());
        let (id, product_id) = self
            .with_conn(move |c| {
                let now = leman::db::now();
                let product_id = format!("prd_{}", uuid::Uuid::now_v7().simple());
                let product = leman::models::products::Product {
                    id: product_id.clone(),
                    organization_id: org.clone(),
                    offer_id: offer,
                    kind: leman::domain::billing_states::ProductKind::Domain,
                    name: parsed2.unicode.clone(),
                    period_months: 12,
                    options: "{}".into(),
                    status: leman::domain::billing_states::ProductStatus::Active,
                    auto_renew: false,
                    price_minor: 1100,
                    currency: "CHF".into(),
                    order_id: "ord_fixture".into(),
                    started_at: Some(now),
                    expires_at: Some(at_registry.expires_at),
                    cancelled_at: None,
                    created_at: now,
                    updated_at: now,
                    auto_renew_payment_method_id: None,
                    next_period_months: None,
                    next_options: None,
                    bundle_id: None,
                    reminded_for: None,
                    reminder_stage: None,
                    status_changed_at: None,
                };
                leman::models::products::insert(c, &product).unwrap();
                let json = serde_json::to_string(&contact).unwrap();
                let id = format!("dom_{}", uuid::Uuid::now_v7().simple());
                leman::models::domains::insert(
                    c,
                    &leman::models::domains::Domain {
                        id: id.clone(),
                        organization_id: org,
                        product_id: product_id.clone(),
                        name: parsed2.ascii.clone(),
                        unicode_name: parsed2.unicode.clone(),
                        tld: parsed2.tld.clone(),
                        status: DomainStatus::Active,
                        registry_statuses: leman::domain::domains::statuses_to_json(
                            &at_registry.statuses,
                        ),
                        locked: false,
                        privacy: false,
                        owner_contact: json.clone(),
                        admin_contact: json.clone(),
                        tech_contact: json,
                        registered_at: Some(at_registry.created_at),
                        expires_at: Some(at_registry.expires_at),
                        last_transferred_at: None,
                        owner_changed_at: None,
                        transfer_state: TransferState::None,
                        transfer_state_at: None,
                        transfer_code_expires_at: None,
                        transfer_requested_by: None,
                        transfer_completes_at: None,
                        created_at: now,
                        updated_at: now,
                    },
                )
                .unwrap();
                (id, product_id)
            })
            .await;
        TestDomain {
            id,
            product_id,
            name: parsed.ascii,
            owner_email: owner_email.to_string(),
        }
    }
}
