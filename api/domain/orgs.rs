//! Organisations' vocabulary: roles, permissions, who may grant what, and the checks on an
//! organisation's identity (country, currency, VAT number).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invalid;
use crate::error::FieldError;

text_enum! {
    /// A member's role in one organisation.
    pub enum Role {
        /// Holds the permissions listed on the membership.
        Member = "member",
        /// Holds every permission; may grant `admin`.
        Admin = "admin",
        /// Holds every permission; the only role that grants or revokes `legal_representative`.
        LegalRepresentative = "legal_representative",
    }
}

impl Role {
    /// Admins and legal representatives hold every permission.
    pub fn holds_all(self) -> bool {
        self != Role::Member
    }
}

text_enum! {
    /// A right a plain member can be given.
    pub enum Permission {
        /// Invoices, payments, payment methods and the prepaid account.
        Accounting = "accounting",
        /// Products and orders.
        Products = "products",
        /// Domain names.
        Domains = "domains",
        /// Members and invitations (plain members only, with no wider permissions than one's own).
        Users = "users",
    }
}

/// The permissions a membership or an invitation lists, as its `permissions` column keeps them:
/// a JSON array of names (sorted, no duplicates). Reading an unknown name is an error, as for
/// any `text_enum!`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(Vec<Permission>);

impl Permissions {
    pub fn new(list: &[Permission]) -> Self {
        let mut list = list.to_vec();
        list.sort();
        list.dedup();
        Self(list)
    }
}

impl std::ops::Deref for Permissions {
    type Target = [Permission];

    fn deref(&self) -> &[Permission] {
        &self.0
    }
}

impl TryFrom<String> for Permissions {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        let list: Vec<Permission> = serde_json::from_str(&raw)
            .map_err(|e| format!("`{raw}` is not a list of permissions: {e}"))?;
        Ok(Self::new(&list))
    }
}

impl From<Permissions> for String {
    fn from(value: Permissions) -> String {
        serde_json::to_string(&value.0).unwrap_or_else(|_| "[]".into())
    }
}

/// What a route under `/v1/orgs/{org_id}` needs; declared as `x-leman-permission` in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any member.
    Member,
    /// A member holding this permission (admins and legal representatives hold all).
    Permission(Permission),
    /// A member holding both permissions.
    Both(Permission, Permission),
    /// An admin or a legal representative.
    Admin,
}

impl Need {
    /// The value of `x-leman-permission`: `member`, `admin`, the permission's name, or two
    /// names joined by `+` when both are needed.
    pub fn as_str(self) -> String {
        match self {
            Need::Member => "member".into(),
            Need::Admin => "admin".into(),
            Need::Permission(p) => p.as_str().into(),
            Need::Both(a, b) => format!("{}+{}", a.as_str(), b.as_str()),
        }
    }
}

/// In the spec (`x-leman-permission`) a requirement is its name.
impl Serialize for Need {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

/// A membership's role and permissions, as far as rights are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// Only meaningful for members; admins and legal representatives hold all.
    pub permissions: Vec<Permission>,
}

impl Grant {
    pub fn new(role: Role, permissions: &[Permission]) -> Self {
        let mut permissions: Vec<Permission> = if role.holds_all() {
            Vec::new()
        } else {
            permissions.to_vec()
        };
        permissions.sort();
        permissions.dedup();
        Self { role, permissions }
    }

    /// The permissions actually held.
    pub fn effective(&self) -> Vec<Permission> {
        if self.role.holds_all() {
            Permission::ALL.to_vec()
        } else {
            self.permissions.clone()
        }
    }

    pub fn holds(&self, p: Permission) -> bool {
        self.role.holds_all() || self.permissions.contains(&p)
    }

    pub fn satisfies(&self, need: Need) -> bool {
        match need {
            Need::Member => true,
            Need::Admin => self.role.holds_all(),
            Need::Permission(p) => self.holds(p),
            Need::Both(a, b) => self.holds(a) && self.holds(b),
        }
    }

    /// The permissions to store with the role (none for admins and legal representatives).
    pub fn stored_permissions(&self) -> Permissions {
        Permissions::new(&self.permissions)
    }
}

/// Why `actor` may not give (or take away) a grant.
#[derive(Debug, PartialEq, Eq)]
pub struct NotGrantable(pub String);

