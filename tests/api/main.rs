//! The one integration test binary: black-box tests through HTTP against the real server, on
//! SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod helpers;

mod account_attacks;
mod account_deletion;
mod account_vocabulary;
mod activities;
mod activity_record;
mod audit;
mod auto_renewal;
mod billing;
mod billing_edges;
mod billing_vocabulary;
mod cli_exit;
mod config;
mod emails;
mod errors;
mod hardening;
mod idempotency;
mod jobs;
mod login;
mod mail;
mod migrations;
mod money_one_place;
mod newsletters;
mod ops;
mod org_access;
mod org_two_factor;
mod org_vocabulary;
mod orgs;
mod passwords;
mod prepaid;
mod prerequisites;
mod race_members;
mod races;
mod security;
mod sessions;
mod signup;
mod spec;
mod tokens;
mod two_factor;
mod vocabulary;
