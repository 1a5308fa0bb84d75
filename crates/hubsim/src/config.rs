//! Simulator configuration: the population (what exists) and the service (how it behaves).
//!
//! One TOML file (samples in `config/hubsim/`) plus CLI flags fills [`SimConfig`]. Every field
//! has a default that reproduces Docker Hub as `reference/dockerhub-api.md` describes it and a
//! population in Sysdig's 2022 proportions; tests override only what they exercise.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Errors loading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for [`SimConfig`].
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why (names the key).
        source: toml::de::Error,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything the simulator needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// What the simulated Hub contains.
    pub population: PopulationConfig,
    /// Where and how the four listeners answer.
    pub service: ServiceConfig,
    /// Pull quota and Hub API rate limit.
    pub limits: LimitsConfig,
    /// Injected failures.
    pub faults: FaultConfig,
}

impl SimConfig {
    /// Reads a TOML file; missing keys keep their defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let cfg: SimConfig = toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.display().to_string(), source })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// A small population for tests: `repos` repositories from `seed`, default behaviour, no Hub
    /// API rate limit (tests that exercise it turn it on).
    pub fn for_tests(seed: u64, repos: u32) -> Self {
        let mut cfg = SimConfig::default();
        cfg.population.seed = seed;
        cfg.population.repos = repos;
        cfg.limits.hub_requests_per_minute = None;
        cfg
    }

    /// Checks ranges that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.population;
        if p.repos < 50 {
            return Err(ConfigError::Invalid(format!(
                "population.repos must be at least 50, got {}",
                p.repos
            )));
        }
        if p.repos > 20_000_000 {
            return Err(ConfigError::Invalid("population.repos must be at most 20,000,000".into()));
        }
        for (name, v) in p.shares.named() {
            if !(0.0..=1.0).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "population.shares.{name} must be within 0..=1, got {v}"
                )));
            }
        }
        if !(0.0..=1.0).contains(&p.search_hidden) {
            return Err(ConfigError::Invalid(format!(
                "population.search_hidden must be within 0..=1, got {}",
                p.search_hidden
            )));
        }
        let e = &p.epochs;
        for (name, v) in [
            ("added", e.added),
            ("removed", e.removed),
            ("repushed", e.repushed),
            ("cleaned", e.cleaned),
            ("infected", e.infected),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "population.epochs.{name} must be within 0..=1, got {v}"
                )));
            }
        }
        if self.service.time_scale <= 0.0 || !self.service.time_scale.is_finite() {
            return Err(ConfigError::Invalid("service.time_scale must be positive".into()));
        }
        let f = &self.faults;
        let total =
            f.status_500 + f.status_502 + f.status_503 + f.reset + f.truncate + f.slow + f.wrong_digest;
        if !(0.0..=1.0).contains(&total) {
            return Err(ConfigError::Invalid(format!("fault rates must sum to at most 1, got {total}")));
        }
        Ok(())
    }
}

/// The population: deterministic from `seed` and `repos`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationConfig {
    /// The seed every generated value derives from.
    pub seed: u64,
    /// Number of repositories, officials included.
    pub repos: u32,
    /// "Now" of the population as Unix seconds: every push date lies before it.
    pub anchor_unix: i64,
    /// Shares of repository and image kinds.
    pub shares: Shares,
    /// Planted threats, as images per 250,000 repositories (scaled to `repos`, rounded up so
    /// every category with a non-zero rate appears at least once).
    pub threats_per_250k: ThreatRates,
    /// One organisation namespace this large (capped at a quarter of the population), so
    /// anonymous namespace listings reach the offset-1000 cap.
    pub big_namespace_repos: u32,
    /// The first repository of that namespace has this many tags (tag listings past the cap).
    pub big_repo_tags: u32,
    /// Benign look-alikes (AWS documentation example keys, test fixtures) per 250,000
    /// repositories: a census must rate them low, not count them.
    pub decoys_per_250k: u32,
    /// Repositories Docker Hub reports inactive (`status` 0, `status_description`
    /// `"inactive"`: nothing in them pushed or pulled for six months), per 250,000 repositories,
    /// scaled like the threats. Drawn among the public community image repositories last
    /// pushed long enough ago, never one with a planted threat or a decoy, so every repository
    /// has at most one reason to be left out and the planted truth stays countable.
    pub inactive_per_250k: u32,
    /// Share of public community repositories that search (v4, v3, legacy) leaves out, each
    /// drawn independently: Hub's search under-reports, and these are found only by a
    /// namespace crawl or a names file. 0 (the default) keeps every repository searchable;
    /// the truth lists the hidden ones (`search_hidden`).
    pub search_hidden: f64,
    /// How many rounds of change (`epochs`) the population has been through: a census at
    /// epoch K and one at K + 1 see Hub change between them. 0 (the default) is the population
    /// as generated.
    pub epoch: u32,
    /// What each round of change does (every rate 0 by default: no change at any epoch).
    pub epochs: EpochRates,
}

