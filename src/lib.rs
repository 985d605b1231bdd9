//! portal: one operator runs the public-service portal of a whole country and leases it to
//! provinces, each a tenant with its own PostgreSQL schema and subdomain.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod billing;
pub mod blocking;
pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod commands;
pub mod config;
pub mod db;
pub mod dossiers;
pub mod einvoice;
pub mod error;
pub mod frontdoor;
pub mod hostname;
pub mod ids;
pub mod index;
pub mod jobs;
pub mod lang;
pub mod leasing;
pub mod metering;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod payments;
pub mod period;
pub mod reorg;
pub mod sniff;
pub mod startup;
pub mod stripe_api;
pub mod tenancy;
pub mod units;
pub mod uploads;
pub mod web;
