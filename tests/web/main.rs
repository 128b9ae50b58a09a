//! The integration tests: the real server, a fresh database per test, SQLite by default
//! and PostgreSQL when `CLIENTELE_TEST_DATABASE_URL` is set (scripts/test runs both).
#![expect(
    clippy::expect_used,
    reason = "test helpers fail loudly, naming what they expected"
)]

mod anonymize;
mod api;
mod api_strict;
mod audit;
mod auth;
mod backup;
mod blacklist;
mod browser;
mod browser_customers;
mod browser_insights;
mod browser_pages;
mod browser_self;
mod browser_workspace;
mod bulk_changes;
mod chrome;
mod cli;
mod contains;
mod customer_export;
mod customers;
mod customers_find;
mod customers_page;
mod customers_search;
mod download;
mod duplicates;
mod engagement;
mod export;
mod find_by_id;
mod health;
mod helpers;
mod history;
mod html;
mod import;
mod import_encodings;
mod insights;
mod instances;
mod lifecycle;
mod link_requests;
mod locks;
mod merge;
mod moves;
mod panel;
mod pool;
mod properties;
mod queue;
mod receiver;
mod relationship;
mod search_initials;
mod search_pairs;
mod security;
mod selfservice;
mod sessions;
mod shutdown;
mod strict_inputs;
mod tabs;
mod teams;
mod totals;
mod traffic;
mod users;
mod value_reading;
mod walks;
mod webhooks;
mod workspace;
