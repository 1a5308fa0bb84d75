//! Shared helpers: starting a simulator, fetching tokens, following blob redirects by hand.

use std::io::Read as _;

use hubcensus_hubsim::{Sim, SimConfig};
use reqwest::{Client, StatusCode, header::HeaderMap};
use serde_json::Value;

pub(crate) const SEED: u64 = 42;

pub(crate) const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

pub(crate) async fn start(repos: u32, tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_tests(SEED, repos);
    tweak(&mut cfg);
    Sim::start(cfg).await.unwrap()
}

/// A client that does not follow redirects (tests inspect the 307 themselves).
pub(crate) fn client() -> Client {
    // The workspace builds reqwest with rustls but no default crypto provider (see
    // docs/decisions/0001-http-gate.md); install ring, as hubcensus-net's gate does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub(crate) async fn get_json(c: &Client, url: &str) -> (StatusCode, HeaderMap, Value) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"));
    (status, headers, v)
}

pub(crate) async fn token(c: &Client, sim: &Sim, repo: &str) -> String {
    let url = format!("{}/token?service=registry.docker.io&scope=repository:{repo}:pull", sim.auth_url());
    let (status, _, v) = get_json(c, &url).await;
    assert_eq!(status, 200);
    v["token"].as_str().unwrap().to_string()
}

/// Fetches a manifest with the full Accept list; returns (content-type, digest header, bytes).
pub(crate) async fn manifest(
    c: &Client,
    sim: &Sim,
    repo: &str,
    reference: &str,
    token: &str,
) -> (String, String, Vec<u8>) {
    let r = c
        .get(format!("{}/v2/{repo}/manifests/{reference}", sim.registry_url()))
        .header("accept", ACCEPT_ALL)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "manifest {repo}:{reference}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let dcd = r.headers()["docker-content-digest"].to_str().unwrap().to_string();
    let body = r.bytes().await.unwrap().to_vec();
    (ct, dcd, body)
}

/// Resolves a tag to its linux/amd64 manifest: (manifest digest, manifest JSON).
pub(crate) async fn amd64_manifest(
    c: &Client,
    sim: &Sim,
    repo: &str,
    tag: &str,
    token: &str,
) -> (String, Value) {
    let (ct, dcd, body) = manifest(c, sim, repo, tag, token).await;
    assert_eq!(dcd, format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body))));
    let v: Value = serde_json::from_slice(&body).unwrap();
    if ct.contains("index") || ct.contains("list") {
        let entry = v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
            .unwrap();
        let d = entry["digest"].as_str().unwrap();
        let (_, dcd2, body2) = manifest(c, sim, repo, d, token).await;
        assert_eq!(dcd2, d);
        (d.to_string(), serde_json::from_slice(&body2).unwrap())
    } else {
        (dcd, v)
    }
}

/// Fetches a blob through the 307 to the CDN, without forwarding Authorization, and checks
/// its digest.
pub(crate) async fn blob(c: &Client, sim: &Sim, repo: &str, digest: &str, token: &str) -> Vec<u8> {
    let r = c
        .get(format!("{}/v2/{repo}/blobs/{digest}", sim.registry_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 307, "blob {digest}");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(sim.cdn_url()), "{loc}");
    let r = c.get(&loc).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(digest, format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))));
    bytes
}

/// Decompresses a layer by magic bytes and returns its tar entries (path, data).
pub(crate) fn untar(layer: &[u8]) -> Vec<(String, Vec<u8>)> {
    let raw = if layer.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(layer).read_to_end(&mut out).unwrap();
        out
    } else if layer.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::decode_all(layer).unwrap()
    } else {
        layer.to_vec()
    };
    let mut ar = tar::Archive::new(raw.as_slice());
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let p = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (p, data)
        })
        .collect()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data))
}

/// Keys of a JSON object in order.
pub(crate) fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Keys of an object in the order they appear in raw JSON text (serde_json sorts maps).
pub(crate) fn raw_keys(text: &str) -> Vec<String> {
    // Top-level keys of the first object in `text`.
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut esc = false;
    let mut cur = String::new();
    let mut expecting_key = false;
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let ch = bytes[i];
        if in_str {
            if esc {
                esc = false;
            } else if ch == '\\' {
                esc = true;
            } else if ch == '"' {
                in_str = false;
                if depth == 1 && expecting_key {
                    out.push(cur.clone());
                    expecting_key = false;
                }
            } else if depth == 1 && expecting_key {
                cur.push(ch);
            }
        } else {
            match ch {
                '{' | '[' => {
                    depth += 1;
                    if depth == 1 {
                        expecting_key = true;
                    }
                }
                '}' | ']' => depth -= 1,
                ',' if depth == 1 => expecting_key = true,
                '"' => {
                    in_str = true;
                    cur.clear();
                }
                _ => {}
            }
        }
        i += 1;
    }
    out
}

pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The newest tag of a repository.
pub(crate) fn newest_tag(sim: &Sim, repo: &str) -> String {
    tokio::task::block_in_place(|| sim.content(repo).unwrap().tags[0].name.clone())
}

/// A community image repository (not planted) whose tags have `media_type`.
pub(crate) fn community_repo(sim: &Sim, media_type: &str) -> String {
    let pop = sim.population();
    (0..pop.len() as u32)
        .find(|&i| {
            pop.exclusion(i).is_none()
                && pop.repo(i).plant.is_none()
                && hubcensus_hubsim::population::content::tag_media_type(pop, i) == Some(media_type)
        })
        .map(|i| pop.full_name(i))
        .unwrap_or_else(|| panic!("no community repository with {media_type}"))
}
