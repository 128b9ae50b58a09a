//! Operations that combine domain rules with several queries in one transaction, shared by
//! every path that performs them (pages, CLI, API, import).

pub mod accounts;
pub mod audit;
pub mod card;
pub mod conversations;
pub mod customer_export;
pub mod delivery;
pub mod duplicates;
pub mod engagement;
pub mod erasure;
pub mod export;
pub mod import;
pub mod inbound;
pub mod insights;
pub mod jobs;
pub mod lifecycle;
pub mod link_requests;
pub mod locks;
pub mod lookup;
pub mod merge;
pub mod orders;
pub mod profiles;
pub mod properties;
pub mod retention;
pub mod segments;
pub mod selfservice;
pub mod settings;
pub mod tags;
pub mod teams;
pub mod tokens;
