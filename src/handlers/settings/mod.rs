//! Settings screens, for supervisors only (every handler takes the `Supervisor` extractor).

pub mod audit;
pub mod card;
pub mod features;
pub mod integrations;
pub mod lifecycle;
pub mod properties;
pub mod selfservice;
pub mod tags;
pub mod teams;
pub mod users;
