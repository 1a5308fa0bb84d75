//! The one gate every hubcensus HTTP request passes.
//!
//! Docker Hub has two budgets (the Hub API's ~180 requests a minute and the registry's pull
//! quota) and an abuse limit behind both; a crawler that runs for days must never trip them,
//! and must stop at once when a server says so. So no crate sends a request itself: `hub` and
//! `registry` hand their requests to a [`Gate`], which for each one
//!
//! 1. checks the target against the SSRF policy (no loopback, private or link-local address,
//!    for the URL and for every address its name resolves to, unless the configuration allows
//!    it — tests and the demo talk to hubsim on loopback);
//! 2. waits while the origin (scheme, host and port) is paused (a 429's `Retry-After`, or
//!    `x-ratelimit-remaining: 0` until `x-ratelimit-reset`), then takes from the origin's
//!    [`Budget`] and the request's own, then waits for a concurrency permit. Budgets are a trait:
//!    [`LocalRate`] keeps one in this process, the CLI wires one shared by every worker
//!    through Postgres;
//! 3. sends it with connect and read timeouts and the configured User-Agent;
//! 4. retries 5xx, 408, resets and timeouts with jittered exponential backoff (backon) up to a
//!    cap — but never hot-retries a 429: it waits for the window the server names when that is
//!    short, and otherwise returns [`NetError::RateLimited`] with the time the window resets;
//! 5. follows redirects itself, dropping `Authorization` whenever the origin changes (the
//!    registry's 307 to a CDN that rejects it), and applying the SSRF policy to each hop.
//!
//! Rate-limit headers of every response are parsed into a [`RateLimitInfo`] so the caller can
//! account for the pull quota (`ratelimit-remaining: N;w=21600`).

#![deny(missing_docs)]

mod budget;
mod config;
mod error;
mod gate;
mod host;
mod ratelimit;
mod ssrf;

pub use budget::{Budget, BudgetChain, BudgetError, BudgetFuture, LocalRate, RateShape};
pub use config::{DEFAULT_REQUESTS_PER_MINUTE, GateConfig, OriginLimit, origin_of};
pub use error::NetError;
pub use gate::{Gate, Request, Response};
pub use ratelimit::{RateLimitInfo, retry_after};
pub use ssrf::is_forbidden_ip;
