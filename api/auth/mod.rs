//! Authentication: passwords, token signing keys, JWTs, secrets, the `Caller` extractor and the
//! sign-in rate limits.

pub mod caller;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod ratelimit;
pub mod secrets;
pub mod two_factor_gate;

pub use caller::{Caller, CallerAuth};
