//! Access tokens: HS256 JWTs with a `kid`, algorithm fixed by an allow-list, and `iss`, `aud`,
//! `exp` and `typ` checked on every decode.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::KeySet;

pub const ISSUER: &str = "leman";
pub const AUDIENCE: &str = "leman-api";
pub const ACCESS_TYPE: &str = "access";
pub const ACCESS_TTL_SECS: i64 = 900;

impl Claims {
    pub fn new(
        typ: &str,
        user_id: &str,
        session_id: &str,
        ttl_secs: i64,
        amr: Vec<String>,
    ) -> Self {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            sid: session_id.into(),
            iat: now,
            exp: now + ttl_secs,
            typ: typ.into(),
            amr,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub typ: String,
    /// Authentication methods used (`pwd`, `otp`).
    pub amr: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token is signed with an unknown key")]
    UnknownKey,
}

pub fn encode(keys: &KeySet, claims: &Claims) -> Result<String, TokenError> {
    let (kid, secret) = keys.signing();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret))
        .map_err(|e| TokenError::Invalid(e.to_string()))
}

/// Access tokens verified recently, so a token presented again skips the signature and JSON
/// work until it expires. Bounded: emptied when it reaches `CAPACITY` entries. The session is
/// still checked on every request; only the cryptography is remembered.
/// Keyed with FxHash, not SipHash: only tokens that verified (signed by us) are ever inserted,
/// so no caller can choose keys that collide.
#[derive(Clone, Default)]
pub struct VerifiedTokens(
    std::sync::Arc<std::sync::Mutex<rustc_hash::FxHashMap<String, std::sync::Arc<Claims>>>>,
);

impl VerifiedTokens {
    const CAPACITY: usize = 10_000;
}

/// `decode`, remembering tokens that verified until their `exp`.
pub fn decode_cached(keys: &KeySet, token: &str) -> Result<std::sync::Arc<Claims>, TokenError> {
    let now = chrono::Utc::now().timestamp();
    if let Ok(cache) = keys.verified.0.lock()
        && let Some(claims) = cache.get(token)
        && claims.exp > now
    {
        return Ok(claims.clone());
    }
    let claims = std::sync::Arc::new(decode(keys, token)?);
    if let Ok(mut cache) = keys.verified.0.lock() {
        if cache.len() >= VerifiedTokens::CAPACITY {
            cache.clear();
        }
        cache.insert(token.to_string(), claims.clone());
    }
    Ok(claims)
}

pub fn decode(keys: &KeySet, token: &str) -> Result<Claims, TokenError> {
    decode_typed(keys, token, ACCESS_TYPE)
}

/// Decodes a token of another type (`mfa`: the second step of a login).
pub fn decode_typed(keys: &KeySet, token: &str, typ: &str) -> Result<Claims, TokenError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
    if header.alg != Algorithm::HS256 {
        return Err(TokenError::Invalid("algorithm not allowed".into()));
    }
    let secret = header
        .kid
        .as_deref()
        .and_then(|kid| keys.find(kid))
        .ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
    if data.claims.typ != typ {
        return Err(TokenError::Invalid(format!("not a token of type {typ}")));
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::KeySource;

    fn keys(kids: &[(&str, u8)]) -> KeySet {
        KeySet::new(
            kids.iter()
                .map(|(k, b)| (k.to_string(), vec![*b; 32]))
                .collect(),
            KeySource::Config,
        )
    }

    fn claims(exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "usr_1".into(),
            sid: "ses_1".into(),
            iat: now,
            exp: now + exp_in,
            typ: ACCESS_TYPE.into(),
            amr: vec!["pwd".into()],
        }
    }

    #[test]
    fn a_token_round_trips_and_survives_rotation() {
        let old = keys(&[("old", 1)]);
        let token = encode(&old, &claims(900)).unwrap();
        assert_eq!(decode(&old, &token).unwrap().sub, "usr_1");
        // After rotation the old key still verifies, the new one signs.
        let rotated = keys(&[("new", 2), ("old", 1)]);
        assert_eq!(decode(&rotated, &token).unwrap().sid, "ses_1");
        let fresh = encode(&rotated, &claims(900)).unwrap();
        assert!(matches!(decode(&old, &fresh), Err(TokenError::UnknownKey)));
    }

    #[test]
    fn remembered_tokens_still_expire() {
        let k = keys(&[("k", 1)]);
        let token = encode(&k, &claims(900)).unwrap();
        assert_eq!(decode_cached(&k, &token).unwrap().sub, "usr_1");
        assert_eq!(decode_cached(&k, &token).unwrap().sub, "usr_1");
        // An entry past its exp is not served from memory.
        let mut stale = claims(900);
        stale.exp -= 10_000;
        k.verified
            .0
            .lock()
            .unwrap()
            .insert(token.clone(), std::sync::Arc::new(stale));
        assert_eq!(decode_cached(&k, &token).unwrap().exp, claims(900).exp);
        assert!(decode_cached(&k, "garbage").is_err());
    }

    #[test]
    fn expired_foreign_or_unsigned_tokens_are_refused() {
        let k = keys(&[("k", 1)]);
        assert!(decode(&k, &encode(&k, &claims(-60)).unwrap()).is_err());
        let other = keys(&[("k", 9)]);
        assert!(decode(&k, &encode(&other, &claims(900)).unwrap()).is_err());
        let mut c = claims(900);
        c.typ = "refresh".into();
        assert!(decode(&k, &encode(&k, &c).unwrap()).is_err());
        // alg=none
        let none = format!(
            "{}.{}.",
            base64url(r#"{"alg":"none","kid":"k"}"#),
            base64url(&serde_json::to_string(&claims(900)).unwrap())
        );
        assert!(decode(&k, &none).is_err());
    }

    fn base64url(s: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }
}

