//! Authentication building blocks. Token signing keys live in `keys`, JWT encoding in `jwt`.

pub mod jwt;
pub mod keys;