/// Whether `actor` may change a membership from `current` (None: a new member) to `next`
/// (None: removal). Holders of `users` manage plain members only and grant no more than they
/// hold; admins also manage admins; only legal representatives touch legal representatives.
pub fn may_grant(
    actor: &Grant,
    current: Option<&Grant>,
    next: Option<&Grant>,
) -> Result<(), NotGrantable> {
    let touches =
        |role: Role| current.map(|g| g.role) == Some(role) || next.map(|g| g.role) == Some(role);
    match actor.role {
        Role::LegalRepresentative => Ok(()),
        Role::Admin if touches(Role::LegalRepresentative) => Err(NotGrantable(
            "Only a legal representative grants or revokes the legal representative role.".into(),
        )),
        Role::Admin => Ok(()),
        Role::Member if !actor.holds(Permission::Users) => Err(NotGrantable(
            "Managing members needs the `users` permission.".into(),
        )),
        Role::Member if touches(Role::LegalRepresentative) || touches(Role::Admin) => Err(
            NotGrantable("Only admins and legal representatives manage admins.".into()),
        ),
        Role::Member => match next {
            Some(g) if g.permissions.iter().any(|p| !actor.holds(*p)) => Err(NotGrantable(
                "You can grant only permissions you hold yourself.".into(),
            )),
            _ => Ok(()),
        },
    }
}

/// Whether `actor` may handle an invitation granting `grant`: make it, withdraw it, or replace it
/// with another (issue 9, finding 8: one rule for all three, the rule of making it). An invitation
/// whose maker can no longer make it is void.
pub fn may_invite(actor: &Grant, grant: &Grant) -> Result<(), NotGrantable> {
    may_grant(actor, None, Some(grant))
}

/// Permission names from a request: each known, duplicates collapsed (unknown ones are reported
/// at `<field>/<index>`).
pub fn parse_permissions(raw: &[String], field: &str) -> Result<Vec<Permission>, Vec<FieldError>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (i, name) in raw.iter().enumerate() {
        match Permission::parse(name) {
            Some(p) => found.push(p),
            None => errors.push(invalid(
                &format!("{field}/{i}"),
                "unknown_permission",
                "is not a permission; permissions: accounting, products, domains, users",
            )),
        }
    }
    if errors.is_empty() {
        found.sort();
        found.dedup();
        Ok(found)
    } else {
        Err(errors)
    }
}

// One type for the address a request gives, the service checks and the API shows: a request
// carries it as the client wrote it; `parse` gives it back trimmed and checked, as the
// organisation keeps it (`Organization::billing_address`).
/// Where invoices are addressed; the country is the organisation's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}))]
pub struct BillingAddress {
    /// Street and number, 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub line1: String,
    /// Optional second line (building, post box), up to 200 characters.
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub postal_code: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub city: String,
}

impl BillingAddress {
    /// The address checked line by line: each error is reported under `<at>/<line>` in
    /// `checks`, so a request reports them with its other fields'; a blank `line2` is none.
    pub fn parse(&self, checks: &mut super::Checks, at: &str) -> Option<BillingAddress> {
        let line1 = checks.check(parse_text(&self.line1, &format!("{at}/line1"), 200));
        let line2 = match self.line2.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(l) => checks
                .check(parse_text(l, &format!("{at}/line2"), 200))
                .map(Some),
        };
        let postal_code = checks.check(parse_text(
            &self.postal_code,
            &format!("{at}/postal_code"),
            20,
        ));
        let city = checks.check(parse_text(&self.city, &format!("{at}/city"), 100));
        Some(BillingAddress {
            line1: line1?,
            line2: line2?,
            postal_code: postal_code?,
            city: city?,
        })
    }
}

text_enum! {
    /// Currencies an organisation can be billed in.
    pub enum Currency {
        Chf = "CHF",
        Eur = "EUR",
    }
}

impl Currency {
    /// The stored code; an unknown one reads as CHF (the column only ever holds these two).
    pub fn from_code(code: &str) -> Self {
        Self::parse(code).unwrap_or(Currency::Chf)
    }
}

/// ISO 3166-1 alpha-2 codes of the countries and territories a customer can be based in.
const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn parse_country(raw: &str, field: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_ascii_uppercase();
    if COUNTRIES.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(invalid(
            field,
            "unknown_country",
            "must be an ISO 3166-1 alpha-2 country code, e.g. CH",
        ))
    }
}

