//! The sandbox registry behaves as a registry would: codes kept as hashes and checked, transfers
//! pending for the extension's waiting period then approved, poll messages for the losing
//! registrar, renewals that cannot extend twice.

use leman::registry::sandbox::SandboxRegistry;
use leman::registry::{Registry, RegistryError, TransferStatus};

use crate::helpers::*;

fn sandbox(app: &TestApp) -> SandboxRegistry {
    SandboxRegistry::new(
        app.services.pool.clone(),
        app.services.catalog.extensions.clone(),
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test]
async fn a_transfer_needs_the_code_waits_then_is_approved_and_polled() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "sandbox-test.com", "owner@example.ch")
        .await;
    let reg = sandbox(&app);
    let r = reg.clone();
    let name = d.name.clone();
    let (wrong, right, polled, approved, info_after) = blocking(move || {
        let until = leman::db::now() + chrono::Duration::days(14);
        r.set_auth_code(&name, "Correct-Code-1234", until).unwrap();
        let wrong = r.simulate_transfer_request(&name, "wrong-code-0000", None);
        let right = r.simulate_transfer_request(&name, "Correct-Code-1234", None);
        let polled = r.poll().unwrap().unwrap();
        r.ack(&polled.id).unwrap();
        r.advance(5).unwrap();
        let approved = r.poll().unwrap().unwrap();
        r.ack(&approved.id).unwrap();
        let info_after = r.info(&name);
        (wrong, right, polled, approved, info_after)
    })
    .await;
    assert!(matches!(wrong, Err(RegistryError::Policy(_))), "{wrong:?}");
    assert_eq!(right, Ok(TransferStatus::Pending));
    assert_eq!(polled.domain, d.name);
    assert_eq!(polled.transfer.status, TransferStatus::Pending);
    assert_eq!(approved.transfer.status, TransferStatus::ServerApproved);
    assert_eq!(info_after, Err(RegistryError::NotSponsor));
}

#[tokio::test]
async fn a_renewal_with_a_stale_expiry_cannot_extend_twice() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "renew-twice.ch", "owner@example.ch")
        .await;
    let reg = sandbox(&app);
    let name = d.name.clone();
    let (first, second, third_kind) = blocking(move || {
        let before = reg.info(&name).unwrap().expires_at.date();
        let first = reg.renew(&name, before, 1).unwrap();
        let second = reg.renew(&name, before, 1);
        (
            first,
            second,
            reg.check("taken-anything.ch").unwrap().available,
        )
    })
    .await;
    assert!(first.date() > leman::db::now().date());
    assert_eq!(second, Err(RegistryError::ExpiryMismatch));
    assert!(!third_kind, "taken-* names are registered elsewhere");
}
