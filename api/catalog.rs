//! The catalogue: offers with their prices per billing period in CHF and EUR, and the VAT rules.
//! It is data in the repository (`catalog/offers.json`, `catalog/vat.json`), built into the
//! binary and checked strictly at start (a bad file stops the process, never a wrong price);
//! `LEMAN_CATALOG_FILE` points to another offers file without a new build. Orders copy the
//! prices they use onto the invoice, which keeps the history.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::billing::period_months;
use crate::domain::billing_states::ProductKind;
use crate::domain::orgs::Currency;

const VAT_CATEGORIES: [&str; 3] = ["standard", "reduced", "exempt"];

/// Prices of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    pub chf: Decimal,
    pub eur: Decimal,
}

impl Prices {
    pub fn get(&self, currency: Currency) -> Decimal {
        match currency {
            Currency::Chf => self.chf,
            Currency::Eur => self.eur,
        }
    }
}

#[derive(Debug, Clone)]
pub struct OfferOption {
    pub name: String,
    pub description: String,
    /// Units in the base price.
    pub included: i64,
    pub max: i64,
    /// Price of each unit beyond `included`, per period (months).
    pub prices: BTreeMap<i32, Prices>,
}

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: String,
    pub kind: ProductKind,
    pub name: String,
    pub description: String,
    pub vat_category: String,
    /// Per period (months).
    pub prices: BTreeMap<i32, Prices>,
    pub options: Vec<OfferOption>,
    /// How a product of this offer renews, lapses and may change.
    pub lifecycle: Lifecycle,
}

/// How a product of an offer renews, lapses and may change (issue 11). Each field has a default
/// per kind (`Lifecycle::for_kind`) that the offers file may override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// How far ahead of today a product may be renewed to, in months (domains: 10 years of
    /// registration at most).
    pub horizon_months: i32,
    /// Days after expiry during which the product is `expired` but still renewable.
    pub grace_days: i64,
    /// Days after the grace during which it is `suspended` (for domains: the redemption period)
    /// before it is `cancelled`.
    pub suspension_days: i64,
    /// The least a period may cost (per period, before VAT, options included): a cheaper
    /// product cannot be billed that often (R37).
    pub minimums: BTreeMap<i32, Prices>,
    /// The product keeps backups, deleted for good at cancellation (R46).
    pub backups: bool,
    /// kSuite-type: options only go up, and the product cannot move to another organisation
    /// (R42).
    pub upgrade_only: bool,
    /// Offers whose products come with this one, included in its price (a bundle).
    pub includes: Vec<String>,
}

impl Lifecycle {
    /// The defaults of a kind.
    pub fn for_kind(kind: ProductKind) -> Self {
        let domain = kind == ProductKind::Domain;
        Lifecycle {
            horizon_months: if domain { 120 } else { 36 },
            grace_days: if domain { 30 } else { 15 },
            suspension_days: 30,
            minimums: BTreeMap::new(),
            backups: matches!(
                kind,
                ProductKind::WebHosting
                    | ProductKind::CloudServer
                    | ProductKind::SwissBackup
                    | ProductKind::SiteCreator
            ),
            upgrade_only: kind == ProductKind::Ksuite,
            includes: Vec::new(),
        }
    }
}

impl Offer {
    /// The minimum a period of `months` must cost in `currency`, when the catalogue sets one.
    pub fn minimum(&self, months: i32, currency: Currency) -> Option<Decimal> {
        self.lifecycle
            .minimums
            .get(&months)
            .map(|p| p.get(currency))
    }
}

/// VAT rates in percent by country and category.
#[derive(Debug, Clone)]
pub struct VatRules {
    by_country: HashMap<String, HashMap<String, Decimal>>,
    elsewhere: HashMap<String, Decimal>,
}

impl VatRules {
    /// The rate for a customer in `country` buying in `category`.
    pub fn rate(&self, country: &str, category: &str) -> Decimal {
        self.by_country
            .get(country)
            .unwrap_or(&self.elsewhere)
            .get(category)
            .copied()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub offers: Vec<Offer>,
    index: HashMap<String, usize>,
    pub vat: VatRules,
    /// The domain extensions' rules; each `domain` offer sells exactly one extension.
    pub extensions: crate::extensions::Extensions,
}

impl Catalog {
    pub fn offer(&self, id: &str) -> Option<&Offer> {
        self.index.get(id).map(|i| &self.offers[*i])
    }

    /// The built-in catalogue, or the offers file `path` when given.
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, String> {
        let offers = match path {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            None => include_str!("../catalog/offers.json").to_string(),
        };
        Self::from_json(&offers, include_str!("../catalog/vat.json"))?
            .with_extensions(crate::extensions::Extensions::builtin()?)
    }