/// Shares of repositories each round of change touches, each drawn per repository and round
/// (see `population::epochs`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpochRates {
    /// Plain community repositories created per round: each is drawn for rounds 1..=16 and
    /// born in the first that draws it, so about `1 − (1 − added)^16` of them are absent at
    /// epoch 0 (the population then holds fewer than `repos` repositories).
    pub added: f64,
    /// Clean community repositories deleted per round.
    pub removed: f64,
    /// Clean community repositories whose tags are re-pushed with new images per round.
    pub repushed: f64,
    /// Planted repositories (typosquats excepted) whose images are replaced by clean ones.
    pub cleaned: f64,
    /// Clean community repositories re-pushed with a planted miner or hacking tool.
    pub infected: f64,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            repos: 250_000,
            // 2026-09-01T00:00:00Z
            anchor_unix: 1_788_220_800,
            shares: Shares::default(),
            threats_per_250k: ThreatRates::default(),
            big_namespace_repos: 1_150,
            big_repo_tags: 1_120,
            decoys_per_250k: 500,
            inactive_per_250k: 3_750,
            search_hidden: 0.0,
            epoch: 0,
            epochs: EpochRates::default(),
        }
    }
}

/// Shares of kinds (each in `0..=1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Shares {
    /// Community namespaces that are Docker Verified Publishers.
    pub verified_namespaces: f64,
    /// Community namespaces in Docker-Sponsored Open Source.
    pub open_source_namespaces: f64,
    /// Repositories with no tags at all (metadata only).
    pub imageless: f64,
    /// Imageless repositories whose description is spam (JFrog's metadata campaigns).
    pub spam: f64,
    /// Repositories holding Helm charts.
    pub helm: f64,
    /// Repositories holding WebAssembly artifacts.
    pub wasm: f64,
    /// Private repositories (not listed anonymously; 401 from the registry).
    pub private: f64,
    /// Repositories whose images are old Docker schema1 manifests.
    pub schema1: f64,
    /// Images whose own layers are zstd-compressed.
    pub zstd: f64,
    /// Images pushed by BuildKit as an OCI index with attestation manifests.
    pub oci_index: f64,
    /// Images pushed as a Docker manifest list.
    pub docker_list: f64,
    /// Single-platform images pushed as an OCI manifest (the rest are Docker schema2).
    pub oci_manifest: f64,
    /// Multi-platform images that also carry a windows/amd64 entry with foreign layers.
    pub windows_entry: f64,
}

impl Shares {
    fn named(&self) -> [(&'static str, f64); 13] {
        [
            ("verified_namespaces", self.verified_namespaces),
            ("open_source_namespaces", self.open_source_namespaces),
            ("imageless", self.imageless),
            ("spam", self.spam),
            ("helm", self.helm),
            ("wasm", self.wasm),
            ("private", self.private),
            ("schema1", self.schema1),
            ("zstd", self.zstd),
            ("oci_index", self.oci_index),
            ("docker_list", self.docker_list),
            ("oci_manifest", self.oci_manifest),
            ("windows_entry", self.windows_entry),
        ]
    }
}

impl Default for Shares {
    fn default() -> Self {
        Self {
            verified_namespaces: 0.01,
            open_source_namespaces: 0.008,
            imageless: 0.06,
            spam: 0.03,
            helm: 0.01,
            wasm: 0.004,
            private: 0.004,
            schema1: 0.03,
            zstd: 0.06,
            oci_index: 0.35,
            docker_list: 0.12,
            oci_manifest: 0.2,
            windows_entry: 0.05,
        }
    }
}

/// Planted images per 250,000 repositories, by category. Defaults are Sysdig's 2022 table
/// (1,777 images) plus typosquatted names, which Sysdig named but did not count.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ThreatRates {
    pub cryptomining: u32,
    pub embedded_keys: u32,
    pub proxy_avoidance: u32,
    pub newly_registered_domain: u32,
    pub malicious_domain: u32,
    pub hacking_tool: u32,
    pub dynamic_dns: u32,
    pub typosquatting: u32,
    pub other: u32,
}

impl Default for ThreatRates {
    fn default() -> Self {
        Self {
            cryptomining: 608,
            embedded_keys: 281,
            proxy_avoidance: 266,
            newly_registered_domain: 134,
            malicious_domain: 129,
            hacking_tool: 38,
            dynamic_dns: 33,
            typosquatting: 40,
            other: 288,
        }
    }
}

impl ThreatRates {
    /// The rate for a category.
    pub fn get(&self, c: hubcensus_types::Category) -> u32 {
        use hubcensus_types::Category as C;
        match c {
            C::Cryptomining => self.cryptomining,
            C::EmbeddedKeys => self.embedded_keys,
            C::ProxyAvoidance => self.proxy_avoidance,
            C::NewlyRegisteredDomain => self.newly_registered_domain,
            C::MaliciousDomain => self.malicious_domain,
            C::HackingTool => self.hacking_tool,
            C::DynamicDns => self.dynamic_dns,
            C::Typosquatting => self.typosquatting,
            C::Other => self.other,
        }
    }
}

