//! The client: every request through the gate, authorised per repository scope, accounted
//! against the pull quota.

use std::{fmt, sync::Arc, time::SystemTime};

use hubcensus_image::{Descriptor, MAX_DOCUMENT_BYTES};
use hubcensus_net::{Budget, BudgetChain, BudgetError, Gate, NetError, RateLimitInfo, Request, Response};
use hubcensus_types::{Digest, MediaType, RepoRef};
use parking_lot::Mutex;
use reqwest::{
    Method, StatusCode,
    header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, WWW_AUTHENTICATE},
};
use url::Url;

use crate::{
    BlobStream, FetchedManifest, ManifestHead, PullQuota, RegistryConfig, RegistryError, RegistryStats,
    auth::Auth,
    http::{header, read_limited, status_error},
    manifest::{MANIFEST_ACCEPT, verify},
    quota::{PullTicket, QuotaState},
    stats::Counters,
};

const DOCKER_CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");

/// A client for one registry. Cheap to clone; clones share tokens, quota state and counters.
/// `Debug` shows the registry and the quota, never a token or a secret.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    gate: Arc<Gate>,
    config: RegistryConfig,
    /// `base_url` with a trailing slash, so `v2/...` joins below it.
    base: Url,
    /// `host[:port]`.
    host: String,
    auth: Auth,
    quota: Arc<Mutex<QuotaState>>,
    counters: Arc<Counters>,
    /// What a manifest GET takes from: the manifest rate, then, just before it is sent (so a
    /// pull is in flight as briefly as possible), the shared pull quota.
    get_budget: Option<Arc<dyn Budget>>,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.inner.host)
            .field("platform", &self.inner.config.platform.to_string())
            .field("authenticated", &self.inner.config.credentials.is_some())
            .field("quota", &self.quota())
            .finish_non_exhaustive()
    }
}

/// What a HEAD said; the digest may be missing.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) digest: Option<Digest>,
    pub(crate) media_type: MediaType,
    pub(crate) size: Option<u64>,
}

/// Which kind of request, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Head,
    ManifestGet,
    Blob,
}

impl RegistryClient {
    /// A client for the registry at `config.base_url`, sending through `gate`.
    pub fn new(gate: Arc<Gate>, config: RegistryConfig) -> Self {
        let mut base = config.base_url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let host = match (base.host_str(), base.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => String::new(),
        };
        let counters = Arc::new(Counters::default());
        let auth = Auth::new(
            Arc::clone(&gate),
            config.credentials.clone(),
            base.clone(),
            config.auth_host.clone(),
            Arc::clone(&counters),
        );
        let quota = Arc::new(Mutex::new(QuotaState::new(config.quota_reserve)));
        let get_budget = match (&config.manifest_budget, &config.pull_budget) {
            (Some(rate), Some(pulls)) => {
                Some(Arc::new(BudgetChain::new(vec![Arc::clone(rate), Arc::clone(pulls)])) as Arc<dyn Budget>)
            }
            (rate, pulls) => rate.clone().or_else(|| pulls.clone()),
        };
        Self { inner: Arc::new(Inner { gate, config, base, host, auth, quota, counters, get_budget }) }
    }

    /// The registry as `host[:port]` (`registry-1.docker.io`, `127.0.0.1:5001`): what a census
    /// records next to each manifest digest.
    pub fn registry_host(&self) -> &str {
        &self.inner.host
    }

    /// The configuration in force.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// The pull quota as last seen.
    pub fn quota(&self) -> PullQuota {
        self.inner.quota.lock().snapshot()
    }

    /// What this client has sent so far.
    pub fn stats(&self) -> RegistryStats {
        self.inner.counters.snapshot()
    }

    /// HEADs a manifest: its digest, media type and size, without spending a pull.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for a missing tag or repository (Docker Hub's 401 for a
    /// repository that is missing or private included); [`RegistryError::Malformed`] for a bad
    /// reference or a response without `Docker-Content-Digest`; network and auth errors.
    pub async fn head_manifest(
        &self,
        repo: &RepoRef,
        reference: &str,
    ) -> Result<ManifestHead, RegistryError> {
        let head = self.head(repo, reference).await?;
        let digest = head.digest.ok_or_else(|| {
            RegistryError::malformed(format!(
                "HEAD {repo}:{reference} answered without Docker-Content-Digest"
            ))
        })?;
        Ok(ManifestHead { digest, media_type: head.media_type, size: head.size })
    }

