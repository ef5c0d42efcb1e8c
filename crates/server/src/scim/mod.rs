//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) at `/scim/v2`: the company's directory
//! (Microsoft Entra ID, Okta) creates people, changes them, deactivates those who leave
//! (`active: false` signs their devices out) and deletes them (an erasure). Each organisation
//! authenticates its directory with its own bearer tokens (`tokens.rs`); the users as Relay
//! keeps them (`user.rs`), their rows (`store.rs`), filters and attribute selection
//! (`query.rs`), PATCH (`patch.rs`), the discovery documents (`discovery.rs`), the endpoints
//! (`routes.rs`), SCIM's errors (`error.rs`). Set-up: docs/operations.md.

pub mod cli;
pub mod discovery;
pub mod error;
pub mod patch;
pub mod query;
pub mod routes;
pub mod store;
pub mod tokens;
pub mod user;

pub use routes::router;

pub const CONTENT_TYPE: &str = "application/scim+json";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
