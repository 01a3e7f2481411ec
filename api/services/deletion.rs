//! Deleting one's account (R9): refused while a prerequisite is unmet, otherwise, in one
//! transaction, every session and token ends, personal data is erased, and the activity record
//! keeps only a pseudonym.
//!
//! The prerequisites are a fixed list of checks, [`CHECKS`], kept here in one place, each a
//! function (nothing registers itself). A check runs inside the deletion's transaction and
//! reports what blocks it, naming the objects (organisations) concerned.

use diesel::QueryResult;

use crate::auth::{Caller, secrets};
use crate::db::{self, DbConnection, Pool};
use crate::domain::actor::Origin;
use crate::domain::orgs::Role;
use crate::error::AppError;
use crate::models::memberships::{self, Standing};
use crate::models::{account_erasure, activities, api_tokens, newsletter_subscriptions, sessions};
use crate::services::activity::{self, Event};
use crate::services::prerequisites::{Blocker, MAX_OBJECTS, ObjectKind, Outcome, Unmet};

/// A prerequisite of deleting the account `user_id`: `Some` when it is not met.
pub type Check = fn(&mut DbConnection, &str) -> QueryResult<Option<Unmet>>;

/// Every prerequisite of deleting an account, in the order they are listed.
pub const CHECKS: &[Check] = &[only_member, last_legal_representative];

/// The account is the only member of an organisation.
fn only_member(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<Unmet>> {
    let alone: Vec<Standing> = memberships::standing_of(conn, user_id)?
        .into_iter()
        .filter(|s| s.roles.len() == 1)
        .collect();
    let n = alone.len() as i64;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(Unmet {
        code: "only_member_of_organization",
        detail: format!(
            "You are the only member of {n} organisation(s): delete it or appoint someone else first."
        ),
        count: n,
        objects: organizations(conn, &alone)?,
    }))
}

/// The account is the last legal representative of an organisation that has other members.
fn last_legal_representative(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<Unmet>> {
    let last: Vec<Standing> = memberships::standing_of(conn, user_id)?
        .into_iter()
        .filter(|s| {
            s.role == Role::LegalRepresentative
                && s.roles.len() > 1
                && s.legal_representatives() == 1
        })
        .collect();
    let n = last.len() as i64;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(Unmet {
        code: "last_legal_representative",
        detail: format!(
            "You are the last legal representative of {n} organisation(s): appoint another one first."
        ),
        count: n,
        objects: organizations(conn, &last)?,
    }))
}

/// The organisations of `standings`, named (one query each: a person belongs to few).
fn organizations(conn: &mut DbConnection, standings: &[Standing]) -> QueryResult<Vec<Blocker>> {
    let mut found = Vec::new();
    for s in standings.iter().take(MAX_OBJECTS as usize) {
        let name = crate::models::organizations::find(conn, &s.organization_id)?
            .map(|o| o.name)
            .unwrap_or_default();
        found.push(Blocker::new(
            ObjectKind::Organization,
            &s.organization_id,
            name,
        ));
    }
    Ok(found)
}

/// Every unmet prerequisite among `checks`, in their order.
pub fn unmet(conn: &mut DbConnection, user_id: &str, checks: &[Check]) -> QueryResult<Vec<Unmet>> {
    let mut found = Vec::new();
    for check in checks {
        if let Some(u) = check(conn, user_id)? {
            found.push(u);
        }
    }
    Ok(found)
}

/// A pseudonym for a deleted user's activity records: one per deletion, the same on all of its
/// records (so an audit still sees one person's actions together), derived from nothing that
/// survives (a random salt), so it cannot be traced back to the account.
pub fn pseudonym(user_id: &str) -> String {
    let salted = format!("{user_id}:{}", secrets::new_secret(""));
    format!("anon_{}", &secrets::hash(&salted)[..32])
}

/// The concurrency rule: the prerequisites read the state of each organisation the account
/// belongs to (is it their last legal representative?), so their row locks come first, in id
/// order; a membership gained meanwhile gets its lock too.
fn lock_organizations_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<()> {
    let mut locked = std::collections::BTreeSet::new();
    loop {
        let ids = crate::models::memberships::organization_ids_of(conn, user_id)?;
        let new: Vec<String> = ids.into_iter().filter(|id| !locked.contains(id)).collect();
        if new.is_empty() {
            return Ok(());
        }
        for id in new {
            crate::models::organizations::lock(conn, &id)?;
            locked.insert(id);
        }
    }
}

