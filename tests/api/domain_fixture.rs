//! A registered domain for tests of what comes after registration (contacts, privacy, lock,
//! transfers). Tests create domains only through `TestApp::registered_domain`, so how a domain
//! comes to be (ordered with its name, paid by card, registered by the `provision_domain` job)
//! is said once, here.

use diesel::prelude::*;

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
    /// The organisation's legal representative orders it (through a token of theirs), with a
    /// card saved for it, and the fixture waits for the registry's confirmation; the owner
    /// contacts are then set to known ones (Alice Muster, Lausanne; the owner's email
    /// `owner_email`) at the registry and in our record.
    pub async fn registered_domain(&self, org: &str, name: &str, owner_email: &str) -> TestDomain {
        use leman::db::schema::memberships;
        let org_id = org.to_string();
        let representative: String = self
            .with_conn(move |c| {
                memberships::table
                    .filter(memberships::organization_id.eq(org_id))
                    .filter(memberships::role.eq("legal_representative"))
                    .select(memberships::user_id)
                    .first(c)
                    .unwrap()
            })
            .await;
        let token = self
            .token_of_kind(
                &representative,
                "personal",
                &[
                    "products:read",
                    "products:write",
                    "billing:read",
                    "billing:write",
                    "domains:read",
                ],
            )
            .await;
        let card = self
            .add_payment_method(
                &token,
                org,
                serde_json::json!({"type": "card", "token": "tok_visa"}),
            )
            .await;
        let offer = format!("domain-{}", name.rsplit('.').next().unwrap());
        let res = send(
            self,
            reqwest::Method::POST,
            &format!("/v1/orgs/{org}/orders"),
            &token,
            Some(serde_json::json!({
                "items": [{"offer_id": offer, "billing_period": "P1Y", "domain_name": name}],
                "payment": {"method": "payment_method", "payment_method_id": card},
            })),
        )
        .await;
        let order = ok(res, 201).await;
        let product_id = order["products"][0]["id"].as_str().unwrap().to_string();
        self.wait_until_provisioned(&token, org, &product_id).await;
        let pid = product_id.clone();
        let mut d = self
            .with_conn(move |c| {
                leman::models::domains::of_product(c, &pid)
                    .unwrap()
                    .unwrap()
            })
            .await;
        // Known contacts, the owner's email `owner_email`, at the registry and in our record
        // (tests of contacts and transfers compare against them).
        let contact = leman::domain::domains::Contact {
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
        let contacts = leman::domain::domains::Contacts {
            owner: contact.clone(),
            admin: contact.clone(),
            tech: contact.clone(),
        };
        let (registry, ascii) = (self.services.registry.clone(), d.name.clone());
        tokio::task::spawn_blocking(move || registry.update_contacts(&ascii, &contacts))
            .await
            .unwrap()
            .expect("the sandbox registry updates the contacts");
        let json = serde_json::to_string(&contact).unwrap();
        d.owner_contact = json.clone();
        d.admin_contact = json.clone();
        d.tech_contact = json;
        d = self
            .with_conn(move |c| {
                assert!(leman::models::domains::save(c, &mut d, leman::db::now()).unwrap());
                d
            })
            .await;
        TestDomain {
            id: d.id,
            product_id,
            name: d.name,
            owner_email: owner_email.to_string(),
        }
    }
}