    /// Joins the extensions' rules to the domain offers: each domain offer sells one extension
    /// and takes its horizon, grace and redemption from it (one place for a registry's rules).
    pub fn with_extensions(
        mut self,
        extensions: crate::extensions::Extensions,
    ) -> Result<Self, String> {
        for e in extensions.all() {
            match self.offer(&e.offer) {
                Some(o) if o.kind == ProductKind::Domain => {}
                _ => {
                    return Err(format!(
                        "extension .{}: {} is not a domain offer",
                        e.tld, e.offer
                    ));
                }
            }
        }
        for offer in &mut self.offers {
            if offer.kind != ProductKind::Domain {
                continue;
            }
            let e = extensions.of_offer(&offer.id).ok_or_else(|| {
                format!(
                    "offer {} sells no extension of the extensions file",
                    offer.id
                )
            })?;
            offer.lifecycle.horizon_months = e.horizon_years * 12;
            offer.lifecycle.grace_days = e.grace_days;
            offer.lifecycle.suspension_days = e.redemption_days;
        }
        self.extensions = extensions;
        Ok(self)
    }

    pub fn from_json(offers: &str, vat: &str) -> Result<Self, String> {
        let file: OffersFile =
            serde_json::from_str(offers).map_err(|e| format!("offers file: {e}"))?;
        let vat: VatFile = serde_json::from_str(vat).map_err(|e| format!("VAT file: {e}"))?;
        let mut catalog = Catalog {
            offers: Vec::new(),
            index: HashMap::new(),
            vat: VatRules {
                by_country: vat
                    .rates
                    .iter()
                    .map(|(c, r)| Ok((c.clone(), rates(r)?)))
                    .collect::<Result<_, String>>()?,
                elsewhere: rates(&vat.elsewhere)?,
            },
            extensions: Default::default(),
        };
        for raw in file.offers {
            let offer = check_offer(raw)?;
            if catalog.index.contains_key(&offer.id) {
                return Err(format!("offer {} is listed twice", offer.id));
            }
            catalog.index.insert(offer.id.clone(), catalog.offers.len());
            catalog.offers.push(offer);
        }
        if catalog.offers.is_empty() {
            return Err("the catalogue has no offer".into());
        }
        for offer in &catalog.offers {
            for included in &offer.lifecycle.includes {
                match catalog.offer(included) {
                    None => return Err(format!("offer {}: includes unknown {included}", offer.id)),
                    Some(o) if !o.lifecycle.includes.is_empty() => {
                        return Err(format!(
                            "offer {}: a bundle cannot include a bundle",
                            offer.id
                        ));
                    }
                    Some(o) if o.prices.keys().ne(offer.prices.keys()) => {
                        return Err(format!(
                            "offer {}: includes {included}, which is not billed for the same periods",
                            offer.id
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(catalog)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffersFile {
    #[allow(dead_code)]
    version: u32,
    offers: Vec<RawOffer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffer {
    id: String,
    kind: String,
    name: String,
    description: String,
    vat_category: String,
    prices: BTreeMap<String, BTreeMap<String, String>>,
    options: Vec<RawOption>,
    #[serde(default)]
    lifecycle: RawLifecycle,
}

/// Overrides of the kind's lifecycle defaults.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLifecycle {
    horizon_months: Option<i32>,
    grace_days: Option<i64>,
    suspension_days: Option<i64>,
    #[serde(default)]
    minimums: BTreeMap<String, BTreeMap<String, String>>,
    backups: Option<bool>,
    upgrade_only: Option<bool>,
    #[serde(default)]
    includes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    name: String,
    description: String,
    included: i64,
    max: i64,
    prices: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct VatFile {
    rates: BTreeMap<String, BTreeMap<String, String>>,
    elsewhere: BTreeMap<String, String>,
}

fn rates(raw: &BTreeMap<String, String>) -> Result<HashMap<String, Decimal>, String> {
    VAT_CATEGORIES
        .iter()
        .map(|c| {
            let r = raw.get(*c).ok_or(format!("VAT rate for {c} missing"))?;
            let rate = Decimal::from_str(r).map_err(|_| format!("VAT rate {r} is not a number"))?;
            if rate < Decimal::ZERO || rate > Decimal::from(100) {
                return Err(format!("VAT rate {r} is out of range"));
            }
            Ok((c.to_string(), rate))
        })
        .collect()
}

fn price(raw: &str, at: &str) -> Result<Decimal, String> {
    let p = Decimal::from_str(raw).map_err(|_| format!("{at}: {raw} is not a price"))?;
    if p <= Decimal::ZERO || p.scale() != 2 {
        return Err(format!(
            "{at}: {raw} must be positive with exactly two decimals"
        ));
    }
    Ok(p)
}

fn prices(
    raw: &BTreeMap<String, BTreeMap<String, String>>,
    at: &str,
) -> Result<BTreeMap<i32, Prices>, String> {
    let mut out = BTreeMap::new();
    for (period, by_currency) in raw {
        let months = period_months(period).ok_or(format!("{at}: unknown period {period}"))?;
        let get = |c: &str| {
            by_currency
                .get(c)
                .ok_or(format!("{at} {period}: no {c} price"))
                .and_then(|p| price(p, &format!("{at} {period} {c}")))
        };
        if by_currency.len() != 2 {
            return Err(format!("{at} {period}: exactly CHF and EUR"));
        }
        out.insert(
            months,
            Prices {
                chf: get("CHF")?,
                eur: get("EUR")?,
            },
        );
    }
    if out.is_empty() {
        return Err(format!("{at}: no price"));
    }
    Ok(out)
}

fn check_offer(raw: RawOffer) -> Result<Offer, String> {
    let at = format!("offer {}", raw.id);
    let id_ok = !raw.id.is_empty()
        && raw
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Err(format!("{at}: ids are lower-case kebab-case"));
    }
    let kind =
        ProductKind::parse(&raw.kind).ok_or_else(|| format!("{at}: unknown kind {}", raw.kind))?;
    if !VAT_CATEGORIES.contains(&raw.vat_category.as_str()) {
        return Err(format!("{at}: unknown VAT category {}", raw.vat_category));
    }
    let offer_prices = prices(&raw.prices, &at)?;
    let mut options = Vec::new();
    for o in raw.options {
        let oat = format!("{at} option {}", o.name);
        let option_prices = prices(&o.prices, &oat)?;
        if option_prices.keys().ne(offer_prices.keys()) {
            return Err(format!("{oat}: must have the offer's periods"));
        }
        if o.included < 0 || o.max <= o.included {
            return Err(format!("{oat}: needs 0 <= included < max"));
        }
        if options.iter().any(|x: &OfferOption| x.name == o.name) {
            return Err(format!("{oat}: listed twice"));
        }
        options.push(OfferOption {
            name: o.name,
            description: o.description,
            included: o.included,
            max: o.max,
            prices: option_prices,
        });
    }
    let lifecycle = check_lifecycle(raw.lifecycle, kind, &offer_prices, &at)?;
    Ok(Offer {
        id: raw.id,
        kind,
        name: raw.name,
        description: raw.description,
        vat_category: raw.vat_category,
        prices: offer_prices,
        options,
        lifecycle,
    })
}

fn check_lifecycle(
    raw: RawLifecycle,
    kind: ProductKind,
    offer_prices: &BTreeMap<i32, Prices>,
    at: &str,
) -> Result<Lifecycle, String> {
    let mut l = Lifecycle::for_kind(kind);
    if let Some(h) = raw.horizon_months {
        let longest = offer_prices.keys().max().copied().unwrap_or(1);
        if !(longest..=120).contains(&h) {
            return Err(format!(
                "{at}: horizon_months must be between the longest period and 120"
            ));
        }
        l.horizon_months = h;
    }
    for (days, value) in [
        (&mut l.grace_days, raw.grace_days),
        (&mut l.suspension_days, raw.suspension_days),
    ] {
        if let Some(d) = value {
            if !(0..=365).contains(&d) {
                return Err(format!("{at}: grace and suspension days are 0 to 365"));
            }
            *days = d;
        }
    }
    let minimums = if raw.minimums.is_empty() {
        BTreeMap::new()
    } else {
        prices(&raw.minimums, &format!("{at} minimums"))?
    };
    if minimums.keys().any(|m| !offer_prices.contains_key(m)) {
        return Err(format!(
            "{at}: a minimum for a period the offer does not have"
        ));
    }
    l.minimums = minimums;
    l.backups = raw.backups.unwrap_or(l.backups);
    l.upgrade_only = raw.upgrade_only.unwrap_or(l.upgrade_only);
    l.includes = raw.includes;
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalogue_loads_and_covers_every_kind() {
        let c = Catalog::load(None).unwrap();
        for kind in ProductKind::ALL {
            assert!(c.offers.iter().any(|o| o.kind == *kind), "{kind}");
        }
        let ch = c.offer("domain-ch").unwrap();
        assert_eq!(
            ch.prices.keys().copied().max(),
            Some(120),
            ".ch up to 10 years"
        );
        assert!(c.offers.iter().any(|o| !o.options.is_empty()));
        assert_eq!(c.vat.rate("CH", "standard").to_string(), "8.1");
        assert_eq!(c.vat.rate("LI", "standard").to_string(), "8.1");
        assert_eq!(c.vat.rate("FR", "standard"), Decimal::ZERO);
    }

    #[test]
    fn a_bad_file_is_refused_with_its_reason() {
        let vat = include_str!("../catalog/vat.json");
        let offer = |prices: &str| {
            format!(
                r#"{{"version": 1, "offers": [{{"id": "x", "kind": "domain", "name": "X", "description": "", "vat_category": "standard", "prices": {prices}, "options": []}}]}}"#
            )
        };
        assert!(
            Catalog::from_json(&offer(r#"{"P1Y": {"CHF": "1.00", "EUR": "1.00"}}"#), vat).is_ok()
        );
        for bad in [
            r#"{"P2M": {"CHF": "1.00", "EUR": "1.00"}}"#,
            r#"{"P1Y": {"CHF": "1.0", "EUR": "1.00"}}"#,
            r#"{"P1Y": {"CHF": "1.00"}}"#,
            r#"{"P1Y": {"CHF": "-1.00", "EUR": "1.00"}}"#,
            r#"{}"#,
        ] {
            assert!(Catalog::from_json(&offer(bad), vat).is_err(), "{bad}");
        }
    }
}
