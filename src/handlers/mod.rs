//! One module per screen area. The only layer that sees requests, sessions and templates.

pub mod account;
pub mod api;
pub mod charts;
pub mod conversations;
pub mod customers;
pub mod download;
pub mod health;
pub mod insights;
pub mod page;
pub mod scope;
pub mod selfservice;
pub mod session;
pub mod settings;
pub mod workspace;