/// Deletes the account in the caller's transaction, unless one of `checks` is unmet.
pub fn delete_account(
    conn: &mut DbConnection,
    user_id: &str,
    checks: &[Check],
) -> Result<Outcome, AppError> {
    lock_organizations_of(conn, user_id)?;
    let blocking = unmet(conn, user_id, checks)?;
    if !blocking.is_empty() {
        return Ok(Outcome::Blocked(blocking));
    }
    let now = db::now();
    let addresses = account_erasure::addresses(conn, user_id)?;
    if !account_erasure::erase_user(conn, user_id, now)? {
        return Err(crate::auth::caller::unauthenticated(
            "The account no longer exists.",
        ));
    }
    let sessions_ended = sessions::end_all_for_user(conn, user_id, None, now)?;
    // The person leaves every organisation (none depends on them: the checks passed), and
    // invitations to their addresses lapse.
    let memberships_ended = crate::models::memberships::delete_all_for_user(conn, user_id)?;
    for address in &addresses {
        crate::models::invitations::revoke_all_to(conn, address, now)?;
    }
    // ... and so do the invitations they made (issue 9, finding 8).
    crate::models::invitations::revoke_all_by(conn, user_id, now)?;
    account_erasure::erase_session_origins(conn, user_id)?;
    let tokens_revoked = api_tokens::revoke_all_for_user(conn, user_id, now)?;
    newsletter_subscriptions::delete_all(conn, user_id)?;
    account_erasure::erase_one_time_tokens(conn, user_id)?;
    account_erasure::delete_recovery_codes(conn, user_id)?;
    crate::models::mails::erase_to(conn, &addresses)?;
    // Stored idempotent answers, scoped as the idempotency middleware scopes its callers.
    let callers: Vec<String> = std::iter::once(format!("usr:{user_id}"))
        .chain(
            api_tokens::hashes_of(conn, user_id)?
                .into_iter()
                .map(|h| format!("tok:{h}")),
        )
        .collect();
    crate::models::idempotency_keys::forget_callers(conn, &callers)?;
    let pseudonym = pseudonym(user_id);
    activities::pseudonymise(conn, user_id, &pseudonym)?;
    // Recorded under the pseudonym, without the request's IP and user agent: nothing in the
    // record leads back to the person.
    activity::record(
        conn,
        &Origin::request(None, None),
        Event::account_deleted(
            &pseudonym,
            sessions_ended,
            tokens_revoked,
            memberships_ended,
        ),
    )?;
    Ok(Outcome::Deleted)
}

