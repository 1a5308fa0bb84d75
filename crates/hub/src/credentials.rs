//! The Hub account a crawl logs in with, and where it comes from.
//!
//! Anonymous Hub listings stop at offset 1000 (403); a free account's login token lifts that, so
//! a census wants one. The personal access token is a secret: it is held in a
//! [`secrecy::SecretString`], never printed by `Debug`, and read from the environment or
//! Docker's own `config.json` rather than from a hubcensus configuration file.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

/// Environment variable naming the Hub user (the CLI's `[hub] username` layered key).
pub const ENV_USERNAME: &str = "HUBCENSUS_HUB__USERNAME";
/// Environment variable holding the personal access token (never a configuration file).
pub const ENV_TOKEN: &str = "HUBCENSUS_HUB__TOKEN";
/// The `auths` key Docker uses for Docker Hub.
const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// A Docker Hub username and password or personal access token.
#[derive(Debug, Clone)]
pub struct HubCredentials {
    /// The username (the login's `identifier`).
    pub username: String,
    /// The password or personal access token (redacted in `Debug`).
    pub secret: SecretString,
}

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The Docker config file exists but cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Docker config file is not the JSON Docker writes, or its Hub entry is garbled.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the secret itself).
        reason: String,
    },
}

impl HubCredentials {
    /// Credentials from their two parts.
    pub fn new(username: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { username: username.into(), secret: SecretString::from(secret.into()) }
    }

    /// Credentials from [`ENV_USERNAME`] + [`ENV_TOKEN`], else from Docker's `config.json`
    /// (`$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`): its
    /// `auths["https://index.docker.io/v1/"].auth`, base64 of `user:secret`. `Ok(None)` when
    /// neither has any. Credential helpers (`credsStore`) are not consulted: they need a
    /// program run on the user's behalf.
    pub fn from_env_or_docker_config() -> Result<Option<Self>, CredentialsError> {
        let env = |name: &str| std::env::var(name).ok();
        let config = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")))
            .map(|dir| dir.join("config.json"));
        Self::resolve(env, config.as_deref())
    }

    /// [`Self::from_env_or_docker_config`] with the environment and the file injected (tests).
    pub fn resolve(
        env: impl Fn(&str) -> Option<String>,
        docker_config: Option<&Path>,
    ) -> Result<Option<Self>, CredentialsError> {
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        if let (Some(user), Some(token)) = (nonempty(env(ENV_USERNAME)), nonempty(env(ENV_TOKEN))) {
            return Ok(Some(Self::new(user.trim(), token.trim())));
        }
        let Some(path) = docker_config else { return Ok(None) };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CredentialsError::Read { path: path.to_owned(), source }),
        };
        Self::from_docker_config(&text).map_err(|reason| CredentialsError::Malformed {
            path: path.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// Reads the Hub entry of a Docker `config.json` text.
    fn from_docker_config(text: &str) -> Result<Option<Self>, &'static str> {
        let config: serde_json::Value = serde_json::from_str(text).map_err(|_| "not JSON")?;
        let Some(entry) = config.get("auths").and_then(|a| a.get(DOCKER_HUB_AUTH_KEY)) else {
            return Ok(None);
        };
        // Some tools write username/password instead of auth.
        if let (Some(user), Some(pass)) =
            (entry.get("username").and_then(|v| v.as_str()), entry.get("password").and_then(|v| v.as_str()))
        {
            return Ok(Some(Self::new(user, pass)));
        }
        let Some(auth) = entry.get("auth").and_then(|v| v.as_str()).filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "the Docker Hub auth entry is not base64")?;
        let decoded = String::from_utf8(decoded).map_err(|_| "the Docker Hub auth entry is not UTF-8")?;
        let (user, secret) = decoded.split_once(':').ok_or("the Docker Hub auth entry is not user:secret")?;
        if user.is_empty() || secret.is_empty() {
            return Err("the Docker Hub auth entry has an empty user or secret");
        }
        Ok(Some(Self::new(user, secret)))
    }

    /// The login body for `POST /v2/auth/token`.
    pub(crate) fn token_body(&self) -> Vec<u8> {
        serde_json::json!({ "identifier": self.username, "secret": self.secret.expose_secret() })
            .to_string()
            .into_bytes()
    }

    /// The login body for the deprecated `POST /v2/users/login`.
    pub(crate) fn legacy_body(&self) -> Vec<u8> {
        serde_json::json!({ "username": self.username, "password": self.secret.expose_secret() })
            .to_string()
            .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn environment_wins_and_debug_hides_the_secret() {
        let env = |k: &str| match k {
            ENV_USERNAME => Some("alice".to_owned()),
            ENV_TOKEN => Some("dckr_pat_s3cret".to_owned()),
            _ => None,
        };
        let creds = HubCredentials::resolve(env, None).unwrap().unwrap();
        assert_eq!(creds.username, "alice");
        assert_eq!(creds.secret.expose_secret(), "dckr_pat_s3cret");
        assert!(!format!("{creds:?}").contains("s3cret"));
    }

    #[test]
    fn docker_config_auth_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("bob:pat:with:colons");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"ghcr.io":{{}}}}}}"#),
        )
        .unwrap();
        let creds = HubCredentials::resolve(no_env, Some(&path)).unwrap().unwrap();
        assert_eq!(creds.username, "bob");
        assert_eq!(creds.secret.expose_secret(), "pat:with:colons");

        std::fs::write(&path, r#"{"auths":{"ghcr.io":{"auth":"eDp5"}},"credsStore":"desktop"}"#).unwrap();
        assert!(HubCredentials::resolve(no_env, Some(&path)).unwrap().is_none());
        std::fs::write(&path, r#"{"auths":{"https://index.docker.io/v1/":{"auth":"!!"}}}"#).unwrap();
        let err = HubCredentials::resolve(no_env, Some(&path)).unwrap_err();
        assert!(matches!(err, CredentialsError::Malformed { .. }), "{err}");
        assert!(HubCredentials::resolve(no_env, Some(&dir.path().join("missing.json"))).unwrap().is_none());
    }
}
