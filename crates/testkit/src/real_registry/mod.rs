//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry,
//! 2.8) on a loopback port, filesystem storage in a temporary directory, and `auth: token`
//! pointing at a token service run in-process ([`TokenIssuer`]): ES256 JWTs signed with a P-256
//! key whose self-signed certificate is the registry's `rootcertbundle`, so distribution really
//! verifies the `x5c` chain, the signature, the issuer and the audience of every token a client
//! presents. [`Pusher`] puts images in with the distribution API (monolithic blob uploads,
//! manifest PUTs), the way `docker push` or skopeo would.
//!
//! Without the binary, [`registry_available`] fails the test with the install command, unless
//! `HUBCENSUS_SKIP_REGISTRY_TESTS=1` (CI installs the package).

mod push;
mod server;
mod token;

use std::process::Stdio;

pub use push::{Format, Layer, Pushed, Pusher};
pub use server::TokenRegistry;
pub use token::TokenIssuer;

/// The registry binary Debian's `docker-registry` package installs.
pub const BINARY: &str = "docker-registry";
/// The `service` the registry names in its challenge, and the audience of its tokens.
pub const SERVICE: &str = "hubcensus-test-registry";
/// The `iss` of the tokens the registry accepts.
pub const ISSUER: &str = "hubcensus-test-issuer";

/// Whether the registry binary runs. When it does not, this panics with the install command,
/// or answers `false` (the caller returns early) when `HUBCENSUS_SKIP_REGISTRY_TESTS=1`.
///
/// # Panics
/// The binary is missing and skipping was not asked for.
pub fn registry_available() -> bool {
    let found = std::process::Command::new(BINARY)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    if std::env::var("HUBCENSUS_SKIP_REGISTRY_TESTS").is_ok_and(|v| v == "1") {
        eprintln!(
            "skipping a real-registry test: {BINARY} is not installed (HUBCENSUS_SKIP_REGISTRY_TESTS=1)"
        );
        return false;
    }
    panic!(
        "{BINARY} is not installed. The real-registry tests need Debian's `docker-registry` package \
         (the CNCF distribution registry): `apt-get install -y docker-registry`. \
         Set HUBCENSUS_SKIP_REGISTRY_TESTS=1 to skip them."
    );
}

/// A plain-HTTP client that does not follow redirects, for talking to the registry directly
/// (its answers are read as they are).
///
/// # Panics
/// reqwest cannot build a client.
pub fn http() -> reqwest::Client {
    // reqwest may be built with rustls and no provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client for the test registry")
}
