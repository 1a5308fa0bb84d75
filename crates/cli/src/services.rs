//! The network clients every command that talks to a registry builds from the settings: the
//! HTTP gate and the registry client. One construction, so that `census`, `worker`, `discover`
//! and `scan docker://` pace the same hosts, refuse the same addresses and present credentials
//! to the same places.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use hubcensus_net::{Gate, GateConfig, HostLimit};
use hubcensus_registry::{Credentials, RegistryClient, RegistryConfig};
use hubcensus_types::Platform;
use url::Url;

use crate::config::Settings;

/// The gate every request passes: per-host budgets from `[hub]` and `[registry]`, the rest
/// from `[net]`.
///
/// # Errors
/// A `hub.url` or `registry.url` that is not a URL with a host; a gate that cannot be built.
pub(crate) fn gate(settings: &Settings) -> anyhow::Result<Arc<Gate>> {
    Ok(Arc::new(Gate::new(gate_config(settings)?).context("building the HTTP gate")?))
}

/// The Docker Hub account configured in `[hub]` (username and token), if both are set.
pub(crate) fn hub_account(settings: &Settings) -> Option<(String, String)> {
    match (&settings.hub.username, &settings.hub.token) {
        (Some(user), Some(token)) => Some((user.clone(), token.clone())),
        _ => None,
    }
}

/// The client of the configured registry (`[registry]`: Docker Hub by default), resolving
/// `platform`, with the `[hub]` account if one is configured (it is offered to the registry's
/// own host and `registry.auth_url`'s host only).
///
/// # Errors
/// A `registry.url` or `registry.auth_url` that is not a URL.
pub(crate) fn registry_client(
    gate: Arc<Gate>,
    settings: &Settings,
    platform: Platform,
) -> anyhow::Result<RegistryClient> {
    Ok(RegistryClient::new(
        gate,
        RegistryConfig {
            base_url: Url::parse(&settings.registry.url).context("registry.url")?,
            platform,
            credentials: hub_account(settings).map(|(username, secret)| Credentials { username, secret }),
            auth_host: Url::parse(&settings.registry.auth_url)
                .context("registry.auth_url")?
                .host_str()
                .map(str::to_owned),
            quota_reserve: u64::from(settings.registry.pull_reserve),
        },
    ))
}

/// The client of another registry at `base_url`: anonymous (the Docker Hub account is never
/// offered to a registry the configuration does not name), resolving `platform`.
pub(crate) fn registry_client_at(
    gate: Arc<Gate>,
    settings: &Settings,
    platform: Platform,
    base_url: Url,
) -> RegistryClient {
    RegistryClient::new(
        gate,
        RegistryConfig {
            platform,
            quota_reserve: u64::from(settings.registry.pull_reserve),
            ..RegistryConfig::for_registry(base_url)
        },
    )
}

fn gate_config(settings: &Settings) -> anyhow::Result<GateConfig> {
    let host = |url: &str, key: &str| -> anyhow::Result<String> {
        Url::parse(url)
            .with_context(|| format!("{key}: {url:?}"))?
            .host_str()
            .map(str::to_owned)
            .with_context(|| format!("{key}: {url:?} has no host"))
    };
    let net = &settings.net;
    let registry_concurrency =
        settings.registry.blob_concurrency.max(1) + settings.census.resolve_concurrency.max(1);
    Ok(GateConfig {
        user_agent: net.user_agent.clone(),
        connect_timeout: Duration::from_secs(net.connect_timeout_secs),
        read_timeout: Duration::from_secs(net.read_timeout_secs),
        max_retries: net.max_retries,
        allow_private_addresses: net.allow_private_addresses,
        hosts: vec![
            HostLimit {
                host: host(&settings.hub.url, "hub.url")?,
                requests_per_minute: settings.hub.requests_per_minute,
                concurrency: settings.census.discover_concurrency.max(1)
                    + settings.census.tags_concurrency.max(1),
            },
            // The gate paces per host: blob requests to the registry (each a 307 to the CDN)
            // share this budget with manifest requests.
            HostLimit {
                host: host(&settings.registry.url, "registry.url")?,
                requests_per_minute: settings.registry.manifest_requests_per_minute,
                concurrency: registry_concurrency,
            },
        ],
        ..GateConfig::default()
    })
}
