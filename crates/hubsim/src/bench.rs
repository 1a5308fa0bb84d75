//! A throughput bench: Hub API requests per second and blob MB/s over loopback.
//!
//! The simulator must never be the bottleneck of a census benchmark, so this measures it with
//! a minimal keep-alive HTTP/1.1 client (no client library overhead to blame): concurrent
//! workers hit namespace listings and repository details for the Hub API figure, and fetch a
//! shared base layer from the CDN for the blob figure.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{Sim, SimConfig};

/// Bench results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// Hub API requests per second.
    pub hub_requests_per_sec: f64,
    /// Hub API requests made.
    pub hub_requests: u64,
    /// Blob throughput in MB/s (10^6 bytes).
    pub blob_mb_per_sec: f64,
    /// Blob bytes read.
    pub blob_bytes: u64,
    /// Size of the blob fetched.
    pub blob_size: u64,
}

/// Errors of the bench's tiny client.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// I/O.
    #[error("bench I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The server answered something unexpected.
    #[error("bench: {0}")]
    Protocol(String),
    /// Starting the simulator failed.
    #[error(transparent)]
    Start(#[from] crate::Error),
}

struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(base: &str) -> Result<Self, BenchError> {
        let host = base.trim_start_matches("http://").trim_end_matches('/').to_string();
        let stream = TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream: BufReader::with_capacity(256 * 1024, stream), host })
    }

    /// GET; returns (status, headers text, body length) and discards the body.
    async fn get(&mut self, path: &str, extra: &str) -> Result<(u16, String, u64), BenchError> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}\r\n", self.host);
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let b = self.stream.read_u8().await?;
            head.push(b);
            if head.len() > 64 * 1024 {
                return Err(BenchError::Protocol("header too long".into()));
            }
        }
        let text = String::from_utf8_lossy(&head).to_string();
        let status: u16 =
            text.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| BenchError::Protocol(text.clone()))?;
        let len: u64 = text
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
            })
            .ok_or_else(|| BenchError::Protocol("no content-length".into()))?;
        let mut left = len;
        let mut buf = vec![0u8; 256 * 1024];
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            let n = self.stream.read(&mut buf[..want]).await?;
            if n == 0 {
                return Err(BenchError::Protocol("eof in body".into()));
            }
            left -= n as u64;
        }
        Ok((status, text, len))
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Runs the bench against a fresh in-process simulator.
pub async fn run(seed: u64, repos: u32, seconds: f64, concurrency: usize) -> Result<BenchReport, BenchError> {
    let mut cfg = SimConfig::for_tests(seed, repos);
    cfg.limits.pulls_anonymous = None;
    cfg.limits.pulls_authenticated = None;
    cfg.service.anonymous_offset_cap = None;
    let sim = Sim::start(cfg).await?;
    let pop = sim.population();
    let paths: Vec<String> = (0..pop.len().min(5_000) as u32)
        .filter(|&i| !pop.repo(i).private)
        .flat_map(|i| {
            let ns = &pop.namespace_of(i).name;
            [
                format!("/v2/namespaces/{ns}/repositories?page_size=10"),
                format!("/v2/repositories/{}/", pop.full_name(i)),
            ]
        })
        .collect();
    let deadline = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let hub = sim.hub_url().to_string();
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&hub).await?;
            let mut n = 0u64;
            let mut k = w * 7919;
            let t = Instant::now();
            while t.elapsed() < deadline {
                let (status, _, _) = conn.get(&paths[k % paths.len()], "").await?;
                if status != 200 {
                    return Err(BenchError::Protocol(format!("hub status {status}")));
                }
                n += 1;
                k += 1;
            }
            Ok::<u64, BenchError>(n)
        }));
    }
    let mut hub_requests = 0;
    for t in tasks {
        hub_requests += t.await.map_err(|e| BenchError::Protocol(e.to_string()))??;
    }
    let hub_secs = start.elapsed().as_secs_f64();

    // Find the biggest blob of some image: the shared base layer.
    let i = (0..pop.len() as u32)
        .find(|&i| pop.exclusion(i).is_none())
        .ok_or_else(|| BenchError::Protocol("no image".into()))?;
    let name = pop.full_name(i);
    let content = {
        let n = name.clone();
        let sim_ref = &sim;
        tokio::task::block_in_place(|| sim_ref.content(&n))
            .ok_or_else(|| BenchError::Protocol("no content".into()))?
    };
    let (digest, size) = content
        .blobs
        .iter()
        .map(|(d, b)| (d.clone(), b.len() as u64))
        .max_by_key(|(_, s)| *s)
        .ok_or_else(|| BenchError::Protocol("no blob".into()))?;
    // One request with `Connection: close`, reading the whole answer (the client above discards bodies).
    let token = {
        let host = sim.auth_url().trim_start_matches("http://").to_string();
        let mut s = TcpStream::connect(&host).await?;
        s.write_all(format!("GET /token?service=registry.docker.io&scope=repository:{name}:pull HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut all = Vec::new();
        s.read_to_end(&mut all).await?;
        let text = String::from_utf8_lossy(&all).to_string();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        let v: serde_json::Value =
            serde_json::from_str(body).map_err(|e| BenchError::Protocol(e.to_string()))?;
        v["token"].as_str().unwrap_or_default().to_string()
    };
    let mut reg = Conn::open(sim.registry_url()).await?;
    let (status, head, _) =
        reg.get(&format!("/v2/{name}/blobs/{digest}"), &format!("Authorization: Bearer {token}\r\n")).await?;
    if status != 307 {
        return Err(BenchError::Protocol(format!("blob status {status}")));
    }
    let location =
        header(&head, "location").ok_or_else(|| BenchError::Protocol("no location".into()))?.to_string();
    let cdn = sim.cdn_url().to_string();
    let path = location.trim_start_matches(&cdn).to_string();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.clamp(1, 4) {
        let cdn = cdn.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&cdn).await?;
            let mut bytes = 0u64;
            let t = Instant::now();
            while t.elapsed() < deadline {
                let (status, _, len) = conn.get(&path, "").await?;
                if status != 200 {
                    return Err(BenchError::Protocol(format!("cdn status {status}")));
                }
                bytes += len;
            }
            Ok::<u64, BenchError>(bytes)
        }));
    }
    let mut blob_bytes = 0;
    for t in tasks {
        blob_bytes += t.await.map_err(|e| BenchError::Protocol(e.to_string()))??;
    }
    let blob_secs = start.elapsed().as_secs_f64();
    sim.shutdown().await;
    Ok(BenchReport {
        hub_requests_per_sec: hub_requests as f64 / hub_secs,
        hub_requests,
        blob_mb_per_sec: blob_bytes as f64 / blob_secs / 1e6,
        blob_bytes,
        blob_size: size,
    })
}
