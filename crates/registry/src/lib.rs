//! Talking to an OCI distribution registry the way Docker Hub requires.
//!
//! This crate holds the protocol pieces that do not depend on how requests are sent:
//!
//! - [`Challenge`]: the `WWW-Authenticate` header of a 401 (`Bearer realm=...,service=...,
//!   scope=...,error="insufficient_scope"`, or `Basic realm=...`), parsed per RFC 7235 with
//!   quoted strings, escapes and several challenges in one header;
//! - [`Token`] and [`TokenCache`]: the token service's answer (`token` or `access_token`,
//!   `expires_in` — 300 s on Docker Hub, 60 s by the spec when absent —, `issued_at`), cached per
//!   (realm, service, scope) and refreshed before it expires, with a `Debug` that never prints it;
//! - [`ErrorEnvelope`]: the spec's `{"errors":[{"code","message","detail"}]}` body
//!   (`UNAUTHORIZED`, `MANIFEST_UNKNOWN`, `TOOMANYREQUESTS`...).
//!
//! The client that sends requests (through `hubcensus-net`'s gate), resolves manifests and
//! streams blobs builds on these (issue #5).

#![deny(missing_docs)]

mod challenge;
mod envelope;
mod token;

pub use challenge::{Challenge, Scheme, parse_challenges};
pub use envelope::{ErrorEnvelope, RegistryErrorCode};
pub use token::{Token, TokenCache, TokenError, TokenKey};
