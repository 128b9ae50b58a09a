//! Clientele: a self-hosted customer profile service for contact centers.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod middleware;
pub mod page;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
