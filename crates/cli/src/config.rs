//! Settings: `config/default.toml` (built in) → `--config FILE` → `DATABASE_URL` →
//! `HUBCENSUS_*` environment → flags, merged by figment and validated once, here.
//!
//! Every error names the key and where its value came from (the file, or the environment
//! variable), because "invalid config" without a location wastes a researcher's afternoon.

use std::path::{Path, PathBuf};

use figment::{
    Figment, Metadata,
    providers::{Env, Format, Serialized, Toml},
};
use hubcensus_rules::{FileKind, YaraScope};
use hubcensus_types::Platform;
use serde::{Deserialize, Serialize};

/// The built-in defaults: the same file a user reads in `config/default.toml`.
pub(crate) const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// The whole effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    pub(crate) database: Database,
    pub(crate) hub: Hub,
    pub(crate) registry: Registry,
    pub(crate) net: Net,
    pub(crate) budgets: BudgetSettings,
    pub(crate) metrics: MetricsSettings,
    pub(crate) discover: Discover,
    pub(crate) tags: Tags,
    pub(crate) census: Census,
    pub(crate) sample: Sample,
    /// `[limits]` is the layer walker's own type: a key it gains is a key the file may set.
    pub(crate) limits: hubcensus_layer::Limits,
    pub(crate) rules: Rules,
    pub(crate) feeds: Feeds,
    pub(crate) log: Log,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Database {
    #[serde(default)]
    pub(crate) url: Option<String>,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout_secs: u64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.url.as_deref().map(hubcensus_store::redact_url))
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Hub {
    pub(crate) url: String,
    pub(crate) requests_per_minute: u32,
    pub(crate) page_size: u32,
    #[serde(default)]
    pub(crate) username: Option<String>,
    /// Only ever from the environment; never printed.
    #[serde(default, skip_serializing)]
    pub(crate) token: Option<String>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("url", &self.url)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("username", &self.username)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Registry {
    pub(crate) url: String,
    pub(crate) auth_url: String,
    pub(crate) pull_reserve: u32,
    pub(crate) manifest_requests_per_minute: u32,
    pub(crate) blob_concurrency: u32,
    pub(crate) pull_quota: u32,
    pub(crate) pull_window_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Net {
    pub(crate) user_agent: String,
    pub(crate) connect_timeout_secs: u64,
    pub(crate) read_timeout_secs: u64,
    pub(crate) max_retries: u32,
    pub(crate) allow_private_addresses: bool,
    /// Requests a minute to each origin no other key paces (a CDN, a token service).
    pub(crate) requests_per_minute: u32,
}

/// `[metrics]`: the Prometheus endpoint of `census` and `worker`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsSettings {
    /// `IP:PORT` to serve `/metrics` on; empty: off (`--metrics` turns it on per process).
    pub(crate) listen: String,
    /// Allow an address off loopback (the endpoint has no authentication).
    pub(crate) allow_non_loopback: bool,
    /// Seconds between reads of the census-wide figures from the database.
    pub(crate) refresh_secs: u64,
}

/// `[budgets]`: where the census's budgets are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BudgetSettings {
    /// Keep the Hub API rate, the manifest rate and the pull quota in Postgres, shared by
    /// every worker (on), or per process (off: N workers spend N times the budget).
    pub(crate) shared: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Discover {
    pub(crate) strategies: Vec<Strategy>,
    #[serde(default)]
    pub(crate) names_file: Option<PathBuf>,
    /// The exclusion reasons in force (hub's `ExclusionPolicy`).
    pub(crate) exclude: Vec<hubcensus_types::ExclusionReason>,
}

/// Enumeration strategies (see `[discover]` in config/default.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Strategy {
    SearchV4,
    Namespaces,
    NamesFile,
    LegacySearch,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tags {
    pub(crate) policy: TagPolicy,
    pub(crate) recent: u32,
    pub(crate) max_per_repository: u32,
}

/// Which tags of a repository are analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TagPolicy {
    Latest,
    Recent,
    All,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Census {
    pub(crate) platform: String,
    pub(crate) lease_secs: u64,
    pub(crate) heartbeat_secs: u64,
    pub(crate) max_attempts: u32,
    pub(crate) discover_concurrency: u32,
    pub(crate) tags_concurrency: u32,
    pub(crate) resolve_concurrency: u32,
    pub(crate) scan_concurrency: u32,
    pub(crate) channel_capacity: u32,
    pub(crate) grace_secs: u64,
    pub(crate) idle_poll_millis: u64,
    pub(crate) retry_base_secs: u64,
    pub(crate) retry_max_secs: u64,
    pub(crate) progress_millis: u64,
}

/// `[rules]`: YARA rule files and which files YARA sees (see config/default.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rules {
    pub(crate) yara: Vec<String>,
    pub(crate) yara_kinds: Vec<String>,
    pub(crate) yara_archive_members: bool,
    pub(crate) yara_max_other_bytes: u64,
}

