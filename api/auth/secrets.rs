//! Random secrets (256 bits) and how they are stored: only a SHA-256 of each, so a leaked
//! database reveals no usable token.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new secret, URL-safe, with an optional prefix (`lmn_` for personal tokens).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time comparison of two strings of hex or other public-length text.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
