//! argon2id (OWASP: m=19456 KiB, t=2, p=1), always on the blocking pool and at most
//! max(1, cores − 1) at once, so hashing never stalls the async executor nor every core.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::error::AppError;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

/// A real hash of a random password: unknown accounts are checked against it, so they take as
/// long as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hasher()
            .hash_password(uuid::Uuid::now_v7().to_string().as_bytes())
            .expect("hashing works")
            .to_string()
    })
}

async fn on_blocking_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = slots()
        .acquire()
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal(format!("hashing task: {e}")))
}

pub async fn hash(password: String) -> Result<String, AppError> {
    on_blocking_pool(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await?
    .map_err(|e| AppError::internal(format!("hashing a password: {e}")))
}

/// Checks `password` against `stored`, or against a dummy hash when there is no account, so
/// both take the same time. False for no account.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    on_blocking_pool(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = hasher()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        ok && known
    })
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = super::hash("correct horse battery staple".into())
            .await
            .unwrap();
        let b = super::hash("correct horse battery staple".into())
            .await
            .unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            super::verify("correct horse battery staple".into(), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(
            !super::verify("correct horse battery stapl".into(), Some(a))
                .await
                .unwrap()
        );
        assert!(!super::verify("anything".into(), None).await.unwrap());
    }
}
