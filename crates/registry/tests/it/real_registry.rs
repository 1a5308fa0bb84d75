//! The client against a real OCI registry: Debian's `docker-registry` (the CNCF distribution
//! registry, 2.8), started on a loopback port with filesystem storage in a temporary directory
//! and `auth: token` pointing at a token service this test runs — ES256 JWTs signed with a P-256
//! key whose self-signed certificate is the registry's `rootcertbundle` (distribution verifies
//! the `x5c` chain and the signature, the issuer and the audience). The test pushes with its own
//! code (monolithic blob uploads, manifest PUTs) a single-platform Docker image, a multi-arch
//! OCI index (amd64 + arm64 + an attestation entry) and an image with a zstd layer, then resolves,
//! pulls and verifies them with `RegistryClient`.
//!
//! Without the binary the test fails with the install command, unless
//! `HUBCENSUS_SKIP_REGISTRY_TESTS=1` (CI installs the package).

use std::{
    io::Write as _,
    net::TcpListener,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::{RawQuery, State},
    routing::get,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hubcensus_registry::{RegistryClient, RegistryError, Resolution, ResolvedImage};
use hubcensus_types::{Digest, MediaType, Platform, RepoRef};
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use serde_json::{Value, json};

use crate::common::client;

const BINARY: &str = "docker-registry";
const SERVICE: &str = "hubcensus-test-registry";
const ISSUER: &str = "hubcensus-test-issuer";

/// Whether the registry binary runs; otherwise fail loudly, or skip when told to.
fn registry_available() -> bool {
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
            "skipping the real-registry test: {BINARY} is not installed (HUBCENSUS_SKIP_REGISTRY_TESTS=1)"
        );
        return false;
    }
    panic!(
        "{BINARY} is not installed. The real-registry test needs Debian's `docker-registry` package \
         (the CNCF distribution registry): `apt-get install -y docker-registry`. \
         Set HUBCENSUS_SKIP_REGISTRY_TESTS=1 to skip it."
    );
}

/// The token service: ES256 JWTs distribution accepts, granting what each scope asks.
struct Issuer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The certificate, base64 DER, for the `x5c` header.
    x5c: String,
    issued: AtomicU64,
}

