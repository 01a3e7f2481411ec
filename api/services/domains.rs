//! The domains resource (issue 12 parts 3–5): listing and reading an organisation's domains,
//! their contacts (a change of owner confirmed by mail by both owners), WHOIS privacy and the
//! registrar's lock. Every change goes to the registry first (from `spawn_blocking`, never
//! inside a transaction), then into our row with a compare-and-set (`models::domains::save`).

use base64::Engine as _;
use chrono::{Duration, NaiveDateTime};

use crate::context::Services;
use crate::db::{self, DbConnection};
use crate::domain::Checks;
use crate::domain::actor::Origin;
use crate::domain::domains::{
    Contact, Contacts, DomainStatus, EppStatus, TransferState, statuses_to_json,
};
use crate::domain::ids::DomainId;
use crate::domain::page::PageParams;
use crate::error::{AppError, FieldError};
use crate::mail;
use crate::models::domain_owner_changes::{self as owner_changes, OwnerChange, OwnerChangeStatus};
use crate::models::domains::{self, Domain, DomainFilter};
use crate::registry::{self, Registry, RegistryError};
use crate::services::activity::{self, Event};
use crate::services::orgs::OrgRequest;
use crate::services::tokens::next_cursor;

/// How long the links of a change of owner are valid.
pub const OWNER_CHANGE_DAYS: i64 = 7;
/// The longest text of a contact's field.
pub const MAX_FIELD: usize = 255;

fn no_domain() -> AppError {
    AppError::not_found("No such domain.")
}

fn not_manageable(status: DomainStatus) -> AppError {
    AppError::conflict(
        "domain_not_manageable",
        format!(
            "A domain {} cannot be changed: only active or expired ones can.",
            status.as_str()
        ),
    )
}

fn changed_meanwhile() -> AppError {
    AppError::conflict(
        "domain_changed",
        "The domain changed meanwhile (another request or a job): read it again and retry.",
    )
}

/// Calls the registry from a blocking thread; its refusals become the API's problems.
pub async fn at_registry<T, F>(services: &Services, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Registry) -> Result<T, RegistryError> + Send + 'static,
{
    let r = services.registry.clone();
    tokio::task::spawn_blocking(move || f(r.as_ref()))
        .await
        .map_err(|e| AppError::internal(format!("registry call: {e}")))?
        .map_err(registry::problem)
}

/// Name-ordered keyset cursors: (name, id) of a page's last domain.
mod name_cursor {
    use super::*;

    pub fn encode(name: &str, id: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{name}|{id}"))
    }

    pub fn decode(raw: &str) -> Result<(String, String), AppError> {
        let bad = || AppError::field("cursor", "invalid", "is not a cursor returned by this list");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (name, id) = text.split_once('|').ok_or_else(bad)?;
        let shaped = |s: &str, extra: u8| {
            (1..=253).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == extra)
        };
        if !shaped(name, b'.')
            || !name.contains('.')
            || !shaped(id, b'_')
            || !id.starts_with("dom_")
            || id.len() > 64
        {
            return Err(bad());
        }
        Ok((name.to_string(), id.to_string()))
    }
}

/// A domain with whether its product renews automatically.
pub type Listed = (Domain, bool);