/// A free line of an address or a name: trimmed, 1 to `max` characters, no control characters.
pub fn parse_text(raw: &str, field: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(invalid(field, "required", "must not be empty"));
    }
    // The spec's `maxLength` bounds what the client sent, surrounding spaces included.
    if raw.chars().count() > max {
        return Err(invalid(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

/// A VAT number: upper-cased, spaces removed; a country or `CHE`/`EU` prefix then 2 to 14 digits,
/// letters, dots or dashes (`CHE-123.456.789`, `DE123456789`, `FRXX999999999`).
pub fn parse_vat_number(raw: &str, field: &str) -> Result<String, FieldError> {
    let value: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let invalid_vat = || {
        invalid(
            field,
            "invalid_vat_number",
            "must be a VAT number with its country prefix, e.g. CHE-123.456.789 or DE123456789",
        )
    };
    // ASCII only, so the byte split below cannot fall inside a character.
    if !value.is_ascii() {
        return Err(invalid_vat());
    }
    let prefix_len = if value.starts_with("CHE") { 3 } else { 2 };
    let (prefix, rest) = value.split_at(prefix_len.min(value.len()));
    let prefix_ok = prefix.len() == prefix_len && prefix.chars().all(|c| c.is_ascii_uppercase());
    let rest_ok = (2..=14).contains(&rest.len())
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && rest.chars().any(|c| c.is_ascii_digit());
    if prefix_ok && rest_ok {
        Ok(value)
    } else {
        Err(invalid_vat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_its_maximum_is_refused_even_when_spaces_make_the_excess() {
        let raw = format!(" {}", "a".repeat(100));
        assert_eq!(
            parse_text(&raw, "/first_name", 100).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            parse_text(&"a".repeat(100), "/first_name", 100)
                .unwrap()
                .len(),
            100
        );
    }

    #[test]
    fn serde_names_are_the_stored_names() {
        for r in Role::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(Role::try_from(r.as_str().to_string()), Ok(*r));
        }
        for p in Permission::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for c in Currency::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert!(Role::try_from("owner".to_string()).is_err());
    }

    fn g(role: Role, perms: &[Permission]) -> Grant {
        Grant::new(role, perms)
    }

    #[test]
    fn admins_and_legal_representatives_hold_every_permission() {
        for role in [Role::Admin, Role::LegalRepresentative] {
            let grant = g(role, &[]);
            assert_eq!(grant.effective(), Permission::ALL);
            assert!(grant.satisfies(Need::Admin));
        }
        let member = g(Role::Member, &[Permission::Users, Permission::Users]);
        assert_eq!(member.permissions, [Permission::Users]);
        assert!(member.satisfies(Need::Permission(Permission::Users)));
        assert!(!member.satisfies(Need::Permission(Permission::Accounting)));
        assert!(!member.satisfies(Need::Admin));
        assert!(member.satisfies(Need::Member));
        let stored = String::from(member.stored_permissions());
        assert_eq!(stored, r#"["users"]"#);
        assert_eq!(
            Permissions::try_from(stored),
            Ok(Permissions::new(&[Permission::Users]))
        );
        assert_eq!(
            String::from(g(Role::Admin, &[Permission::Users]).stored_permissions()),
            "[]"
        );
        assert!(Permissions::try_from(r#"["root"]"#.to_string()).is_err());
        assert!(Permissions::try_from("users".to_string()).is_err());
    }

    #[test]
    fn who_may_grant_what() {
        use Permission::*;
        let legal = g(Role::LegalRepresentative, &[]);
        let admin = g(Role::Admin, &[]);
        let users = g(Role::Member, &[Users, Accounting]);
        let plain = g(Role::Member, &[Products]);
        let new_admin = g(Role::Admin, &[]);
        let new_legal = g(Role::LegalRepresentative, &[]);
        let member_acc = g(Role::Member, &[Accounting]);
        let member_dom = g(Role::Member, &[Domains]);

        assert!(may_grant(&legal, None, Some(&new_legal)).is_ok());
        assert!(may_grant(&legal, Some(&new_legal), None).is_ok());
        assert!(may_grant(&admin, None, Some(&new_admin)).is_ok());
        assert!(may_grant(&admin, Some(&new_admin), None).is_ok());
        assert!(may_grant(&admin, None, Some(&new_legal)).is_err());
        assert!(may_grant(&admin, Some(&new_legal), Some(&new_admin)).is_err());
        assert!(may_grant(&users, None, Some(&member_acc)).is_ok());
        assert!(may_grant(&users, Some(&member_dom), None).is_ok());
        assert!(
            may_grant(&users, None, Some(&member_dom)).is_err(),
            "wider than own"
        );
        assert!(may_grant(&users, None, Some(&new_admin)).is_err());
        assert!(may_grant(&users, Some(&new_admin), None).is_err());
        assert!(may_grant(&plain, None, Some(&g(Role::Member, &[]))).is_err());
        // Invitations: withdrawing one follows the rule of making it (not that of removing a
        // member, which a holder of `users` may do whatever the member holds).
        let users_only = g(Role::Member, &[Users]);
        assert!(may_grant(&users_only, Some(&member_acc), None).is_ok());
        assert!(may_invite(&users_only, &member_acc).is_err());
        assert!(may_invite(&users_only, &new_admin).is_err());
        assert!(may_invite(&users_only, &g(Role::Member, &[Users])).is_ok());
        assert!(may_invite(&admin, &new_admin).is_ok());
        assert!(may_invite(&admin, &new_legal).is_err());
        assert!(may_invite(&plain, &g(Role::Member, &[])).is_err());
    }

    #[test]
    fn countries_and_vat_numbers() {
        assert_eq!(parse_country(" ch ", "/country").unwrap(), "CH");
        assert!(parse_country("XX", "/country").is_err());
        assert!(parse_country("CHE", "/country").is_err());
        assert_eq!(
            parse_vat_number("che-123.456.789", "/v").unwrap(),
            "CHE-123.456.789"
        );
        assert_eq!(
            parse_vat_number("DE 123 456 789", "/v").unwrap(),
            "DE123456789"
        );
        for bad in [
            "",
            "12345",
            "DE",
            "D1234",
            "DE12345678901234567",
            "DE12$45",
            "\u{800}",
            "Dé123456",
        ] {
            assert!(parse_vat_number(bad, "/v").is_err(), "{bad}");
        }
        assert_eq!(
            parse_permissions(&["users".into(), "accounting".into(), "users".into()], "/p")
                .unwrap(),
            [Permission::Accounting, Permission::Users]
        );
        let errors = parse_permissions(&["users".into(), "root".into()], "/p").unwrap_err();
        assert_eq!(errors[0].field, "/p/1");
    }
}

/// Property tests (issue 15, part 7): any text is a value or a field error, never a panic; a
/// parsed value parses back to itself.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_line_is_clean_text_or_a_field_error(raw in any::<String>(), max in 1usize..120) {
            if let Ok(v) = parse_text(&raw, "/name", max) {
                prop_assert!(!v.is_empty() && v.chars().count() <= max);
                prop_assert!(!v.chars().any(char::is_control));
                prop_assert_eq!(parse_text(&v, "/name", max).unwrap(), v);
            }
        }

        #[test]
        fn any_text_is_a_country_or_a_field_error(raw in prop_oneof![any::<String>(), " ?[a-zA-Z]{2} ?"]) {
            if let Ok(c) = parse_country(&raw, "/country") {
                prop_assert!(COUNTRIES.contains(&c.as_str()));
                prop_assert_eq!(parse_country(&c, "/country").unwrap(), c);
            }
        }

        #[test]
        fn any_text_is_a_vat_number_or_a_field_error(
            raw in prop_oneof![
                any::<String>(),
                "(CHE|DE|FR|[A-Z]{2}|[a-z]{2}|Ü)[ .0-9A-Za-z-]{0,18}",
            ]
        ) {
            match parse_vat_number(&raw, "/vat_number") {
                Ok(v) => {
                    prop_assert!(v.is_ascii() && !v.contains(char::is_whitespace));
                    prop_assert_eq!(parse_vat_number(&v, "/vat_number").unwrap(), v);
                }
                Err(e) => prop_assert_eq!(e.code, "invalid_vat_number"),
            }
        }

        #[test]
        fn any_permission_list_is_permissions_or_one_error_per_unknown_name(
            raw in proptest::collection::vec(
                prop_oneof![any::<String>(), "(accounting|products|domains|users)"],
                0..8,
            )
        ) {
            match parse_permissions(&raw, "/permissions") {
                Ok(found) => prop_assert!(found.len() <= raw.len()),
                Err(errors) => {
                    let unknown = raw.iter().filter(|n| Permission::parse(n).is_none()).count();
                    prop_assert_eq!(errors.len(), unknown);
                }
            }
        }

        #[test]
        fn a_checked_billing_address_checks_again_to_itself(
            line1 in any::<String>(),
            line2 in proptest::option::of(any::<String>()),
            postal_code in any::<String>(),
            city in any::<String>(),
        ) {
            let raw = BillingAddress { line1, line2, postal_code, city };
            let mut checks = crate::domain::Checks::default();
            if let Some(clean) = raw.parse(&mut checks, "/billing_address") {
                prop_assert!(checks.errors.is_empty());
                let mut again = crate::domain::Checks::default();
                prop_assert_eq!(clean.parse(&mut again, "/billing_address"), Some(clean.clone()));
            } else {
                prop_assert!(!checks.errors.is_empty());
            }
        }
    }
}
