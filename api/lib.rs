//! Leman: the back end of a hosting provider's customer Manager.

pub mod auth;
pub mod catalog;
pub mod config;
pub mod context;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod extensions;
pub mod gateway;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod openapi_links;
pub mod openapi_quality;
pub mod registry;
pub mod routes;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod views;