/// `GET /v1/orgs/{org_id}/domains`: by name then id, keyset pages.
pub async fn list(
    services: &Services,
    org: &OrgRequest,
    filter: DomainFilter,
    page: PageParams,
) -> Result<(Vec<Listed>, Option<String>), AppError> {
    let access = org.access(&services.pool).await?;
    let limit = page.limit()?;
    let after = page
        .cursor
        .as_deref()
        .map(name_cursor::decode)
        .transpose()?;
    let mut rows = db::run(&services.pool, move |c| {
        let rows = domains::page(c, &access.org.id, &filter, after, limit + 1)?;
        let ids: Vec<String> = rows.iter().map(|d| d.product_id.clone()).collect();
        let auto = domains::auto_renew_of(c, &ids)?;
        Ok(rows
            .into_iter()
            .map(|d| {
                let a = auto.get(&d.product_id).copied().unwrap_or(false);
                (d, a)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let next = next_cursor(&mut rows, limit, |(d, _)| {
        name_cursor::encode(&d.name, &d.id)
    });
    Ok((rows, next))
}

fn find_listed(c: &mut DbConnection, org_id: &str, id: &str) -> Result<Listed, AppError> {
    let d = domains::find(c, org_id, id)?.ok_or_else(no_domain)?;
    let auto = domains::auto_renew_of(c, std::slice::from_ref(&d.product_id))?;
    let a = auto.get(&d.product_id).copied().unwrap_or(false);
    Ok((d, a))
}

/// `GET …/domains/{domain_id}`.
pub async fn get(services: &Services, org: &OrgRequest, id: DomainId) -> Result<Listed, AppError> {
    let access = org.access(&services.pool).await?;
    db::run(&services.pool, move |c| find_listed(c, &access.org.id, &id)).await
}

/// A domain to change: the caller's access checked, the domain active or expired.
async fn manageable(
    services: &Services,
    org: &OrgRequest,
    id: &DomainId,
) -> Result<Domain, AppError> {
    let (d, _) = get(services, org, id.clone()).await?;
    if !matches!(d.status, DomainStatus::Active | DomainStatus::Expired) {
        return Err(not_manageable(d.status));
    }
    Ok(d)
}

// ---- contacts -----------------------------------------------------------------------------

fn text(checks: &mut Checks, raw: &str, field: &str) -> String {
    checks
        .check(crate::domain::orgs::parse_text(raw, field, MAX_FIELD))
        .unwrap_or_default()
}

fn optional_text(checks: &mut Checks, raw: Option<&str>, field: &str) -> Option<String> {
    match raw.map(str::trim) {
        None | Some("") => None,
        Some(_) => checks.check(crate::domain::orgs::parse_text(
            raw.unwrap_or_default(),
            field,
            MAX_FIELD,
        )),
    }
}

/// E.164: `+`, a non-zero digit, then 6 to 14 digits.
fn parse_phone(raw: &str, field: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    let digits = v.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(v.to_string())
    } else {
        Err(crate::domain::invalid(
            field,
            "invalid_phone",
            "must be in E.164 form, e.g. +41211234567",
        ))
    }
}

fn contact(checks: &mut Checks, c: &Contact, at: &str) -> Contact {
    let f = |name: &str| format!("/{at}/{name}");
    Contact {
        name: text(checks, &c.name, &f("name")),
        organization: optional_text(checks, c.organization.as_deref(), &f("organization")),
        address_line1: text(checks, &c.address_line1, &f("address_line1")),
        address_line2: optional_text(checks, c.address_line2.as_deref(), &f("address_line2")),
        postal_code: text(checks, &c.postal_code, &f("postal_code")),
        city: text(checks, &c.city, &f("city")),
        country: checks
            .check(crate::domain::orgs::parse_country(
                &c.country,
                &f("country"),
            ))
            .unwrap_or_default(),
        email: checks
            .check(crate::domain::Email::parse(&c.email, &f("email")))
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        phone: match c.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => checks.check(parse_phone(p, &f("phone"))),
        },
    }
}

/// Checks every field of the three contacts at once (422 with a pointer per field).
pub fn validate(input: &Contacts) -> Result<Contacts, AppError> {
    let mut checks = Checks::default();
    let out = Contacts {
        owner: contact(&mut checks, &input.owner, "owner"),
        admin: contact(&mut checks, &input.admin, "admin"),
        tech: contact(&mut checks, &input.tech, "tech"),
    };
    checks.finish()?;
    Ok(out)
}

/// The same person: same name, organisation and email (only the address or phone differ).
fn same_person(a: &Contact, b: &Contact) -> bool {
    a.name.trim() == b.name.trim()
        && a.organization.as_deref().map(str::trim).unwrap_or("")
            == b.organization.as_deref().map(str::trim).unwrap_or("")
        && a.email.trim().eq_ignore_ascii_case(b.email.trim())
}

fn to_json(c: &Contact) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "{}".into())
}

fn set_contacts(d: &mut Domain, c: &Contacts) {
    d.owner_contact = to_json(&c.owner);
    d.admin_contact = to_json(&c.admin);
    d.tech_contact = to_json(&c.tech);
}

/// `GET …/domains/{domain_id}/contacts`.
pub async fn contacts(
    services: &Services,
    org: &OrgRequest,
    id: DomainId,
) -> Result<Contacts, AppError> {
    let (d, _) = get(services, org, id).await?;
    Ok(contacts_of(&d))
}

/// What a `PUT …/contacts` did.
pub enum ContactsOutcome {
    /// Applied at the registry and here.
    Applied(Box<Contacts>),
    /// A change of owner waits for both owners' confirmations.
    Pending(Box<OwnerChange>),
}

/// `PUT …/domains/{domain_id}/contacts`.
pub async fn update_contacts(
    services: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: DomainId,
    input: Contacts,
) -> Result<ContactsOutcome, AppError> {
    let wanted = validate(&input)?;
    let mut d = manageable(services, org, &id).await?;
    let current = d.owner();
    if !same_person(&current, &wanted.owner) {
        return request_owner_change(services, meta, org, d, current, wanted)
            .await
            .map(|c| ContactsOutcome::Pending(Box::new(c)));
    }
    let (name, c2) = (d.name.clone(), wanted.clone());
    at_registry(services, move |r| r.update_contacts(&name, &c2)).await?;
    let org = org.clone();
    let applied = wanted.clone();
    db::run(&services.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            // Contacts set now replace a change of owner still waiting for its confirmations.
            owner_changes::replace_pending(c, &d.id, db::now())?;
            let before = contacts_of(&d);
            let mut which = Vec::new();
            if before.owner != applied.owner {
                which.push("owner");
            }
            if before.admin != applied.admin {
                which.push("admin");
            }
            if before.tech != applied.tech {
                which.push("tech");
            }
            set_contacts(&mut d, &applied);
            if !domains::save(c, &mut d, db::now())? {
                return Err(changed_meanwhile());
            }
            activity::record(
                c,
                &meta,
                Event::domain_contacts_updated(
                    &org.caller.user_id,
                    &access.org.id,
                    &d.product_id,
                    &d.name,
                    &which,
                ),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(ContactsOutcome::Applied(Box::new(wanted)))
}

/// Records a change of owner and mails each owner its own link.
async fn request_owner_change(
    services: &Services,
    meta: Origin,
    org: &OrgRequest,
    d: Domain,
    current: Contact,
    wanted: Contacts,
) -> Result<OwnerChange, AppError> {
    let (org, services2) = (org.clone(), services.clone());
    db::run(&services.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            let now = db::now();
            // A newer request replaces one still waiting: its links confirm nothing any more.
            owner_changes::replace_pending(c, &d.id, now)?;
            let old_secret = crate::auth::secrets::new_secret("");
            let new_secret = crate::auth::secrets::new_secret("");
            let change = OwnerChange {
                id: db::new_id("doc"),
                domain_id: d.id.clone(),
                organization_id: access.org.id.clone(),
                requested_by: org.caller.user_id.clone(),
                contacts: serde_json::to_string(&wanted).unwrap_or_default(),
                old_owner_email: current.email.clone(),
                new_owner_email: wanted.owner.email.clone(),
                old_token_hash: owner_changes::token_hash(&old_secret),
                new_token_hash: owner_changes::token_hash(&new_secret),
                old_confirmed_at: None,
                new_confirmed_at: None,
                status: OwnerChangeStatus::Pending,
                expires_at: now + Duration::days(OWNER_CHANGE_DAYS),
                created_at: now,
                updated_at: now,
            };
            owner_changes::insert(c, &change)?;
            let language = org.caller.account.language.clone();
            for (email, secret, role) in [
                (&change.old_owner_email, &old_secret, "current"),
                (&change.new_owner_email, &new_secret, "new"),
            ] {
                mail::send(
                    c,
                    &services2.config,
                    "domain_owner_change_confirm",
                    &language,
                    email,
                    serde_json::json!({
                        "domain": d.unicode_name,
                        "organization_name": access.org.name,
                        "current_owner": current.name,
                        "new_owner": wanted.owner.name,
                        "is_current": role == "current",
                        "link": services2.config.app_link("/confirm-domain-owner-change", secret),
                        "days": OWNER_CHANGE_DAYS,
                    }),
                )?;
            }
            activity::record(
                c,
                &meta,
                Event::domain_owner_change_requested(
                    &org.caller.user_id,
                    &access.org.id,
                    &d.product_id,
                    &d.name,
                    &change.id,
                ),
            )?;
            Ok(change)
        })
    })
    .await
}

