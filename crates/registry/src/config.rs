//! What a [`crate::RegistryClient`] talks to and with which budget.

use std::{fmt, sync::Arc};

use hubcensus_net::Budget;
use hubcensus_types::Platform;
use url::Url;

/// Docker Hub's registry API (moby's `DefaultRegistryHost`).
pub const DOCKER_HUB_REGISTRY: &str = "https://registry-1.docker.io";
/// Docker Hub's token service host: the only host besides the registry that may see credentials.
pub const DOCKER_HUB_AUTH_HOST: &str = "auth.docker.io";
/// Manifest GETs kept in reserve by default: a census leaves a few pulls for the researcher's own
/// `docker pull` on the same address instead of spending the quota to the last one.
pub const DEFAULT_QUOTA_RESERVE: u64 = 5;

/// A registry account: username and password or personal access token.
///
/// Sent as HTTP Basic to the token realm only, and only when the realm's host is the registry's
/// own host or [`RegistryConfig::auth_host`] — a registry that names a foreign realm in its
/// challenge gets an anonymous token request instead. `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account name.
    pub username: String,
    /// The password or personal access token.
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Client configuration. The CLI builds it from `[registry]`.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Registry API base URL (`https://registry-1.docker.io`; tests use hubsim's loopback URL).
    pub base_url: Url,
    /// The platform a census analyses per tag (linux/amd64 by default).
    pub platform: Platform,
    /// Optional account; anonymous when `None`.
    pub credentials: Option<Credentials>,
    /// The token service host allowed to receive [`Credentials`] besides the registry itself
    /// (`auth.docker.io` for Docker Hub). `None`: only the registry's own host.
    pub auth_host: Option<String>,
    /// Keep this many manifest GETs of the pull quota unspent: `get_manifest` refuses to send
    /// when the known remaining quota is at or below it.
    pub quota_reserve: u64,
    /// What every manifest request (HEAD and GET) takes from besides the registry origin's
    /// pacing: the "registry manifests" budget. Blob downloads do not take from it. `None`:
    /// manifest requests are paced only with the origin's.
    pub manifest_budget: Option<Arc<dyn Budget>>,
    /// The pull quota shared with every other client of the same account (the CLI's lives in
    /// Postgres): each manifest GET takes one pull from it, and every `ratelimit-*` header the
    /// registry sends is reported to it. `None`: this client's own accounting only.
    pub pull_budget: Option<Arc<dyn Budget>>,
}

impl RegistryConfig {
    /// Docker Hub with the census defaults: linux/amd64, anonymous, the default reserve.
    pub fn docker_hub() -> Self {
        Self {
            // invariant: a constant, valid URL.
            #[allow(clippy::expect_used)]
            base_url: Url::parse(DOCKER_HUB_REGISTRY).expect("constant URL"),
            platform: Platform::linux_amd64(),
            credentials: None,
            auth_host: Some(DOCKER_HUB_AUTH_HOST.into()),
            quota_reserve: DEFAULT_QUOTA_RESERVE,
            manifest_budget: None,
            pull_budget: None,
        }
    }

    /// Any registry at `base_url`, with the census defaults and no separate auth host.
    pub fn for_registry(base_url: Url) -> Self {
        Self { base_url, auth_host: None, ..Self::docker_hub() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let c = Credentials { username: "census".into(), secret: "dckr_pat_very_secret".into() };
        let mut cfg = RegistryConfig::docker_hub();
        cfg.credentials = Some(c);
        let text = format!("{cfg:?}");
        assert!(text.contains("census") && !text.contains("very_secret"), "{text}");
        assert_eq!(cfg.base_url.host_str(), Some("registry-1.docker.io"));
    }
}
