//! Integration tests: the real app over real HTTP against a real PostgreSQL, one fresh
//! database per test. One binary for all of them keeps linking fast.

mod attachments;
mod billing;
mod browser;
mod calendar;
mod children;
mod citus_rules;
mod cli;
mod dossiers;
mod export_import;
mod faults;
mod helpers;
mod hosts;
mod index;
mod invoice_pages;
mod isolation;
mod mail;
mod mail_sink;
mod manifests;
mod metering;
mod migrations;
mod observability;
mod operator;
mod operator_pages;
mod pages;
mod pgbouncer;
mod provisioning;
mod replicas;
mod staff;
mod staff_pages;
mod stripe;
mod stripe_fees;
mod unavailable;