/// Which owner a token belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Party {
    Current,
    New,
}

fn usable(change: &OwnerChange, token: &str, now: NaiveDateTime) -> Result<Party, AppError> {
    if change.status != OwnerChangeStatus::Pending || change.expires_at <= now {
        return Err(AppError::invalid_token());
    }
    let hash = owner_changes::token_hash(token);
    let party = if hash == change.old_token_hash {
        Party::Current
    } else {
        Party::New
    };
    let already = match party {
        Party::Current => change.old_confirmed_at,
        Party::New => change.new_confirmed_at,
    };
    if already.is_some() {
        return Err(AppError::invalid_token());
    }
    Ok(party)
}

/// `POST /v1/domain-owner-changes/confirm`: one owner's token confirms; the second
/// confirmation applies the change at the registry, then here (`owner_changed_at` set: the
/// extension's lock after a change of owner runs from then).
pub async fn confirm_owner_change(
    services: &Services,
    meta: Origin,
    token: String,
) -> Result<(OwnerChange, Option<Contacts>), AppError> {
    let t = token.clone();
    let read = db::run(&services.pool, move |c| {
        let change = owner_changes::find_by_token(c, &t)?.ok_or_else(AppError::invalid_token)?;
        let party = usable(&change, &t, db::now())?;
        let d = domains::find(c, &change.organization_id, &change.domain_id)?
            .ok_or_else(AppError::invalid_token)?;
        Ok((change, party, d))
    })
    .await?;
    let (change, party, mut d) = read;
    let completes = match party {
        Party::Current => change.new_confirmed_at.is_some(),
        Party::New => change.old_confirmed_at.is_some(),
    };
    let wanted: Contacts =
        serde_json::from_str(&change.contacts).map_err(|e| AppError::internal(e.to_string()))?;
    if completes {
        if !matches!(d.status, DomainStatus::Active | DomainStatus::Expired) {
            return Err(not_manageable(d.status));
        }
        let (name, c2) = (d.name.clone(), wanted.clone());
        // A transfer code still out went to the previous owner: it must not let them take the
        // domain away from the new one (review of issue 12), so it is cleared with the change.
        let clear_code = d.transfer_state == TransferState::CodeSent;
        at_registry(services, move |r| {
            r.update_contacts(&name, &c2)?;
            if clear_code {
                r.clear_auth_code(&name)?;
            }
            Ok(())
        })
        .await?;
    }
    db::run(&services.pool, move |conn| {
        db::write(conn, |c| {
            crate::models::organizations::lock(c, &change.organization_id)?;
            let now = db::now();
            let mut updated = change.clone();
            match party {
                Party::Current => updated.old_confirmed_at = Some(now),
                Party::New => updated.new_confirmed_at = Some(now),
            }
            updated.updated_at = now.max(change.updated_at + Duration::microseconds(1));
            if completes {
                updated.status = OwnerChangeStatus::Applied;
            }
            if !owner_changes::save(c, &updated, change.updated_at)? {
                return Err(AppError::invalid_token());
            }
            if completes {
                set_contacts(&mut d, &wanted);
                d.owner_changed_at = Some(now);
                let code_cleared = d.transfer_state == TransferState::CodeSent;
                if code_cleared {
                    d.transfer_state = TransferState::Cancelled;
                    d.transfer_state_at = Some(now);
                    d.transfer_code_expires_at = None;
                }
                if !domains::save(c, &mut d, now)? {
                    return Err(changed_meanwhile());
                }
                if code_cleared {
                    crate::models::domain_transfers::void_all(c, &d.id, now)?;
                }
                activity::record(
                    c,
                    &meta,
                    Event::domain_owner_changed(
                        &updated.organization_id,
                        &d.product_id,
                        &d.name,
                        &updated.id,
                    ),
                )?;
            } else {
                let who = match party {
                    Party::Current => "current_owner",
                    Party::New => "new_owner",
                };
                activity::record(
                    c,
                    &meta,
                    Event::domain_owner_change_confirmed(
                        &updated.organization_id,
                        &d.product_id,
                        &d.name,
                        &updated.id,
                        who,
                    ),
                )?;
            }
            let contacts = completes.then(|| wanted.clone());
            Ok((updated, contacts))
        })
    })
    .await
}