impl Issuer {
    /// A fresh P-256 key and its self-signed certificate (PEM, for `rootcertbundle`).
    fn new() -> (Self, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["hubcensus-test-token-signer".into()]).unwrap();
        // distribution requires digitalSignature on the signing certificate.
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).unwrap();
        let rng = SystemRandom::new();
        let signing =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng).unwrap();
        let x5c = base64::engine::general_purpose::STANDARD.encode(cert.der());
        (Self { key: signing, rng, x5c, issued: AtomicU64::new(0) }, cert.pem())
    }

    fn token(&self, service: &str, scopes: &[String]) -> String {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let access: Vec<Value> = scopes
            .iter()
            .filter_map(|s| {
                let mut parts = s.splitn(3, ':');
                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let header = json!({"alg": "ES256", "typ": "JWT", "x5c": [self.x5c]});
        let claims = json!({
            "iss": ISSUER, "sub": "hubcensus-test", "aud": service, "exp": now + 300, "nbf": now - 10,
            "iat": now, "jti": format!("token-{n}"), "access": access,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(&self.rng, input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

async fn token_endpoint(State(issuer): State<Arc<Issuer>>, RawQuery(query): RawQuery) -> axum::Json<Value> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let service = pairs.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
    let scopes: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "scope").map(|(_, v)| v).collect();
    let token = issuer.token(&service, &scopes);
    axum::Json(json!({"token": token, "access_token": token, "expires_in": 300}))
}

/// A running registry and its token service; the process is killed when dropped.
struct Registry {
    base: String,
    realm: String,
    issuer: Arc<Issuer>,
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl Registry {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (issuer, pem) = Issuer::new();
        let issuer = Arc::new(issuer);
        let bundle = dir.path().join("root.pem");
        std::fs::write(&bundle, pem).unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let router = Router::new().route("/token", get(token_endpoint)).with_state(Arc::clone(&issuer));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        // A free port for the registry (it takes an address, not a listener).
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("config.yml");
        let data = dir.path().join("data");
        let mut f = std::fs::File::create(&config).unwrap();
        write!(
            f,
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            data.display(),
            bundle.display()
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = tokio::process::Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let registry = Self { base: format!("http://127.0.0.1:{port}"), realm, issuer, child, dir };
        registry.wait_ready().await;
        registry
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    async fn wait_ready(&self) {
        let http = http();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/v2/", self.base)).send().await {
                assert_eq!(r.status(), 401, "the registry must demand a token");
                return;
            }
            assert!(Instant::now() < deadline, "{BINARY} did not start:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Pushes with the distribution API: monolithic blob uploads, then manifests.
struct Pusher<'a> {
    registry: &'a Registry,
    http: reqwest::Client,
    token: String,
    name: String,
}

impl<'a> Pusher<'a> {
    async fn new(registry: &'a Registry, name: &str) -> Self {
        let http = http();
        let scope = format!("repository:{name}:pull,push");
        let mut realm = url::Url::parse(&registry.realm).unwrap();
        realm.query_pairs_mut().append_pair("service", SERVICE).append_pair("scope", &scope);
        let v: Value = http.get(realm).send().await.unwrap().json().await.unwrap();
        let token = v["token"].as_str().unwrap().to_owned();
        Self { registry, http, token, name: name.to_owned() }
    }

    async fn blob(&self, bytes: &[u8]) -> Value {
        let digest = Digest::sha256_of(bytes);
        let base = url::Url::parse(&self.registry.base).unwrap();
        let r = self
            .http
            .post(format!("{}/v2/{}/blobs/uploads/", self.registry.base, self.name))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "start upload: {}", self.registry.log());
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let mut url = base.join(&location).unwrap();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let r = self
            .http
            .put(url)
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "finish upload of {digest}: {}", r.text().await.unwrap_or_default());
        json!({"digest": digest.to_string(), "size": bytes.len()})
    }

    async fn manifest(&self, reference: &str, media_type: &str, body: &Value) -> (Digest, Vec<u8>) {
        let bytes = serde_json::to_vec_pretty(body).unwrap();
        let r = self
            .http
            .put(format!("{}/v2/{}/manifests/{reference}", self.registry.base, self.name))
            .bearer_auth(&self.token)
            .header("content-type", media_type)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let digest = r.headers().get("docker-content-digest").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(status, 201, "PUT manifest {reference}: {}", r.text().await.unwrap_or_default());
        let d = Digest::sha256_of(&bytes);
        assert_eq!(digest.as_deref(), Some(d.as_str()));
        (d, bytes)
    }

    /// A config, one layer and a manifest; returns (manifest digest, manifest bytes, layer).
    async fn image(
        &self,
        reference: &str,
        arch: &str,
        oci: bool,
        layer: Vec<u8>,
        layer_type: &str,
    ) -> (Digest, Vec<u8>, Vec<u8>) {
        let config = json!({
            "architecture": arch, "os": "linux",
            "config": {"Env": ["PATH=/usr/bin", format!("HUBCENSUS_ARCH={arch}")], "Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": []},
            "history": [{"created_by": "ADD hubcensus.txt /etc/"}],
        });
        let config_bytes = serde_json::to_vec(&config).unwrap();
        let (manifest_type, config_type) = if oci {
            (MediaType::OCI_MANIFEST, MediaType::OCI_CONFIG)
        } else {
            (MediaType::DOCKER_MANIFEST, MediaType::DOCKER_CONFIG)
        };
        let mut c = self.blob(&config_bytes).await;
        c["mediaType"] = config_type.into();
        let mut l = self.blob(&layer).await;
        l["mediaType"] = layer_type.into();
        let manifest = json!({"schemaVersion": 2, "mediaType": manifest_type, "config": c, "layers": [l]});
        let (digest, bytes) = self.manifest(reference, manifest_type, &manifest).await;
        (digest, bytes, layer)
    }
}

fn tar_of(path: &str, data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    builder.append_data(&mut h, path, data).unwrap();
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn resolved(r: Resolution) -> ResolvedImage {
    match r {
        Resolution::Resolved(image) => image,
        Resolution::Known { digest } => panic!("unexpectedly known: {digest}"),
    }
}

async fn pull_all(client: &RegistryClient, repo: &RepoRef, image: &ResolvedImage) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for layer in image.layers.iter().filter(|l| l.skip.is_none()) {
        let blob = client.open_blob(repo, &layer.descriptor).await.unwrap();
        let mut stream = std::pin::pin!(blob.into_stream());
        let mut bytes = Vec::new();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        out.push(bytes);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn push_then_resolve_pull_and_verify_against_distribution() {
    if !registry_available() {
        return;
    }
    let registry = Registry::start().await;
    // The registry really verifies: a well-formed token from an unknown signer is refused.
    let (stranger, _) = Issuer::new();
    let forged = stranger.token(SERVICE, &["repository:census/single:pull".into()]);
    let r = http()
        .get(format!("{}/v2/census/single/tags/list", registry.base))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a token signed by a key outside rootcertbundle");

    // 1. A single-platform Docker schema2 image.
    let single: RepoRef = "census/single".parse().unwrap();
    let pusher = Pusher::new(&registry, &single.to_string()).await;
    let single_layer = gzip(&tar_of("etc/hubcensus.txt", b"single-platform image\n"));
    let (single_digest, _, _) =
        pusher.image("v1", "amd64", false, single_layer.clone(), MediaType::DOCKER_LAYER_GZIP).await;

    // 2. A multi-arch OCI index: amd64, arm64, and a BuildKit-style attestation entry.
    let multi: RepoRef = "census/multi".parse().unwrap();
    let pusher = Pusher::new(&registry, &multi.to_string()).await;
    let amd64_layer = gzip(&tar_of("etc/hubcensus.txt", b"amd64\n"));
    let arm64_layer = gzip(&tar_of("etc/hubcensus.txt", b"arm64\n"));
    let (amd64, amd64_bytes, _) =
        pusher.image("amd64", "amd64", true, amd64_layer.clone(), MediaType::OCI_LAYER_GZIP).await;
    let (arm64, arm64_bytes, _) =
        pusher.image("arm64", "arm64", true, arm64_layer.clone(), MediaType::OCI_LAYER_GZIP).await;
    let statement =
        br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document"}"#;
    let (attestation, attestation_bytes, _) =
        pusher.image("att", "unknown", true, statement.to_vec(), "application/vnd.in-toto+json").await;
    let entry = |d: &Digest, bytes: &[u8], platform: Value| json!({"mediaType": MediaType::OCI_MANIFEST, "digest": d.to_string(), "size": bytes.len(), "platform": platform});
    let mut att =
        entry(&attestation, &attestation_bytes, json!({"architecture": "unknown", "os": "unknown"}));
    att["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd64.to_string()});
    let index = json!({"schemaVersion": 2, "mediaType": MediaType::OCI_INDEX, "manifests": [
        entry(&amd64, &amd64_bytes, json!({"architecture": "amd64", "os": "linux"})),
        att,
        entry(&arm64, &arm64_bytes, json!({"architecture": "arm64", "os": "linux", "variant": "v8"})),
    ]});
    let (index_digest, _) = pusher.manifest("latest", MediaType::OCI_INDEX, &index).await;

    // 3. An image whose layer is zstd.
    let zstd_repo: RepoRef = "census/zstd".parse().unwrap();
    let pusher = Pusher::new(&registry, &zstd_repo.to_string()).await;
    let zstd_layer =
        zstd::stream::encode_all(tar_of("etc/hubcensus.txt", b"zstd layer\n").as_slice(), 3).unwrap();
    let (zstd_digest, _, _) =
        pusher.image("v1", "amd64", true, zstd_layer.clone(), MediaType::OCI_LAYER_ZSTD).await;

    // Pull them back through the client: anonymous, token flow against distribution's verifier.
    let client = client(&registry.base, |_| {});
    let issued_before = registry.issuer.issued.load(Ordering::SeqCst);

    let image = resolved(client.resolve(&single, "v1", &|_| false).await.unwrap());
    assert_eq!((&image.manifest_digest, image.index_digest.as_ref()), (&single_digest, None));
    assert_eq!(image.media_type.as_str(), MediaType::DOCKER_MANIFEST);
    assert_eq!(image.platform, Some(Platform::linux_amd64()), "from the config");
    let config: Value = serde_json::from_slice(&image.config.as_ref().unwrap().bytes).unwrap();
    assert_eq!(config["config"]["Env"][1], "HUBCENSUS_ARCH=amd64");
    assert_eq!(pull_all(&client, &single, &image).await, [single_layer]);

    let image = resolved(client.resolve(&multi, "latest", &|_| false).await.unwrap());
    assert_eq!(image.index_digest.as_ref(), Some(&index_digest));
    assert_eq!(image.manifest_digest, amd64);
    let platforms: Vec<String> = image.platforms.iter().map(ToString::to_string).collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"], "the attestation entry is not a platform");
    assert_eq!(pull_all(&client, &multi, &image).await, [amd64_layer]);
    let arm = crate::common::client(&registry.base, |cfg| cfg.platform = "linux/arm64".parse().unwrap());
    let image = resolved(arm.resolve(&multi, "latest", &|_| false).await.unwrap());
    assert_eq!(image.manifest_digest, arm64);
    assert_eq!(pull_all(&arm, &multi, &image).await, [arm64_layer]);
    // The attestation manifest itself, asked for by digest, is an artifact.
    let att = resolved(client.resolve(&multi, attestation.as_str(), &|_| false).await.unwrap());
    assert!(att.artifact.as_deref().is_some_and(|a| a.starts_with("in-toto")), "{:?}", att.artifact);
    assert!(att.config.is_none() && att.layers.iter().all(|l| l.skip.is_some()));

    let image = resolved(client.resolve(&zstd_repo, "v1", &|_| false).await.unwrap());
    assert_eq!(image.manifest_digest, zstd_digest);
    assert_eq!(image.layers[0].descriptor.media_type.as_deref(), Some(MediaType::OCI_LAYER_ZSTD));
    assert!(image.layers[0].skip.is_none());
    let pulled = pull_all(&client, &zstd_repo, &image).await;
    assert_eq!(pulled, [zstd_layer]);
    let tar = zstd::stream::decode_all(pulled[0].as_slice()).unwrap();
    assert!(tar.windows(11).any(|w| w == b"zstd layer\n"));

    // Known digests cost a HEAD; missing tags and repositories are NotFound (distribution says 404).
    assert!(matches!(
        client.resolve(&multi, "latest", &|d| *d == index_digest).await.unwrap(),
        Resolution::Known { digest } if digest == index_digest
    ));
    let e = client.head_manifest(&multi, "no-such-tag").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");
    let e = client.get_manifest(&"census/nothing".parse().unwrap(), "v1").await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");

    // One token per repository scope (the arm64 client has its own cache), none refreshed.
    let s = client.stats();
    assert_eq!(s.token_requests, 4, "single, multi, zstd, nothing: {s:?}");
    assert_eq!(registry.issuer.issued.load(Ordering::SeqCst) - issued_before, 5);
    assert_eq!(client.quota().limit, None, "distribution sends no pull-quota headers");
    let mut registry = registry;
    let _ = registry.child.kill().await;
}
