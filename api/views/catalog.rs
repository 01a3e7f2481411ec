//! The catalogue as the API shows it: offers, their options and prices (before VAT).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::{Offer, Prices};
use crate::domain::billing::period_name;
use crate::domain::billing_states::ProductKind;
use crate::domain::money::Money;
use crate::domain::orgs::Currency;

/// The price of one billing period, in each currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodPrice {
    /// ISO 8601 duration: `P1M`, `P3M`, `P1Y` … `P10Y`.
    pub billing_period: &'static str,
    pub prices: Vec<Money>,
}

fn period_prices(p: &BTreeMap<i32, Prices>) -> Vec<PeriodPrice> {
    p.iter()
        .map(|(m, pr)| PeriodPrice {
            billing_period: period_name(*m),
            prices: vec![
                Money::new(pr.chf, Currency::Chf),
                Money::new(pr.eur, Currency::Eur),
            ],
        })
        .collect()
}

/// A quantity that can be added to an offer (users, storage…).
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferOptionView {
    pub name: String,
    pub description: String,
    /// Units in the offer's price.
    pub included: i64,
    pub max: i64,
    /// Price of each unit beyond `included`, per period, before VAT.
    pub prices: Vec<PeriodPrice>,
}

/// An offer of the catalogue; prices are before VAT.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "domain-ch", "kind": "domain", "name": ".ch domain name",
    "description": "One .ch domain name, with DNS and redirections.", "vat_category": "standard",
    "prices": [{"billing_period": "P1Y", "prices": [{"amount": "11.00", "currency": "CHF"}, {"amount": "10.45", "currency": "EUR"}]}],
    "options": []
}))]
pub struct OfferView {
    pub id: String,
    pub kind: ProductKind,
    pub name: String,
    pub description: String,
    /// `standard`, `reduced` or `exempt`: the VAT rate then follows the customer's country.
    pub vat_category: String,
    pub prices: Vec<PeriodPrice>,
    pub options: Vec<OfferOptionView>,
}

impl From<&Offer> for OfferView {
    fn from(o: &Offer) -> Self {
        Self {
            id: o.id.clone(),
            kind: o.kind,
            name: o.name.clone(),
            description: o.description.clone(),
            vat_category: o.vat_category.clone(),
            prices: period_prices(&o.prices),
            options: o
                .options
                .iter()
                .map(|x| OfferOptionView {
                    name: x.name.clone(),
                    description: x.description.clone(),
                    included: x.included,
                    max: x.max,
                    prices: period_prices(&x.prices),
                })
                .collect(),
        }
    }
}

/// The catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [{
    "id": "domain-ch", "kind": "domain", "name": ".ch domain name",
    "description": "One .ch domain name, with DNS and redirections.", "vat_category": "standard",
    "prices": [{"billing_period": "P1Y", "prices": [{"amount": "11.00", "currency": "CHF"}, {"amount": "10.45", "currency": "EUR"}]}],
    "options": []
}]}))]
pub struct OfferList {
    pub data: Vec<OfferView>,
}