// ---- privacy and lock ---------------------------------------------------------------------

/// What a privacy or lock call changed.
#[derive(Clone, Copy)]
enum Setting {
    Privacy(bool),
    Lock(bool),
}

/// Writes what the registry answered into the row read before the call.
async fn write_back<F>(
    services: &Services,
    meta: Origin,
    org: &OrgRequest,
    mut d: Domain,
    setting: Setting,
    change: F,
) -> Result<Listed, AppError>
where
    F: FnOnce(&mut Domain) + Send + 'static,
{
    let org = org.clone();
    db::run(&services.pool, move |conn| {
        db::write(conn, |c| {
            let access = org.authorize(c)?;
            change(&mut d);
            if !domains::save(c, &mut d, db::now())? {
                return Err(changed_meanwhile());
            }
            let (actor, org_id) = (&org.caller.user_id, &access.org.id);
            let event = match setting {
                Setting::Privacy(on) => {
                    Event::domain_privacy_set(actor, org_id, &d.product_id, &d.name, on)
                }
                Setting::Lock(on) => {
                    Event::domain_lock_set(actor, org_id, &d.product_id, &d.name, on)
                }
            };
            activity::record(c, &meta, event)?;
            find_listed(c, &access.org.id, &d.id)
        })
    })
    .await
}

