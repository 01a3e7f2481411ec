//! The one integration test binary: black-box tests through HTTP against the real server, on
//! SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod helpers;

mod config;
mod errors;
mod idempotency;
mod jobs;
mod login;
mod mail;
mod migrations;
mod ops;
mod signup;
mod spec;
mod two_factor;