/// `DELETE /v1/me`: a sensitive action (a person, re-authenticated with the password within the
/// last minutes), checked against every prerequisite in [`CHECKS`].
pub async fn delete(pool: &Pool, caller: Caller) -> Result<Outcome, AppError> {
    caller.require_recent_auth()?;
    let user_id = caller.user_id;
    db::run(pool, move |conn| {
        db::write(conn, |c| delete_account(c, &user_id, CHECKS))
    })
    .await
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;
    use crate::db::DatabaseUrl;
    use crate::db::schema::{activities as a, users};
    use crate::models::users::User;

    fn database() -> DbConnection {
        let mut conn = DatabaseUrl::parse("sqlite::memory:")
            .unwrap()
            .connect()
            .unwrap();
        db::run_migrations(&mut conn).unwrap();
        conn
    }

    fn user(conn: &mut DbConnection) -> String {
        let now = db::now();
        let user = User {
            id: db::new_id("usr"),
            email: "zoe@example.ch".into(),
            email_verified_at: Some(now),
            password_hash: "$argon2id$hash".into(),
            first_name: "Zoë".into(),
            last_name: "Müller".into(),
            language: "fr".into(),
            timezone: "Europe/Zurich".into(),
            recovery_email: Some("zoe@example.org".into()),
            recovery_email_verified_at: Some(now),
            pending_recovery_email: None,
            failed_logins: 0,
            locked_at: None,
            lock_after_failed_logins: 10,
            notify_on_login_success: true,
            notify_on_login_failure: true,
            totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
            totp_enabled_at: Some(now),
            totp_last_step: Some(1),
            password_changed_at: now,
            last_login_at: Some(now),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        crate::models::users::insert(conn, &user).unwrap();
        let meta = Origin::request(Some("192.0.2.7".into()), Some("Firefox".into()));
        activity::record(
            conn,
            &meta,
            Event::login_succeeded(&user.id, "ses_fixture", ["pwd"]),
        )
        .unwrap();
        user.id
    }

    fn only_member(_: &mut DbConnection, _: &str) -> QueryResult<Option<Unmet>> {
        Ok(Some(Unmet {
            code: "only_member_of_organization",
            detail: "Delete the organisation or appoint someone else first.".into(),
            count: 2,
            objects: vec![],
        }))
    }

    fn always_met(_: &mut DbConnection, _: &str) -> QueryResult<Option<Unmet>> {
        Ok(None)
    }

    fn counts_activities(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<Unmet>> {
        let n: i64 = a::table
            .filter(a::actor_user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        Ok((n > 0).then(|| Unmet {
            code: "has_activity",
            detail: "test".into(),
            count: n,
            objects: vec![],
        }))
    }

    #[test]
    fn checks_run_in_registry_order_and_report_what_blocks() {
        let mut conn = database();
        let id = user(&mut conn);
        // A new account with no organisation meets every prerequisite in CHECKS.
        assert!(unmet(&mut conn, &id, CHECKS).unwrap().is_empty());
        let found = unmet(
            &mut conn,
            &id,
            &[always_met, counts_activities, only_member],
        )
        .unwrap();
        let codes: Vec<_> = found.iter().map(|u| (u.code, u.count)).collect();
        assert_eq!(
            codes,
            [("has_activity", 1), ("only_member_of_organization", 2)]
        );
    }

    #[test]
    fn an_unmet_prerequisite_blocks_and_changes_nothing() {
        let mut conn = database();
        let id = user(&mut conn);
        let outcome = db::write(&mut conn, |c| {
            delete_account(c, &id, &[always_met, only_member])
        })
        .unwrap();
        let Outcome::Blocked(unmet) = outcome else {
            panic!("deleted despite an unmet prerequisite");
        };
        assert_eq!(unmet.len(), 1);
        assert_eq!(unmet[0].code, "only_member_of_organization");
        let (email, deleted_at): (String, Option<chrono::NaiveDateTime>) = users::table
            .find(&id)
            .select((users::email, users::deleted_at))
            .first(&mut conn)
            .unwrap();
        assert_eq!(email, "zoe@example.ch");
        assert!(deleted_at.is_none());
        let actions: Vec<String> = a::table.select(a::action).load(&mut conn).unwrap();
        assert_eq!(actions, ["login.succeeded"]);
    }

    #[test]
    fn met_prerequisites_let_the_deletion_through() {
        let mut conn = database();
        let id = user(&mut conn);
        let outcome = db::write(&mut conn, |c| delete_account(c, &id, &[always_met])).unwrap();
        assert_eq!(outcome, Outcome::Deleted);
        let email: String = users::table
            .find(&id)
            .select(users::email)
            .first(&mut conn)
            .unwrap();
        assert_eq!(email, format!("deleted-{id}@invalid"));
        let rows: Vec<(Option<String>, Option<String>, String)> = a::table
            .select((a::actor_user_id, a::ip, a::action))
            .load(&mut conn)
            .unwrap();
        let mut actions: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
        actions.sort();
        assert_eq!(actions, ["account.deleted", "login.succeeded"]);
        let pseudonym = rows[0].0.clone().unwrap();
        assert!(
            pseudonym.starts_with("anon_") && pseudonym.len() == 37,
            "{pseudonym}"
        );
        for (actor, ip, _) in &rows {
            assert_eq!(actor.as_deref(), Some(pseudonym.as_str()));
            assert!(ip.is_none());
        }
    }

    #[test]
    fn pseudonyms_do_not_follow_from_the_id() {
        assert_ne!(pseudonym("usr_1"), pseudonym("usr_1"));
    }
}