/// `PUT …/domains/{domain_id}/privacy`.
pub async fn set_privacy(
    services: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: DomainId,
    enabled: bool,
) -> Result<Listed, AppError> {
    let d = manageable(services, org, &id).await?;
    let available = services
        .catalog
        .extensions
        .get(&d.tld)
        .is_some_and(|e| e.privacy);
    if !available {
        return Err(AppError::conflict(
            "privacy_not_available",
            format!("The .{} extension does not offer WHOIS privacy.", d.tld),
        ));
    }
    let name = d.name.clone();
    at_registry(services, move |r| r.set_privacy(&name, enabled)).await?;
    write_back(
        services,
        meta,
        org,
        d,
        Setting::Privacy(enabled),
        move |d| {
            d.privacy = enabled;
        },
    )
    .await
}

/// `PUT …/domains/{domain_id}/lock`: the registry's `clientTransferProhibited`.
pub async fn set_lock(
    services: &Services,
    meta: Origin,
    org: &OrgRequest,
    id: DomainId,
    locked: bool,
) -> Result<Listed, AppError> {
    let d = manageable(services, org, &id).await?;
    let name = d.name.clone();
    let lock = [EppStatus::ClientTransferProhibited];
    let statuses = at_registry(services, move |r| {
        if locked {
            r.update_statuses(&name, &lock, &[])
        } else {
            r.update_statuses(&name, &[], &lock)
        }
    })
    .await?;
    write_back(services, meta, org, d, Setting::Lock(locked), move |d| {
        d.locked = statuses.contains(&EppStatus::ClientTransferProhibited);
        d.registry_statuses = statuses_to_json(&statuses);
    })
    .await
}