/// Listeners and protocol behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Hub API (`hub.docker.com`) listen address.
    pub hub_listen: SocketAddr,
    /// Registry (`registry-1.docker.io`) listen address.
    pub registry_listen: SocketAddr,
    /// Token service (`auth.docker.io`) listen address.
    pub auth_listen: SocketAddr,
    /// Blob CDN (`production.cloudflare.docker.com`) listen address.
    pub cdn_listen: SocketAddr,
    /// Allow listening on a non-loopback address (refused otherwise).
    pub allow_non_loopback: bool,
    /// Simulated seconds per real second (21600 makes the 6-hour quota window one second).
    pub time_scale: f64,
    /// Registry token lifetime (Docker Hub: 300 s).
    pub token_ttl_secs: u64,
    /// Hub API login token lifetime (Docker Hub: 10 minutes).
    pub hub_token_ttl_secs: u64,
    /// Lifetime of a signed CDN URL.
    pub cdn_url_ttl_secs: u64,
    /// Anonymous callers get 403 at this Hub list offset (`None` disables the cap).
    pub anonymous_offset_cap: Option<u64>,
    /// Accounts accepted by the token service (Basic) and Hub login.
    pub accounts: Vec<Account>,
    /// Materialised repositories kept in memory (each holds its manifests and small blobs).
    pub cache_repos: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        let lo: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            hub_listen: lo,
            registry_listen: lo,
            auth_listen: lo,
            cdn_listen: lo,
            allow_non_loopback: false,
            time_scale: 1.0,
            token_ttl_secs: 300,
            hub_token_ttl_secs: 600,
            cdn_url_ttl_secs: 1200,
            anonymous_offset_cap: Some(1000),
            accounts: vec![Account { username: "census".into(), secret: "census-pat".into() }],
            cache_repos: 2048,
        }
    }
}

/// A Docker Hub account (username and password / personal access token).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Username (also the Hub login `identifier`).
    pub username: String,
    /// Password or PAT (the Hub login `secret`).
    pub secret: String,
}

/// Rate limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Manifest GETs per window for anonymous clients (per source address). `None`: unlimited
    /// and no ratelimit headers, like a paid plan.
    pub pulls_anonymous: Option<u32>,
    /// Manifest GETs per window for authenticated clients (per account).
    pub pulls_authenticated: Option<u32>,
    /// Quota window in simulated seconds (Docker Hub: 21600).
    pub pull_window_secs: u64,
    /// Whether a GET of an index / manifest list counts as a pull (the 2025 docs leave it open).
    pub index_get_counts: bool,
    /// Hub API requests per simulated minute per client (`None`: unlimited).
    pub hub_requests_per_minute: Option<u32>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            pulls_anonymous: Some(100),
            pulls_authenticated: Some(200),
            pull_window_secs: 21_600,
            index_get_counts: true,
            hub_requests_per_minute: Some(180),
        }
    }
}

/// Fault injection rates (each the probability per eligible request; they must sum to ≤ 1).
/// Faults hit the registry, the CDN and the Hub API, never the token service. The draw is a
/// keyed hash of the request number, so a run with the same traffic sees the same faults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FaultConfig {
    pub status_500: f64,
    pub status_502: f64,
    pub status_503: f64,
    /// The connection is dropped before any response.
    pub reset: f64,
    /// The body stops halfway (Content-Length promises more).
    pub truncate: f64,
    /// The response is delayed by `slow_ms`.
    pub slow: f64,
    /// Manifest responses carry a Docker-Content-Digest that does not match the bytes.
    pub wrong_digest: f64,
    /// Delay for slow responses, in real milliseconds.
    pub slow_ms: u64,
    /// Seed of the fault draw.
    pub seed: u64,
}

impl FaultConfig {
    /// The same total rate spread evenly over every fault kind.
    pub fn uniform(total: f64) -> Self {
        let r = total / 7.0;
        Self {
            status_500: r,
            status_502: r,
            status_503: r,
            reset: r,
            truncate: r,
            slow: r,
            wrong_digest: r,
            slow_ms: 200,
            seed: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_sample_file_parses() {
        SimConfig::default().validate().unwrap();
        let text = include_str!("../../../config/hubsim/default.toml");
        let cfg: SimConfig = toml::from_str(text).unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.population.repos, 250_000);
        assert_eq!(cfg.population.threats_per_250k.cryptomining, 608);
        let small: SimConfig = toml::from_str(include_str!("../../../config/hubsim/ci-small.toml")).unwrap();
        small.validate().unwrap();
        assert_eq!(small.population.repos, 2_000);
    }

    #[test]
    fn bad_values_are_named() {
        let mut cfg = SimConfig::default();
        cfg.population.shares.zstd = 1.5;
        assert!(cfg.validate().unwrap_err().to_string().contains("zstd"));
        let err = toml::from_str::<SimConfig>("[population]\nrepoz = 3\n").unwrap_err();
        assert!(err.to_string().contains("repoz"));
    }
}