    /// A HEAD whose digest may be missing (some registries omit it; `resolve` then GETs by tag).
    pub(crate) async fn head(&self, repo: &RepoRef, reference: &str) -> Result<Head, RegistryError> {
        let named = reference_digest(reference)?;
        let url = self.url(repo, "manifests", reference)?;
        let what = format!("{repo}{}{reference}", if named.is_some() { "@" } else { ":" });
        let response = self.send(repo, Method::HEAD, url, accept_manifests(), Kind::Head, &what).await?;
        if response.inner.status() != StatusCode::OK {
            return Err(status_error(response, &what).await);
        }
        let sent = header(&response, &DOCKER_CONTENT_DIGEST)
            .map(|h| {
                h.trim().parse::<Digest>().map_err(|e| {
                    RegistryError::malformed(format!("HEAD {what}: Docker-Content-Digest {h:?}: {e}"))
                })
            })
            .transpose()?;
        if let (Some(sent), Some(named)) = (&sent, &named)
            && sent != named
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("HEAD {what}"),
                expected: named.clone(),
                actual: sent.clone(),
            });
        }
        Ok(Head {
            digest: sent.or(named),
            media_type: MediaType::new(header(&response, &CONTENT_TYPE).unwrap_or("")),
            size: header(&response, &CONTENT_LENGTH).and_then(|v| v.trim().parse().ok()),
        })
    }

    /// GETs a manifest and verifies it. Refuses to send (and spends nothing) when the pull quota
    /// is down to the reserve.
    ///
    /// # Errors
    /// [`RegistryError::QuotaExhausted`] before sending, or on a 429; digest and media-type lies;
    /// [`RegistryError::TooLarge`] past the image crate's `MAX_DOCUMENT_BYTES`; and as
    /// [`RegistryClient::head_manifest`].
    pub async fn get_manifest(
        &self,
        repo: &RepoRef,
        reference: &str,
    ) -> Result<FetchedManifest, RegistryError> {
        let expected = reference_digest(reference)?;
        let ticket = PullTicket::take(&self.inner.quota, SystemTime::now())
            .map_err(|reset_at| RegistryError::QuotaExhausted { reset_at })?;
        let url = self.url(repo, "manifests", reference)?;
        let what = format!("{repo}{}{reference}", if expected.is_some() { "@" } else { ":" });
        let mut response = match self
            .send(repo, Method::GET, url, accept_manifests(), Kind::ManifestGet, &what)
            .await
        {
            Ok(r) => r,
            // The shared pull quota is spent (nothing was sent): the budget says until when.
            Err(RegistryError::Net(NetError::Budget(BudgetError::Spent { until, .. }))) => {
                return Err(RegistryError::QuotaExhausted { reset_at: until });
            }
            Err(RegistryError::RateLimited { until, .. }) => {
                // A 429 on a manifest GET is the pull quota (Hub's has no Retry-After).
                let reset_at = {
                    let mut quota = self.inner.quota.lock();
                    quota.exhausted(until, SystemTime::now());
                    quota.snapshot().reset_at
                };
                if let Some(shared) = &self.inner.config.pull_budget {
                    let spent =
                        RateLimitInfo { remaining: Some(0), pull_quota: true, ..RateLimitInfo::default() };
                    shared.observe(&spent).await;
                }
                return Err(RegistryError::QuotaExhausted { reset_at });
            }
            Err(e) => return Err(e),
        };
        if response.inner.status() != StatusCode::OK {
            return Err(status_error(response, &what).await);
        }
        ticket.spent();
        let content_type = header(&response, &CONTENT_TYPE).map(str::to_owned);
        let header_digest = header(&response, &DOCKER_CONTENT_DIGEST).map(str::to_owned);
        let bytes = read_limited(&mut response, MAX_DOCUMENT_BYTES, &format!("manifest {what}")).await?;
        verify(&what, expected.as_ref(), content_type.as_deref(), header_digest.as_deref(), bytes)
    }

    /// Opens a blob (a layer, a config) as a self-verifying stream. A 401 midway through a
    /// repository's pulls (token expired) fetches a new token once; the registry's redirect to
    /// its CDN is followed without Authorization (by the gate), and an expired signed URL (403
    /// from the CDN) is asked for again once.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for an unknown blob; network and auth errors. Content errors
    /// come out of the stream.
    pub async fn open_blob(&self, repo: &RepoRef, desc: &Descriptor) -> Result<BlobStream, RegistryError> {
        let url = self.url(repo, "blobs", desc.digest.as_str())?;
        let what = format!("blob {repo}@{}", desc.digest);
        let mut again = true;
        loop {
            let response =
                self.send(repo, Method::GET, url.clone(), HeaderMap::new(), Kind::Blob, &what).await?;
            let status = response.inner.status();
            if status.is_success() {
                return Ok(BlobStream::new(response, desc.digest.clone(), desc.size));
            }
            if status == StatusCode::FORBIDDEN
                && again
                && response.final_url.origin() != self.inner.base.origin()
            {
                tracing::debug!(url = %response.final_url, "CDN refused the signed URL; asking the registry again");
                again = false;
                continue;
            }
            return Err(status_error(response, &what).await);
        }
    }

    /// Fetches a small blob (a config) whole, verified, refusing more than `max` bytes.
    ///
    /// # Errors
    /// [`RegistryError::TooLarge`] when the descriptor or the stream exceeds `max`; as
    /// [`RegistryClient::open_blob`] and [`BlobStream::next_chunk`].
    pub async fn fetch_blob_bytes(
        &self,
        repo: &RepoRef,
        desc: &Descriptor,
        max: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let too_large = || RegistryError::TooLarge { what: format!("blob {}", desc.digest), limit: max };
        if desc.size.is_some_and(|s| s > max) {
            return Err(too_large());
        }
        let mut blob = self.open_blob(repo, desc).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = blob.next_chunk().await {
            let chunk = chunk?;
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// `{base}v2/{repo}/{what}/{reference}`.
    fn url(&self, repo: &RepoRef, what: &str, reference: &str) -> Result<Url, RegistryError> {
        self.inner
            .base
            .join(&format!("v2/{repo}/{what}/{reference}"))
            .map_err(|e| RegistryError::malformed(format!("URL for {repo} {what} {reference}: {e}")))
    }

    /// Sends a request for `repo` with its authorisation, learning the scheme from a 401 and
    /// retrying once with a new token.
    ///
    /// A 401 to a token granted during this call is final: `invalid_token` is
    /// [`RegistryError::Unauthorized`]; anything else — `insufficient_scope`, or Hub's bare
    /// UNAUTHORIZED — means the repository is missing or private, which Docker Hub does not
    /// distinguish and answers with 401 rather than 404: [`RegistryError::NotFound`].
    async fn send(
        &self,
        repo: &RepoRef,
        method: Method,
        url: Url,
        headers: HeaderMap,
        kind: Kind,
        what: &str,
    ) -> Result<Response, RegistryError> {
        let auth = &self.inner.auth;
        let mut scopes = vec![format!("repository:{repo}:pull")];
        let mut authorization = auth.authorization(&scopes, false).await?;
        let mut retried = false;
        loop {
            let counter = match kind {
                Kind::Head => &self.inner.counters.manifest_heads,
                Kind::ManifestGet => &self.inner.counters.manifest_gets,
                Kind::Blob => &self.inner.counters.blob_gets,
            };
            Counters::bump(counter);
            let request = Request {
                method: method.clone(),
                headers: headers.clone(),
                authorization: authorization.as_ref().map(|a| a.header.clone()),
                budget: match kind {
                    Kind::Head => self.inner.config.manifest_budget.clone(),
                    Kind::ManifestGet => self.inner.get_budget.clone(),
                    Kind::Blob => None,
                },
                ..Request::get(url.clone())
            };
            let response = self.inner.gate.send(request).await.map_err(|e| match e {
                NetError::RateLimited { host, until } => RegistryError::RateLimited { host, until },
                other => RegistryError::Net(other),
            })?;
            self.observe(&response, kind).await;
            // Only the registry's own 401 starts the token flow (a CDN's is just an error).
            if response.inner.status() != StatusCode::UNAUTHORIZED
                || response.final_url.origin() != self.inner.base.origin()
            {
                return Ok(response);
            }
            let challenges: Vec<&str> = response
                .inner
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let refusal = auth.learn(&challenges, &response.final_url)?;
            if !refusal.scopes.is_empty() {
                scopes = refusal.scopes;
            }
            let invalid_token = refusal.error.as_deref() == Some("invalid_token");
            if let Some(sent) = &authorization
                && (retried || (sent.fresh && !invalid_token))
            {
                return Err(self.refused(invalid_token, what, &response));
            }
            let refused_url = response.final_url.to_string();
            // Give the 401 (and the gate's concurrency permit it holds) back before asking the
            // token service: a realm on the registry's own host (Harbor, GitLab, hubsim on
            // loopback) shares that host's permits, and holding one while waiting for another
            // deadlocks once every permit is held by a request in this state.
            drop(response);
            if retried {
                return Err(RegistryError::Unauthorized {
                    url: refused_url,
                    reason: "the registry demands credentials".into(),
                });
            }
            retried = true;
            Counters::bump(&self.inner.counters.auth_retries);
            let force = authorization.is_some();
            if let Some(sent) = &authorization {
                auth.invalidate(sent);
            }
            authorization = auth.authorization(&scopes, force).await?;
            if authorization.is_none() {
                return Err(RegistryError::Unauthorized {
                    url: refused_url,
                    reason: "the registry demands credentials and none are configured".into(),
                });
            }
        }
    }

    /// The error for a 401 that retrying cannot fix.
    fn refused(&self, invalid_token: bool, what: &str, response: &Response) -> RegistryError {
        let url = response.final_url.to_string();
        if self.inner.auth.is_basic() {
            return RegistryError::Unauthorized {
                url,
                reason: "the registry refused the credentials".into(),
            };
        }
        if invalid_token {
            return RegistryError::Unauthorized {
                url,
                reason: "the registry rejected a freshly issued token".into(),
            };
        }
        RegistryError::NotFound {
            what: what.to_owned(),
            reason: "401 to a token granted for it: the repository is missing or private".into(),
        }
    }

    /// Takes the pull-quota headers of a registry response into this client's state, and
    /// reports a manifest answer's (quota headers or none: a registry without a quota) to the
    /// shared pull budget, which reconciles with them.
    async fn observe(&self, response: &Response, kind: Kind) {
        if response.final_url.origin() != self.inner.base.origin() {
            return;
        }
        self.inner.quota.lock().observe(&response.rate, SystemTime::now());
        let manifest_answer = kind != Kind::Blob && response.inner.status().is_success();
        if let Some(shared) =
            self.inner.config.pull_budget.as_ref().filter(|_| manifest_answer || response.rate.pull_quota)
        {
            if kind == Kind::ManifestGet && manifest_answer {
                // This GET's own pull is counted in what it says.
                shared.answered(&response.rate).await;
            } else {
                shared.observe(&response.rate).await;
            }
        }
    }
}

/// `Accept` for manifests.
fn accept_manifests() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
    h
}

/// Checks a tag or digest reference and returns the digest if it is one. Tags follow the
/// distribution grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, which also keeps them path-safe.
pub(crate) fn reference_digest(reference: &str) -> Result<Option<Digest>, RegistryError> {
    if reference.contains(':') {
        return reference
            .parse()
            .map(Some)
            .map_err(|e| RegistryError::malformed(format!("reference {reference:?}: {e}")));
    }
    let bytes = reference.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(None)
    } else {
        Err(RegistryError::malformed(format!("tag {reference:?} is not a valid tag")))
    }
}
