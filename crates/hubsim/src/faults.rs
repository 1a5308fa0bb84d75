//! Fault injection: the failures a census must survive.
//!
//! Real registries and CDNs fail: 500/502/503, dropped connections, bodies that stop short,
//! slow answers, and (rarely, or when lying) a `Docker-Content-Digest` that does not match the
//! bytes. A middleware draws one fault per request from a keyed hash of the request number, so
//! the same traffic sees the same faults, and rates are configured per kind.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::config::FaultConfig;
use crate::rng::Rng;

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Status(u16),
    Reset,
    Truncate,
    Slow,
    WrongDigest,
}

/// The fault draw.
#[derive(Debug)]
pub(crate) struct Faults {
    cfg: FaultConfig,
    counter: AtomicU64,
    injected: AtomicU64,
}

impl Faults {
    pub(crate) fn new(cfg: FaultConfig) -> Self {
        Self { cfg, counter: AtomicU64::new(0), injected: AtomicU64::new(0) }
    }

    fn enabled(&self) -> bool {
        let c = &self.cfg;
        c.status_500 + c.status_502 + c.status_503 + c.reset + c.truncate + c.slow + c.wrong_digest > 0.0
    }

    /// Draws the fault (if any) for the next request.
    pub(crate) fn draw(&self) -> Option<Fault> {
        if !self.enabled() {
            return None;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let u = Rng::new(self.cfg.seed, "fault", n).unit();
        let c = &self.cfg;
        let mut acc = 0.0;
        for (rate, fault) in [
            (c.status_500, Fault::Status(500)),
            (c.status_502, Fault::Status(502)),
            (c.status_503, Fault::Status(503)),
            (c.reset, Fault::Reset),
            (c.truncate, Fault::Truncate),
            (c.slow, Fault::Slow),
            (c.wrong_digest, Fault::WrongDigest),
        ] {
            acc += rate;
            if u < acc {
                self.injected.fetch_add(1, Ordering::Relaxed);
                return Some(fault);
            }
        }
        None
    }

    /// Faults injected so far.
    pub(crate) fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    pub(crate) fn slow(&self) -> Duration {
        Duration::from_millis(self.cfg.slow_ms)
    }
}

fn failing_body(prefix: Bytes) -> Body {
    use futures_util::StreamExt as _;
    if prefix.is_empty() {
        let items: Vec<Result<Bytes, std::io::Error>> =
            vec![Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset"))];
        return Body::from_stream(futures_util::stream::iter(items));
    }
    // Yield the prefix, pause so the server flushes it, then fail: the client has received a
    // status line, headers promising the full length, and half the body.
    let head = futures_util::stream::iter(vec![Ok::<Bytes, std::io::Error>(prefix)]);
    let tail = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected truncation"))
    });
    Body::from_stream(head.chain(tail))
}

/// The middleware: applies a drawn fault around the real handler.
pub(crate) async fn middleware(
    State(faults): State<std::sync::Arc<Faults>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(fault) = faults.draw() else {
        return next.run(req).await;
    };
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = format!(
                "<html><body><h1>{code} {}</h1></body></html>\n",
                status.canonical_reason().unwrap_or("")
            );
            (status, [("content-type", "text/html")], body).into_response()
        }
        Fault::Slow => {
            tokio::time::sleep(faults.slow()).await;
            next.run(req).await
        }
        Fault::Reset => {
            let resp = next.run(req).await;
            let (mut parts, _) = resp.into_parts();
            parts.headers.remove("content-length");
            Response::from_parts(parts, failing_body(Bytes::new()))
        }
        Fault::Truncate => {
            let resp = next.run(req).await;
            let (parts, body) = resp.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return Response::from_parts(parts, failing_body(Bytes::new()));
            };
            if bytes.len() < 2 {
                return Response::from_parts(parts, failing_body(Bytes::new()));
            }
            let half = bytes.slice(..bytes.len() / 2);
            let mut parts = parts;
            if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
                parts.headers.insert("content-length", v);
            }
            Response::from_parts(parts, failing_body(half))
        }
        Fault::WrongDigest => {
            let mut resp = next.run(req).await;
            if resp.headers().contains_key("docker-content-digest") {
                let wrong = hubcensus_types::Digest::sha256_of(b"hubsim: injected wrong digest");
                if let Ok(v) = HeaderValue::from_str(wrong.as_str()) {
                    resp.headers_mut().insert("docker-content-digest", v);
                }
            }
            resp
        }
    }
}
