//! Token-signing keys: from `LEMAN_JWT_KEYS` (first signs, all verify: rotation), or generated
//! once and kept in the database, so every instance on one database shares them.

use base64::Engine as _;
use rand::RngCore;

use crate::db::{self, DbConnection};
use crate::models::signing_keys::{self, SigningKey};

#[derive(Clone)]
pub struct KeySet {
    /// (kid, secret); the first one signs.
    pub keys: Vec<(String, Vec<u8>)>,
    pub source: KeySource,
    /// Access tokens already verified with these keys (see `jwt::decode_cached`).
    pub verified: super::jwt::VerifiedTokens,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Config,
    DatabaseLoaded,
    DatabaseGenerated,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("KeySet")
            .field("kids", &kids)
            .field("source", &self.source)
            .finish()
    }
}

impl KeySet {
    pub fn new(keys: Vec<(String, Vec<u8>)>, source: KeySource) -> Self {
        Self {
            keys,
            source,
            verified: Default::default(),
        }
    }

    pub fn load(
        configured: Option<&Vec<(String, Vec<u8>)>>,
        conn: &mut DbConnection,
    ) -> Result<Self, diesel::result::Error> {
        if let Some(keys) = configured {
            return Ok(Self::new(keys.clone(), KeySource::Config));
        }
        // Under the database's write lock (SQLite) and the start-up advisory lock
        // (`db::startup_lock`, PostgreSQL), so instances starting together agree on one key.
        db::write(conn, |conn| {
            let stored = signing_keys::all(conn)?;
            if !stored.is_empty() {
                return Ok(Self::new(decode(stored), KeySource::DatabaseLoaded));
            }
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let key = SigningKey {
                kid: db::new_id("key"),
                secret: base64::engine::general_purpose::STANDARD.encode(secret),
                created_at: db::now(),
            };
            signing_keys::insert(conn, &key)?;
            Ok(Self::new(decode(vec![key]), KeySource::DatabaseGenerated))
        })
    }

    pub fn signing(&self) -> (&str, &[u8]) {
        let (kid, secret) = &self.keys[0];
        (kid, secret)
    }

    pub fn find(&self, kid: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, s)| s.as_slice())
    }

    pub fn describe(&self) -> String {
        let origin = match self.source {
            KeySource::Config => "from LEMAN_JWT_KEYS",
            KeySource::DatabaseLoaded => "from the database",
            KeySource::DatabaseGenerated => "generated now and stored in the database",
        };
        format!(
            "token signing keys {origin}: {} key(s), signing kid {}",
            self.keys.len(),
            self.signing().0
        )
    }
}

fn decode(rows: Vec<SigningKey>) -> Vec<(String, Vec<u8>)> {
    rows.into_iter()
        .filter_map(|k| {
            base64::engine::general_purpose::STANDARD
                .decode(&k.secret)
                .ok()
                .map(|s| (k.kid, s))
        })
        .collect()
}