impl Rules {
    /// The YARA scope these settings describe.
    pub(crate) fn yara_scope(&self) -> Result<YaraScope, String> {
        let kinds = self
            .yara_kinds
            .iter()
            .map(|k| match FileKind::from_id(k) {
                Some(kind @ (FileKind::Elf | FileKind::Script | FileKind::Text | FileKind::Binary)) => {
                    Ok(kind)
                }
                _ => Err(format!("{k:?} is not a file kind (elf, script, text, binary)")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(YaraScope {
            kinds,
            archive_members: self.yara_archive_members,
            max_other_bytes: self.yara_max_other_bytes,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sample {
    pub(crate) seed: u64,
    pub(crate) pull_bands: Vec<u64>,
    pub(crate) allocation: Allocation,
    pub(crate) pilot_prevalence: Vec<f64>,
    pub(crate) plan_prevalence: f64,
}

/// How `--strata pulls` shares the sample between bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Allocation {
    Proportional,
    Neyman,
}

impl Allocation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Allocation::Proportional => "proportional",
            Allocation::Neyman => "neyman",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Feeds {
    pub(crate) nrd_window_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Log {
    pub(crate) format: LogFormat,
    pub(crate) level: String,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// A configuration that cannot be used, with the key and where its value came from.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// A key has the wrong type, is unknown, or a file does not parse (figment's message names
    /// the key and the source).
    #[error("{0}")]
    Load(Box<figment::Error>),
    /// A value has the right type but a meaning we reject.
    #[error("invalid value for `{key}` (from {source_name}): {reason}")]
    Invalid { key: &'static str, source_name: String, reason: String },
    /// The --config file does not exist.
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
}

/// Values given as command-line flags: the last layer.
#[derive(Debug, Default, Serialize)]
pub(crate) struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) database: Option<DatabaseFlags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log: Option<LogFlags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) census: Option<CensusFlags>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DatabaseFlags {
    pub(crate) url: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct LogFlags {
    pub(crate) format: LogFormat,
}

#[derive(Debug, Serialize)]
pub(crate) struct CensusFlags {
    pub(crate) platform: String,
}

impl Settings {
    /// Loads the layered configuration. `file` is `--config`; `env` supplies the environment
    /// (the process environment in production, a fixed map in tests).
    pub(crate) fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Missing(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        figment = figment
            .merge(Env::prefixed("HUBCENSUS_").ignore(&["CONFIG"]).split("__"))
            .merge(Serialized::defaults(flags));
        let settings: Settings = figment.extract().map_err(|e| ConfigError::Load(Box::new(e)))?;
        settings.validate(&figment)?;
        Ok(settings)
    }

    fn validate(&self, figment: &Figment) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid {
            key,
            source_name: figment.find_metadata(key).map_or_else(|| "defaults".into(), |m| describe(m, key)),
            reason,
        };
        if let Err(e) = self.census.platform.parse::<Platform>() {
            return Err(invalid("census.platform", e.to_string()));
        }
        for (key, url) in [
            ("hub.url", &self.hub.url),
            ("registry.url", &self.registry.url),
            ("registry.auth_url", &self.registry.auth_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(key, format!("{url:?} is not an http(s) URL")));
            }
        }
        if !(1..=100).contains(&self.hub.page_size) {
            return Err(invalid(
                "hub.page_size",
                format!("{} is outside 1..=100 (Hub's maximum is 100)", self.hub.page_size),
            ));
        }
        let rates_and_windows = [
            ("hub.requests_per_minute", u64::from(self.hub.requests_per_minute)),
            ("registry.manifest_requests_per_minute", u64::from(self.registry.manifest_requests_per_minute)),
            ("net.requests_per_minute", u64::from(self.net.requests_per_minute)),
            ("registry.pull_window_secs", self.registry.pull_window_secs),
        ];
        if let Some(&(key, _)) = rates_and_windows.iter().find(|(_, v)| *v == 0) {
            return Err(invalid(key, "must be at least 1".into()));
        }
        if self.census.lease_secs == 0 || self.census.heartbeat_secs >= self.census.lease_secs {
            return Err(invalid(
                "census.heartbeat_secs",
                format!(
                    "heartbeat ({}s) must be shorter than the lease ({}s)",
                    self.census.heartbeat_secs, self.census.lease_secs
                ),
            ));
        }
        if self.census.idle_poll_millis == 0 || self.census.progress_millis == 0 {
            return Err(invalid(
                "census.idle_poll_millis",
                "poll and progress intervals must be positive".into(),
            ));
        }
        if self.census.retry_base_secs > self.census.retry_max_secs {
            return Err(invalid(
                "census.retry_base_secs",
                format!(
                    "the first retry delay ({}s) exceeds the longest ({}s)",
                    self.census.retry_base_secs, self.census.retry_max_secs
                ),
            ));
        }
        if self.census.max_attempts == 0 {
            return Err(invalid("census.max_attempts", "must be at least 1".into()));
        }
        if self.discover.strategies.is_empty() {
            return Err(invalid("discover.strategies", "name at least one strategy".into()));
        }
        if self.discover.strategies.contains(&Strategy::NamesFile) && self.discover.names_file.is_none() {
            return Err(invalid("discover.names_file", "the names_file strategy needs a names_file".into()));
        }
        if let Err(reason) = self.rules.yara_scope() {
            return Err(invalid("rules.yara_kinds", reason));
        }
        self.validate_sample(&invalid)?;
        if self.limits.max_compression_ratio < 2 {
            return Err(invalid("limits.max_compression_ratio", "must be at least 2".into()));
        }
        Ok(())
    }

    fn validate_sample(
        &self,
        invalid: &dyn Fn(&'static str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let s = &self.sample;
        if s.pull_bands.first() == Some(&0) || s.pull_bands.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(
                "sample.pull_bands",
                format!(
                    "{:?}: the lower bounds of the bands after the first, ascending, above 0",
                    s.pull_bands
                ),
            ));
        }
        if s.pilot_prevalence.iter().any(|p| !(0.0..=1.0).contains(p)) {
            return Err(invalid("sample.pilot_prevalence", "prevalences are proportions in [0, 1]".into()));
        }
        if s.allocation == Allocation::Neyman && s.pilot_prevalence.len() != s.pull_bands.len() + 1 {
            return Err(invalid(
                "sample.pilot_prevalence",
                format!(
                    "Neyman allocation needs one pilot prevalence per band: {} bands, {} prevalences",
                    s.pull_bands.len() + 1,
                    s.pilot_prevalence.len()
                ),
            ));
        }
        if !(s.plan_prevalence > 0.0 && s.plan_prevalence < 1.0) {
            return Err(invalid("sample.plan_prevalence", "a proportion strictly between 0 and 1".into()));
        }
        Ok(())
    }

    /// The database URL, or an error that says how to give one.
    pub(crate) fn database_url(&self) -> anyhow::Result<&str> {
        self.database.url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "no database configured: set DATABASE_URL (or HUBCENSUS_DATABASE__URL, or --database-url); \
                 `make db` starts a local one and prints its URL"
            )
        })
    }
}

/// Where the value of `key` came from: "TOML file /etc/x.toml", "environment variable
/// HUBCENSUS_HUB__PAGE_SIZE", ...
fn describe(metadata: &Metadata, key: &str) -> String {
    if metadata.name.contains("HUBCENSUS_") {
        return format!("environment variable HUBCENSUS_{}", key.replace('.', "__").to_uppercase());
    }
    match &metadata.source {
        Some(source) => format!("{} {source}", metadata.name),
        None => metadata.name.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its large error type
mod tests {
    use std::io::Write;

    use figment::Jail;
    use hubcensus_types::ExclusionReason;

    use super::*;

    #[test]
    fn built_in_defaults_target_the_real_docker_hub() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let s = Settings::load(None, &FlagOverrides::default()).unwrap();
            assert_eq!(s.hub.url, "https://hub.docker.com");
            assert_eq!(s.registry.url, "https://registry-1.docker.io");
            assert_eq!(s.registry.auth_url, "https://auth.docker.io/token");
            assert_eq!(s.census.platform, "linux/amd64");
            assert!(!s.net.allow_private_addresses);
            assert!(s.database.url.is_none());
            assert_eq!(s.sample.allocation, Allocation::Proportional);
            assert!((s.sample.plan_prevalence - 0.0025).abs() < 1e-12);
            Ok(())
        });
    }

