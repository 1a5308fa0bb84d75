//! `docker://` sources: one image straight from a registry, scanned by the same engine as a
//! local image, with nothing written to disk.
//!
//! The census's registry client resolves the reference for `--platform` (a HEAD, then the
//! index and the platform manifest, then the config, all digest-verified) and classifies the
//! layers, so skipped layers carry the census's reasons. Each layer is then streamed while it is
//! scanned: the download runs on a tokio runtime owned by this image, and the census's bounded
//! bridge ([`ChannelReader`] and [`pump`]) hands the chunks to a scan thread, where a
//! [`BlobReader`] checks size and sha256 around the walker exactly as for a local blob. The scan
//! threads are the engine's own, not the runtime's, so blocking reads there starve nothing.
//!
//! Which registry: the caller builds the client (the CLI: no host, or one of Docker Hub's
//! names, is the configured `[registry]`, with the `[hub]` account if one is configured); any
//! other host is [`registry_url`]: `https://HOST`, or `http://HOST` only when the host is
//! loopback and private addresses are allowed (a local test registry). The gate's SSRF policy
//! applies to every request and redirect as in a census.

use std::io::Read;

use hubcensus_image::{BlobReader, Config, DockerReference, Expected, LayerReader};
use hubcensus_registry::{Descriptor, RegistryClient, Resolution};
use hubcensus_types::{MediaType, Platform, RepoRef};
use tokio::runtime::Runtime;
use url::Url;

use crate::{
    ScanError,
    bridge::{ChannelReader, Transferred, pump},
    target::{LayerSpec, ScanTarget},
};

/// A resolved registry image, its layers fetched on demand.
#[derive(Debug)]
pub struct RemoteImage {
    name: String,
    platform: Option<Platform>,
    config: Option<Config>,
    layers: Vec<LayerSpec>,
    descriptors: Vec<Descriptor>,
    repository: RepoRef,
    client: RegistryClient,
    /// Blob chunks buffered per layer between its download and its scanner.
    channel_capacity: usize,
    /// Runs the downloads; dropped (and shut down) with the image.
    runtime: Runtime,
}

impl RemoteImage {
    /// Resolves `reference` with `client` (built on `runtime`, which then runs the layer
    /// downloads) and fetches its config. `channel_capacity` bounds the blob chunks buffered
    /// per layer between its download and its scanner.
    ///
    /// # Errors
    /// The reference cannot be resolved (not found, no manifest for the platform, refused,
    /// malformed, a digest mismatch); it names an artifact (helm chart, wasm module...), not an
    /// image.
    pub fn open(
        reference: &DockerReference,
        runtime: Runtime,
        client: RegistryClient,
        channel_capacity: usize,
    ) -> Result<Self, ScanError> {
        let repository = reference.repository().clone();
        let resolution = runtime
            .block_on(client.resolve(&repository, reference.target().as_str(), &|_| false))
            .map_err(|source| ScanError::Resolve {
                reference: reference.to_string(),
                registry: client.config().base_url.to_string(),
                source: Box::new(source),
            })?;
        let Resolution::Resolved(image) = resolution else {
            // invariant: `known` above answers false for every digest.
            return Err(ScanError::KnownImage { reference: reference.to_string() });
        };
        if let Some(reason) = image.artifact {
            return Err(ScanError::NotAnImage { reference: reference.to_string(), reason });
        }
        tracing::info!(
            manifest = %image.manifest_digest,
            index = image.index_digest.as_ref().map(ToString::to_string),
            schema1 = image.schema1,
            "resolved docker://{reference}"
        );
        let config = image.config.map(|c| Config {
            // The walker reports a config that is not JSON; its summary (the creation date for
            // newly-registered-domain feeds) is then simply unknown.
            summary: serde_json::from_slice(&c.bytes).unwrap_or_default(),
            digest: c.digest,
            bytes: c.bytes,
        });
        let layers = image
            .layers
            .iter()
            .map(|l| LayerSpec {
                digest: Some(l.descriptor.digest.clone()),
                media_type: l.descriptor.media_type.as_deref().map(MediaType::new),
                size: l.descriptor.size,
                skip: l.skip.clone(),
            })
            .collect();
        Ok(Self {
            name: reference.to_string(),
            platform: image.platform,
            config,
            layers,
            descriptors: image.layers.into_iter().map(|l| l.descriptor).collect(),
            repository,
            client,
            channel_capacity: channel_capacity.max(1),
            runtime,
        })
    }
}

impl ScanTarget for RemoteImage {
    fn name(&self) -> &str {
        &self.name
    }

    fn platform(&self) -> Option<&Platform> {
        self.platform.as_ref()
    }

    fn layers(&self) -> &[LayerSpec] {
        &self.layers
    }

    fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// Starts the layer's download and returns the scan thread's end of the bridge. A download
    /// that breaks, or a registry whose bytes do not match the digest, reaches the reader as an
    /// I/O error; the [`BlobReader`] around it checks size and digest again on the bytes the
    /// walker saw.
    fn open_layer(&self, index: usize) -> Result<LayerReader, ScanError> {
        let descriptor = self.descriptors.get(index).ok_or(ScanError::NoLayer(index))?;
        let handle = self.runtime.handle();
        let stream = handle.block_on(self.client.open_blob(&self.repository, descriptor))?;
        let (tx, reader) = ChannelReader::channel(self.channel_capacity);
        handle.spawn(async move {
            // How the pump ended needs no handling here: a failure was sent to the reader, and
            // a reader gone early was the engine's choice.
            let _ = pump(Box::pin(stream.into_stream()), tx, &Transferred::default()).await;
        });
        let expected = Expected { digest: Some(descriptor.digest.clone()), size: descriptor.size };
        let reader: Box<dyn Read + Send> = Box::new(reader);
        Ok(BlobReader::new(reader, descriptor.digest.to_string(), expected)?)
    }
}

/// The base URL of the registry a reference names: `https://HOST`, or `http://HOST` for a
/// loopback host when private addresses are allowed (local test registries speak plain HTTP).
///
/// # Errors
/// [`ScanError::NoHost`] for a Docker Hub reference; [`ScanError::RegistryUrl`] for a host that
/// makes no URL.
pub fn registry_url(reference: &DockerReference, allow_private_addresses: bool) -> Result<Url, ScanError> {
    let host = reference.host().ok_or(ScanError::NoHost)?;
    let scheme = if allow_private_addresses && reference.is_loopback() { "http" } else { "https" };
    Url::parse(&format!("{scheme}://{host}/"))
        .map_err(|source| ScanError::RegistryUrl { host: host.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(reference: &str, allow: bool) -> String {
        registry_url(&reference.parse().unwrap(), allow).unwrap().to_string()
    }

    #[test]
    fn plain_http_only_for_loopback_hosts_when_private_addresses_are_allowed() {
        assert_eq!(url("127.0.0.1:5000/a/b", true), "http://127.0.0.1:5000/");
        assert_eq!(url("localhost:5000/a/b", true), "http://localhost:5000/");
        assert_eq!(url("[::1]:5000/a/b", true), "http://[::1]:5000/");
        assert_eq!(url("127.0.0.1:5000/a/b", false), "https://127.0.0.1:5000/");
        assert_eq!(url("10.1.2.3:5000/a/b", true), "https://10.1.2.3:5000/");
        assert_eq!(url("ghcr.io/org/app:1", true), "https://ghcr.io/");
        assert!(registry_url(&"org/app".parse().unwrap(), true).is_err());
    }
}
