//! A started registry: the token service on one loopback listener, the distribution process
//! on another port, its configuration, certificate bundle, storage and log in a temporary
//! directory that lives as long as the registry.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, routing::get};

use super::{BINARY, ISSUER, Pusher, SERVICE, TokenIssuer, http, token};

/// How long distribution may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running distribution registry with `auth: token` and its token service. The process is
/// killed (and reaped) on drop; the token service runs on the caller's tokio runtime until
/// that runtime ends.
#[derive(Debug)]
pub struct TokenRegistry {
    host: String,
    base: String,
    realm: String,
    issuer: Arc<TokenIssuer>,
    child: Child,
    dir: tempfile::TempDir,
}

impl TokenRegistry {
    /// Starts the token service and the registry, and waits until the registry answers `/v2/`
    /// with 401 (it demands a token).
    ///
    /// # Panics
    /// No loopback port, the binary fails to start or to answer within 20 s (its log is in the
    /// message), or it answers without demanding a token.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the registry");
        let issuer = Arc::new(TokenIssuer::new());
        let bundle = dir.path().join("root.pem");
        std::fs::write(&bundle, issuer.certificate_pem()).expect("writing the certificate bundle");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let realm = format!("http://{}/token", listener.local_addr().expect("the listener's address"));
        let router = Router::new().route("/token", get(token::endpoint)).with_state(Arc::clone(&issuer));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("the token service") });

        // A free port for the registry (it takes an address, not a listener).
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                dir.path().join("data").display(),
                bundle.display()
            ),
        )
        .expect("writing the registry's configuration");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("the registry's log file");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::from(log.try_clone().expect("the log file, twice")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {BINARY}: {e}"));
        let host = format!("127.0.0.1:{port}");
        let registry = Self { base: format!("http://{host}"), host, realm, issuer, child, dir };
        registry.wait_ready().await;
        registry
    }

    async fn wait_ready(&self) {
        let http = http();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(r) = http.get(format!("{}/v2/", self.base)).send().await {
                assert_eq!(r.status(), 401, "the registry must demand a token");
                return;
            }
            assert!(Instant::now() < deadline, "{BINARY} did not start:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `127.0.0.1:PORT`, as a `docker://HOST/...` reference names it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The token service's URL, as the registry's challenge names it.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The token service.
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// Tokens issued so far, pushes included: a client that read anything authenticated.
    pub fn tokens_issued(&self) -> u64 {
        self.issuer.issued()
    }

    /// What the registry process wrote so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// A pusher for `repository` (`NS/NAME`), holding a pull+push token for it.
    pub async fn pusher(&self, repository: &str) -> Pusher<'_> {
        Pusher::new(self, repository).await
    }
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        // The process may have died already; either way it must not outlive the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