/// Property tests (issue 15, part 7): any bearer string, header or claims is a token error,
/// never a panic; only the untouched token of a known key verifies, and it round-trips.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::auth::keys::KeySource;
    use base64::Engine as _;
    use proptest::prelude::*;

    fn keys() -> KeySet {
        KeySet::new(vec![("k1".into(), vec![7; 32])], KeySource::Config)
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims(sub: String, sid: String, amr: Vec<String>) -> Claims {
        Claims::new(ACCESS_TYPE, &sub, &sid, ACCESS_TTL_SECS, amr)
    }

    /// A header such as an attacker would write: any `alg`, any `kid`, any extra member.
    fn header() -> impl Strategy<Value = String> {
        (
            prop_oneof![
                Just("HS256".to_string()),
                Just("none".to_string()),
                Just("RS256".to_string()),
                Just("hs256".to_string()),
                any::<String>()
            ],
            proptest::option::of(prop_oneof![Just("k1".to_string()), any::<String>()]),
            any::<String>(),
        )
            .prop_map(|(alg, kid, extra)| {
                let mut h = serde_json::json!({"alg": alg, "typ": "JWT", "x": extra});
                if let Some(kid) = kid {
                    h["kid"] = kid.into();
                }
                h.to_string()
            })
    }

    /// ASVS 9.2.3: a token signed with our key but meant for another audience or made by
    /// another issuer is refused.
    #[test]
    fn a_token_for_another_audience_or_issuer_is_refused() {
        let k = keys();
        let mine = claims("usr_1".into(), "ses_1".into(), vec!["pwd".into()]);
        assert!(decode(&k, &encode(&k, &mine).unwrap()).is_ok());
        let mut other_audience = mine.clone();
        other_audience.aud = "another-api".into();
        assert!(decode(&k, &encode(&k, &other_audience).unwrap()).is_err());
        let mut other_issuer = mine;
        other_issuer.iss = "someone-else".into();
        assert!(decode(&k, &encode(&k, &other_issuer).unwrap()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bearer_string_is_refused_without_panic(
            raw in prop_oneof![
                any::<String>(),
                "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}",
                (any::<Vec<u8>>(), any::<Vec<u8>>(), any::<Vec<u8>>())
                    .prop_map(|(h, p, s)| format!("{}.{}.{}", b64(&h), b64(&p), b64(&s))),
            ]
        ) {
            prop_assert!(decode(&keys(), &raw).is_err());
            prop_assert!(decode_cached(&keys(), &raw).is_err());
            prop_assert!(decode_typed(&keys(), &raw, "mfa").is_err());
        }

        #[test]
        fn any_header_without_our_key_and_signature_is_refused(
            header in header(),
            sub in "usr_[0-9a-f]{32}",
            signature in any::<Vec<u8>>(),
        ) {
            let payload = serde_json::to_string(&claims(sub, "ses_1".into(), vec!["pwd".into()])).unwrap();
            let token = format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), b64(&signature));
            prop_assert!(decode(&keys(), &token).is_err());
        }

        #[test]
        fn a_token_round_trips_and_any_changed_character_is_refused(
            sub in any::<String>(),
            sid in any::<String>(),
            amr in proptest::collection::vec(any::<String>(), 0..3),
            at in any::<proptest::sample::Index>(),
            with in proptest::char::range('-', 'z'),
        ) {
            let k = keys();
            let c = claims(sub, sid, amr);
            let token = encode(&k, &c).unwrap();
            prop_assert_eq!(decode(&k, &token).unwrap(), c.clone());
            let mut chars: Vec<char> = token.chars().collect();
            let i = at.index(chars.len());
            if chars[i] != with {
                chars[i] = with;
                let changed: String = chars.into_iter().collect();
                // A change the base64 decoding cannot see (the spare bits of a last character)
                // may still verify, but only as the very same claims.
                if let Ok(same) = decode(&k, &changed) {
                    prop_assert_eq!(same, c);
                }
            }
        }
    }
}