/// A domain's three contacts as stored.
pub fn contacts_of(d: &Domain) -> Contacts {
    Contacts {
        owner: Domain::contact(&d.owner_contact),
        admin: Domain::contact(&d.admin_contact),
        tech: Domain::contact(&d.tech_contact),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Contact {
        Contact {
            name: "Alice Muster".into(),
            organization: Some("Muster AG".into()),
            address_line1: "Rue du Lac 1".into(),
            address_line2: None,
            postal_code: "1003".into(),
            city: "Lausanne".into(),
            country: "ch".into(),
            email: "Alice@Example.CH".into(),
            phone: Some("+41211234567".into()),
        }
    }

    #[test]
    fn phones_are_e164() {
        for good in ["+41211234567", "+1234567", "+123456789012345"] {
            assert!(parse_phone(good, "/p").is_ok(), "{good}");
        }
        for bad in [
            "0211234567",
            "+0211234567",
            "+123456",
            "+1234567890123456",
            "+41 21 123",
            "+41.211234567",
        ] {
            assert_eq!(
                parse_phone(bad, "/p").unwrap_err().code,
                "invalid_phone",
                "{bad}"
            );
        }
    }

    #[test]
    fn contacts_are_normalised_and_an_owner_change_is_another_name_organisation_or_email() {
        let c = Contacts {
            owner: alice(),
            admin: alice(),
            tech: alice(),
        };
        let v = validate(&c).unwrap();
        assert_eq!(v.owner.email, "alice@example.ch");
        assert_eq!(v.owner.country, "CH");
        let mut moved = v.owner.clone();
        moved.address_line1 = "Chemin Neuf 7".into();
        moved.phone = None;
        assert!(same_person(&v.owner, &moved));
        let mut other = v.owner.clone();
        other.organization = None;
        assert!(!same_person(&v.owner, &other));
        let mut other = v.owner.clone();
        other.email = "bruno@example.ch".into();
        assert!(!same_person(&v.owner, &other));
    }
}

/// Property tests (issue 15, part 7): any phone number or contact is accepted clean or refused
/// as a 422, never a panic.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_an_e164_phone_or_a_field_error(
            raw in prop_oneof![any::<String>(), " ?\\+?[0-9 .]{5,17} ?"]
        ) {
            match parse_phone(&raw, "/phone") {
                Ok(v) => {
                    prop_assert!(v.starts_with('+') && v[1..].bytes().all(|b| b.is_ascii_digit()));
                    prop_assert_eq!(parse_phone(&v, "/phone").unwrap(), v);
                }
                Err(e) => prop_assert_eq!(e.code, "invalid_phone"),
            }
        }

        #[test]
        fn any_contact_is_validated_or_a_422(
            texts in proptest::collection::vec(any::<String>(), 9),
            blanks in any::<[bool; 3]>(),
        ) {
            let c = Contact {
                name: texts[0].clone(),
                organization: (!blanks[0]).then(|| texts[1].clone()),
                address_line1: texts[2].clone(),
                address_line2: (!blanks[1]).then(|| texts[3].clone()),
                postal_code: texts[4].clone(),
                city: texts[5].clone(),
                country: texts[6].clone(),
                email: texts[7].clone(),
                phone: (!blanks[2]).then(|| texts[8].clone()),
            };
            let input = Contacts { owner: c.clone(), admin: c.clone(), tech: c };
            match validate(&input) {
                Ok(v) => prop_assert_eq!(validate(&v).unwrap(), v),
                Err(e) => prop_assert_eq!(e.status.as_u16(), 422),
            }
        }
    }
}