    #[test]
    fn layers_apply_in_order_file_then_env_then_flags() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "site.toml",
                "[hub]\nrequests_per_minute = 60\n[census]\nplatform = \"linux/arm64\"\n",
            )?;
            jail.set_env("DATABASE_URL", "postgres://from-database-url/db");
            jail.set_env("HUBCENSUS_HUB__REQUESTS_PER_MINUTE", "30");
            let flags = FlagOverrides {
                census: Some(CensusFlags { platform: "linux/arm/v7".into() }),
                ..Default::default()
            };
            let s = Settings::load(Some(Path::new("site.toml")), &flags).unwrap();
            assert_eq!(s.hub.requests_per_minute, 30, "environment beats the file");
            assert_eq!(s.census.platform, "linux/arm/v7", "flags beat everything");
            assert_eq!(s.database.url.as_deref(), Some("postgres://from-database-url/db"));
            jail.set_env("HUBCENSUS_DATABASE__URL", "postgres://from-hubcensus/db");
            let s = Settings::load(None, &FlagOverrides::default()).unwrap();
            assert_eq!(s.database.url.as_deref(), Some("postgres://from-hubcensus/db"));
            Ok(())
        });
    }

    #[test]
    fn the_exclusion_reasons_are_configurable_and_checked() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let all = Settings::load(None, &FlagOverrides::default()).unwrap();
            assert_eq!(all.discover.exclude, ExclusionReason::ALL.to_vec(), "the default is every reason");
            jail.create_file("frame.toml", "[discover]\nexclude = [\"official\", \"inactive\"]\n")?;
            let some = Settings::load(Some(Path::new("frame.toml")), &FlagOverrides::default()).unwrap();
            assert_eq!(some.discover.exclude, vec![ExclusionReason::Official, ExclusionReason::Inactive]);
            jail.create_file("typo.toml", "[discover]\nexclude = [\"inactiv\"]\n")?;
            let msg = Settings::load(Some(Path::new("typo.toml")), &FlagOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(msg.contains("discover.exclude") && msg.contains("typo.toml"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let mut f = jail.create_file("bad-type.toml", "")?;
            writeln!(f, "[hub]\nrequests_per_minute = \"lots\"").unwrap();
            let err =
                Settings::load(Some(Path::new("bad-type.toml")), &FlagOverrides::default()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("hub.requests_per_minute") && msg.contains("bad-type.toml"), "{msg}");

            jail.create_file("typo.toml", "[census]\nplatfrom = \"linux/amd64\"\n")?;
            let msg = Settings::load(Some(Path::new("typo.toml")), &FlagOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(msg.contains("platfrom") && msg.contains("typo.toml"), "{msg}");

            jail.create_file("bad-value.toml", "[census]\nplatform = \"amd64\"\n")?;
            let msg = Settings::load(Some(Path::new("bad-value.toml")), &FlagOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(msg.contains("census.platform") && msg.contains("bad-value.toml"), "{msg}");

            jail.set_env("HUBCENSUS_HUB__PAGE_SIZE", "1000");
            let msg = Settings::load(None, &FlagOverrides::default()).unwrap_err().to_string();
            assert!(msg.contains("hub.page_size") && msg.contains("HUBCENSUS_HUB__PAGE_SIZE"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn the_yara_scope_is_checked_and_defaults_to_the_librarys() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let s = Settings::load(None, &FlagOverrides::default()).unwrap();
            assert_eq!(
                s.rules.yara_scope().unwrap(),
                YaraScope::default(),
                "config/default.toml says the same"
            );
            assert!(s.rules.yara.is_empty(), "no YARA files unless asked for");
            jail.create_file("y.toml", "[rules]\nyara_kinds = [\"elf\", \"jar\"]\n")?;
            let msg =
                Settings::load(Some(Path::new("y.toml")), &FlagOverrides::default()).unwrap_err().to_string();
            assert!(
                msg.contains("rules.yara_kinds") && msg.contains("y.toml") && msg.contains("\"jar\""),
                "{msg}"
            );
            Ok(())
        });
    }

    #[test]
    fn sample_bands_and_neyman_inputs_are_checked() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("bands.toml", "[sample]\npull_bands = [1000, 100]\n")?;
            let msg = Settings::load(Some(Path::new("bands.toml")), &FlagOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(msg.contains("sample.pull_bands") && msg.contains("bands.toml"), "{msg}");
            jail.create_file("neyman.toml", "[sample]\npull_bands = [1000]\nallocation = \"neyman\"\n")?;
            let msg = Settings::load(Some(Path::new("neyman.toml")), &FlagOverrides::default())
                .unwrap_err()
                .to_string();
            assert!(msg.contains("sample.pilot_prevalence") && msg.contains("2 bands"), "{msg}");
            jail.create_file(
                "pilot.toml",
                "[sample]\npull_bands = [1000]\nallocation = \"neyman\"\npilot_prevalence = [0.01, 0.002]\n",
            )?;
            let s = Settings::load(Some(Path::new("pilot.toml")), &FlagOverrides::default()).unwrap();
            assert_eq!(s.sample.pilot_prevalence, [0.01, 0.002]);
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Settings::load(Some(Path::new("/nonexistent/hubcensus.toml")), &FlagOverrides::default())
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/hubcensus.toml"));
    }
}
