//! Materialising one repository: its tags, manifests, configs and blobs.
//!
//! Called on first request for a repository (hub tags, registry manifests, CDN blobs) and
//! cached by the server; a pure function of `(seed, repository index)` plus the shared base
//! layers. Everything a client can fetch for the repository is in the returned
//! [`RepoContent`]: manifest bytes by digest (served verbatim), blobs by digest, the tag list
//! with Hub's `images[]` view, and — for planted repositories — where each planted item ended
//! up (layer digest and path, or config field), which is what the ground truth reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use hubcensus_types::{Category, Digest, Fingerprint, MediaType, redact};

use super::base::{Base, BaseLayers};
use super::campaigns::Link;
use super::files::{Entry, Layer, Packing, build_layer, elf, js_source, prose, python_source};
use super::threats::{self, Plant, Spot};
use super::{Population, RepoKind};
use crate::manifest::{
    self, DockerDescriptor, OciDescriptor, PlatformJson, Schema1Layer, docker_list, docker_manifest,
    oci_index, oci_manifest,
};
use crate::rng::Rng;
use crate::time::rfc3339;

/// How a repository's images are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Format {
    /// BuildKit OCI index with attestation manifests.
    OciIndex,
    /// Docker manifest list.
    DockerList,
    /// Single OCI image manifest.
    OciManifest,
    /// Single Docker schema2 manifest.
    DockerManifest,
    /// Docker schema1 (signed).
    Schema1,
    /// Helm chart (OCI artifact).
    Helm,
    /// WebAssembly module (OCI artifact).
    Wasm,
    /// No tags.
    None,
}

/// Cheap per-repository choices, computable without building anything (the Hub listing uses
/// them for `media_types` / `content_types`).
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub(crate) base: Base,
    pub(crate) format: Format,
    pub(crate) zstd: bool,
    pub(crate) windows: bool,
    pub(crate) arches: Vec<(&'static str, Option<&'static str>)>,
}

impl Format {
    /// The `media_type` of a tag (its top manifest).
    pub(crate) fn top_media_type(self) -> &'static str {
        match self {
            Format::OciIndex => MediaType::OCI_INDEX,
            Format::DockerList => MediaType::DOCKER_LIST,
            Format::OciManifest | Format::Helm | Format::Wasm | Format::None => MediaType::OCI_MANIFEST,
            Format::DockerManifest => MediaType::DOCKER_MANIFEST,
            Format::Schema1 => MediaType::SCHEMA1_SIGNED,
        }
    }

    /// Hub's `content_type` of a tag.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Helm => "helm",
            Format::Wasm => "wasm",
            _ => "image",
        }
    }

    /// What Hub's repository `media_types[]` lists for this format.
    pub(crate) fn listing_media_types(self) -> Vec<&'static str> {
        match self {
            Format::OciIndex => vec![MediaType::OCI_CONFIG, MediaType::OCI_INDEX],
            Format::DockerList => vec![MediaType::DOCKER_CONFIG, MediaType::DOCKER_LIST],
            Format::OciManifest => vec![MediaType::OCI_CONFIG],
            Format::DockerManifest => vec![MediaType::DOCKER_CONFIG],
            Format::Schema1 => vec![MediaType::SCHEMA1_SIGNED],
            Format::Helm => vec![HELM_CONFIG],
            Format::Wasm => vec![WASM_CONFIG],
            Format::None => vec![],
        }
    }
}

const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
const WASM_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";
const IN_TOTO: &str = "application/vnd.in-toto+json";
const OCI_NONDIST_GZIP: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

/// The cheap profile of repository `i`.
pub(crate) fn profile(pop: &Population, i: u32) -> Profile {
    let meta = pop.repo(i);
    let s = &pop.config().shares;
    let mut r = Rng::new(pop.seed(), "profile", u64::from(i));
    let base = match r.below(100) {
        0..=24 => Base::Debian,
        25..=44 => Base::Ubuntu,
        45..=64 => Base::Alpine,
        65..=84 => Base::Python,
        _ => Base::Node,
    };
    let u = r.unit();
    let format = match meta.kind {
        RepoKind::Imageless | RepoKind::Spam => Format::None,
        RepoKind::Helm => Format::Helm,
        RepoKind::Wasm => Format::Wasm,
        RepoKind::Schema1Image => Format::Schema1,
        RepoKind::Image if meta.ns == 0 => Format::OciIndex,
        RepoKind::Image if u < s.oci_index => Format::OciIndex,
        RepoKind::Image if u < s.oci_index + s.docker_list => Format::DockerList,
        RepoKind::Image if u < s.oci_index + s.docker_list + s.oci_manifest => Format::OciManifest,
        RepoKind::Image => Format::DockerManifest,
    };
    let zstd =
        matches!(format, Format::OciIndex | Format::OciManifest | Format::DockerManifest) && r.chance(s.zstd);
    let multi = matches!(format, Format::OciIndex | Format::DockerList);
    let windows = multi && r.chance(s.windows_entry);
    let mut arches = vec![("amd64", None)];
    if multi {
        arches.push(("arm64", if r.chance(0.5) { Some("v8") } else { None }));
        if r.chance(0.3) {
            arches.push(("arm", Some("v7")));
        }
    }
    Profile { base, format, zstd, windows, arches }
}

/// The media type of repository `i`'s tags (None when it has no tags), without building it.
pub fn tag_media_type(pop: &Population, i: u32) -> Option<&'static str> {
    let p = profile(pop, i);
    (p.format != Format::None).then(|| p.format.top_media_type())
}

/// Whether repository `i`'s own layers are zstd-compressed, without building it.
pub fn uses_zstd(pop: &Population, i: u32) -> bool {
    profile(pop, i).zstd
}

/// A manifest as stored (served verbatim).
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its media type (the Content-Type it is served with).
    pub media_type: &'static str,
    /// The exact bytes.
    pub bytes: Bytes,
    /// For an index or list: the linux/amd64 entry (what a client without index support gets).
    pub amd64_child: Option<Digest>,
    /// For a Docker schema2 manifest: its schema1 down-conversion (digest, signed bytes).
    pub schema1: Option<(Digest, Bytes)>,
}

/// A layer in Hub's `images[].layers[]`.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    /// Layer digest (None for empty history steps).
    pub digest: Option<Digest>,
    /// Compressed size.
    pub size: u64,
    /// The Dockerfile instruction.
    pub instruction: String,
}

/// One `images[]` entry of a tag.
#[derive(Debug, Clone)]
pub struct TagImage {
    /// `architecture` (`unknown` for attestations).
    pub architecture: String,
    /// `os`.
    pub os: String,
    /// `variant`.
    pub variant: Option<String>,
    /// `os_version` (Windows only).
    pub os_version: Option<String>,
    /// Platform manifest digest (null for schema1).
    pub digest: Option<Digest>,
    /// Compressed size of its layers.
    pub size: u64,
    /// Push time.
    pub pushed: i64,
    /// Last pull time.
    pub pulled: i64,
    /// Layers with instructions.
    pub layers: Vec<LayerInfo>,
}

/// One tag.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Tag name.
    pub name: String,
    /// Push time.
    pub pushed: i64,
    /// Last pull time.
    pub pulled: i64,
    /// Digest of the tagged manifest / index.
    pub digest: Digest,
    /// Its media type.
    pub media_type: &'static str,
    /// Hub content type.
    pub content_type: &'static str,
    /// Hub `images[]`.
    pub images: Vec<TagImage>,
    /// Tag id.
    pub id: u64,
}

/// Where a planted item sits in the served content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A file in a layer.
    LayerFile {
        /// The layer (compressed) digest.
        layer: Digest,
        /// Path in the tar (no leading `/`).
        path: String,
        /// The upper layer whose whiteout deletes it, if any.
        deleted_in: Option<Digest>,
    },
    /// An image-config field (`config.Env[3]`, `config.Cmd`, `config.Labels.<key>`,
    /// `history[7].created_by`).
    Config {
        /// The field.
        field: String,
    },
    /// The repository name itself.
    RepoName {
        /// The official image it imitates.
        imitates: String,
    },
}

/// One planted item, resolved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlantedItem {
    /// Technique id (`xmrig_binary`, `github_token_env`, ...).
    pub technique: String,
    /// Where it is.
    #[serde(flatten)]
    pub location: Location,
    /// A non-secret indicator (domain, URL, pool, tool name).
    pub indicator: Option<String>,
    /// Redacted preview of the secret, if the item is one.
    pub secret_preview: Option<String>,
    /// sha256 of the secret value.
    pub secret_fingerprint: Option<Fingerprint>,
    /// sha256 of the whole file, or of the config field's value (Env entry text, label value,
    /// history line, or compact JSON of Cmd / Entrypoint).
    pub value_sha256: Option<String>,
    /// The key the attribution views group the secret by (wallet, AWS account, SSH key,
    /// token), when they group its kind; shared with other repositories when it is a
    /// campaign's.
    pub link: Option<Link>,
}

/// A planted image: the newest tag of a planted repository, resolved to linux/amd64.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlantedImage {
    /// `namespace/name`.
    pub repository: String,
    /// Tag.
    pub tag: String,
    /// The tag's digest (index / list, or the manifest itself).
    pub tag_digest: Digest,
    /// The linux/amd64 manifest digest.
    pub manifest_digest: Digest,
    /// The config digest.
    pub config_digest: Digest,
    /// Push time (RFC 3339).
    pub pushed: String,
    /// Category.
    pub category: Category,
    /// Items.
    pub items: Vec<PlantedItem>,
}

/// Everything a client can fetch for one repository.
#[derive(Debug)]
pub struct RepoContent {
    /// Repository index.
    pub repo: u32,
    /// Tags, newest first.
    pub tags: Vec<Tag>,
    tag_index: HashMap<String, usize>,
    /// Manifests by digest.
    pub manifests: HashMap<Digest, Stored>,
    /// Blobs by digest.
    pub blobs: HashMap<Digest, Bytes>,
    /// The planted image, if any.
    pub planted: Option<PlantedImage>,
    /// The decoy (benign look-alike) in the newest image, if any: (technique, layer, path).
    pub decoy: Option<(String, Digest, String)>,
}

impl RepoContent {
    /// A tag by name.
    pub fn tag(&self, name: &str) -> Option<&Tag> {
        self.tag_index.get(name).map(|&i| &self.tags[i])
    }
}

struct OwnLayer {
    layer: Arc<Layer>,
    history: String,
}

struct PlatformBuild {
    digest: Digest,
    media_type: &'static str,
    bytes: Bytes,
    size: u64,
    layers: Vec<LayerInfo>,
    config_digest: Digest,
    config: serde_json::Value,
    schema1: Option<(Digest, Bytes)>,
}

struct Builder<'a> {
    pop: &'a Population,
    bases: &'a BaseLayers,
    repo: u32,
    full_name: String,
    profile: Profile,
    manifests: HashMap<Digest, Stored>,
    blobs: HashMap<Digest, Bytes>,
}

const DAY: i64 = 86_400;

/// Builds repository `i`.
pub(crate) fn materialise(pop: &Population, bases: &BaseLayers, i: u32) -> RepoContent {
    let meta = pop.repo(i);
    let mut b = Builder {
        pop,
        bases,
        repo: i,
        full_name: pop.full_name(i),
        profile: profile(pop, i),
        manifests: HashMap::new(),
        blobs: HashMap::new(),
    };
    let mut r = Rng::new(pop.seed(), "content", u64::from(i));
    let names = super::names::tags(&mut r.fork("tags", 0), meta.tags as usize);
    let mut tags: Vec<Tag> = Vec::with_capacity(names.len());
    let mut planted = None;
    let mut decoy = None;
    let mut pushed = meta.updated;
    let reuse_after = 8usize;
    for (k, name) in names.iter().enumerate() {
        if k > 0 {
            let span = ((meta.updated - meta.registered) / (names.len() as i64 + 1)).max(3_600);
            pushed = (pushed - r.range(600, span as u64) as i64).max(meta.registered + 60);
        }
        let pulled = if meta.inactive {
            // Pulled for a while after its push, then never again: Hub reports it inactive.
            pushed + r.range(60, 30 * DAY as u64) as i64
        } else {
            (pop.config().anchor_unix - r.range(60, 40 * DAY as u64) as i64).max(pushed + 60)
        };
        let id = 100_000_000 + u64::from(i) * 64 + k as u64;
        if k >= reuse_after {
            // Many tags of a busy repository point at images already pushed under other tags.
            let src = &tags[k % reuse_after];
            let mut t = src.clone();
            t.name = name.clone();
            t.pushed = pushed;
            t.pulled = pulled;
            t.id = id;
            tags.push(t);
            continue;
        }
        // A re-push (`population.epoch`) draws new images under the same tag names.
        let mut tr = r.fork("tag", k as u64 | (u64::from(meta.pushes) << 32));
        let plant =
            if k == 0 { meta.plant.map(|c| threats::plant(pop.seed(), i, c, pushed, "amd64")) } else { None };
        let decoy_entry = if k == 0 && meta.decoy { Some(threats::decoy(pop.seed(), i)) } else { None };
        let (tag, p, d) = b.tag(&mut tr, name, pushed, pulled, id, plant, decoy_entry);
        if k == 0 {
            planted = p;
            decoy = d;
        }
        tags.push(tag);
    }
    let tag_index = tags.iter().enumerate().map(|(k, t)| (t.name.clone(), k)).collect();
    RepoContent { repo: i, tags, tag_index, manifests: b.manifests, blobs: b.blobs, planted, decoy }
}

fn sha_hex(data: &[u8]) -> String {
    Digest::sha256_of(data).hex().to_string()
}

impl Builder<'_> {
    fn blob(&mut self, bytes: Bytes) -> Digest {
        let d = Digest::sha256_of(&bytes);
        self.blobs.entry(d.clone()).or_insert(bytes);
        d
    }

    fn store(
        &mut self,
        media_type: &'static str,
        bytes: Bytes,
        amd64_child: Option<Digest>,
        schema1: Option<(Digest, Bytes)>,
    ) -> Digest {
        let d = Digest::sha256_of(&bytes);
        self.manifests.entry(d.clone()).or_insert(Stored { media_type, bytes, amd64_child, schema1 });
        d
    }

    fn app_layer(&mut self, r: &mut Rng, tag: &str, pushed: i64, decoy: Option<&Entry>) -> OwnLayer {
        let repo_name = self.pop.repo(self.repo).name.to_string();
        let mut e = vec![Entry::Dir("app".into())];
        let (history, readme) = match self.profile.base {
            Base::Python => {
                e.push(Entry::file("app/app.py", python_source(r, "app"), 0o644));
                e.push(Entry::file(
                    "app/requirements.txt",
                    "flask==3.0.3\nrequests==2.32.3\ngunicorn==22.0.0\n",
                    0o644,
                ));
                ("COPY . /app # buildkit", true)
            }
            Base::Node => {
                e.push(Entry::file("app/server.js", js_source(r, "server"), 0o644));
                e.push(Entry::file(
                    "app/package.json",
                    format!("{{\n  \"name\": \"{repo_name}\",\n  \"version\": \"1.0.{}\",\n  \"main\": \"server.js\",\n  \"dependencies\": {{\n    \"express\": \"^4.19.2\"\n  }}\n}}\n", r.range(0, 40)),
                    0o644,
                ));
                ("COPY . /app # buildkit", true)
            }
            _ => {
                e.push(Entry::file("app/entrypoint.sh", format!("#!/bin/sh\nset -e\ncd /app\nexec /usr/local/bin/{repo_name} --config /app/config.yaml \"$@\"\n"), 0o755));
                e.push(Entry::file(
                    "app/config.yaml",
                    format!(
                        "listen: 0.0.0.0:{}\nlog_level: info\nworkers: {}\n",
                        r.range(3000, 9000),
                        r.range(1, 8)
                    ),
                    0o644,
                ));
                if self.profile.arches.len() == 1 {
                    e.push(Entry::Dir("usr/local/bin".into()));
                    let size = r.range(20_000, 120_000) as usize;
                    let bin = elf(r, "amd64", size, &[&repo_name, "main.main", "Go buildinf:"]);
                    e.push(Entry::file(format!("usr/local/bin/{repo_name}"), bin, 0o755));
                }
                ("COPY . / # buildkit", false)
            }
        };
        if readme {
            e.push(Entry::file("app/README.md", format!("# {repo_name} ({tag})\n\n{}", prose(r, 6)), 0o644));
        }
        if let Some(d) = decoy {
            e.push(d.clone());
        }
        let packing = if self.profile.zstd { Packing::Zstd } else { Packing::Gzip };
        OwnLayer { layer: Arc::new(build_layer(&e, pushed, packing, 1)), history: history.into() }
    }

    #[allow(clippy::too_many_arguments)]
    fn tag(
        &mut self,
        r: &mut Rng,
        name: &str,
        pushed: i64,
        pulled: i64,
        id: u64,
        plant: Option<Plant>,
        decoy: Option<(Entry, &'static str)>,
    ) -> (Tag, Option<PlantedImage>, Option<(String, Digest, String)>) {
        match self.profile.format {
            Format::Helm | Format::Wasm | Format::None => {
                let (digest, images) = self.artifact(r, name, pushed);
                let tag = Tag {
                    name: name.into(),
                    pushed,
                    pulled,
                    digest,
                    media_type: MediaType::OCI_MANIFEST,
                    content_type: self.profile.format.content_type(),
                    images,
                    id,
                };
                return (tag, None, None);
            }
            _ => {}
        }
        let app = self.app_layer(r, name, pushed, decoy.as_ref().map(|d| &d.0));
        let mut own = vec![app];
        let mut plant_layer = None;
        let mut whiteout_layer = None;
        if let Some(p) = &plant {
            if !p.files.is_empty() {
                let mut entries = Vec::new();
                for f in &p.files {
                    if let Entry::File { path, .. } = f {
                        let mut dir = String::new();
                        let parts: Vec<&str> = path.split('/').collect();
                        for part in &parts[..parts.len() - 1] {
                            if !dir.is_empty() {
                                dir.push('/');
                            }
                            dir.push_str(part);
                            let d = Entry::Dir(dir.clone());
                            if !entries
                                .iter()
                                .any(|e: &Entry| matches!((e, &d), (Entry::Dir(a), Entry::Dir(b)) if a == b))
                            {
                                entries.push(d);
                            }
                        }
                    }
                    entries.push(f.clone());
                }
                let packing = if self.profile.zstd { Packing::Zstd } else { Packing::Gzip };
                let layer = Arc::new(build_layer(&entries, pushed - 30, packing, 1));
                plant_layer = Some(layer.digest.clone());
                own.push(OwnLayer { layer, history: p.layer_history.clone() });
            }
            if !p.deleted.is_empty() {
                let mut entries = Vec::new();
                for path in &p.deleted {
                    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
                    let wh = if dir.is_empty() { format!(".wh.{file}") } else { format!("{dir}/.wh.{file}") };
                    entries.push(Entry::file(wh, Vec::new(), 0o644));
                }
                let layer = Arc::new(build_layer(&entries, pushed - 20, Packing::Gzip, 1));
                whiteout_layer = Some(layer.digest.clone());
                let rm = p.deleted.iter().map(|d| format!("/{d}")).collect::<Vec<_>>().join(" ");
                own.push(OwnLayer { layer, history: format!("RUN /bin/sh -c rm -f {rm} # buildkit") });
            }
        }
        let decoy_out = decoy.map(|(entry, technique)| {
            let path = match entry {
                Entry::File { path, .. } => path,
                _ => String::new(),
            };
            (technique.to_string(), own[0].layer.digest.clone(), path)
        });

        let arches = self.profile.arches.clone();
        let mut builds = Vec::new();
        for (arch, variant) in &arches {
            builds.push(self.platform(arch, *variant, &own, plant.as_ref(), name, pushed));
        }
        let mut images = Vec::new();
        let amd64 = builds[0].digest.clone();
        let (tag_digest, media_type) = match self.profile.format {
            Format::OciIndex => {
                let mut descs = Vec::new();
                for (b, (arch, variant)) in builds.iter().zip(&arches) {
                    descs.push(OciDescriptor {
                        media_type: MediaType::OCI_MANIFEST.into(),
                        digest: b.digest.to_string(),
                        size: b.bytes.len() as u64,
                        urls: None,
                        annotations: None,
                        platform: Some(PlatformJson {
                            architecture: (*arch).into(),
                            os: "linux".into(),
                            os_version: None,
                            variant: variant.map(Into::into),
                        }),
                    });
                    images.push(tag_image(
                        arch,
                        "linux",
                        *variant,
                        None,
                        Some(b.digest.clone()),
                        b.size,
                        pushed,
                        pulled,
                        b.layers.clone(),
                    ));
                    let (att_digest, att_bytes, att_size) =
                        self.attestation(&b.digest, arch, *variant, name, pushed);
                    let mut ann = BTreeMap::new();
                    ann.insert("vnd.docker.reference.digest".to_string(), b.digest.to_string());
                    ann.insert("vnd.docker.reference.type".to_string(), "attestation-manifest".to_string());
                    descs.push(OciDescriptor {
                        media_type: MediaType::OCI_MANIFEST.into(),
                        digest: att_digest.to_string(),
                        size: att_bytes,
                        urls: None,
                        annotations: Some(ann),
                        platform: Some(PlatformJson {
                            architecture: "unknown".into(),
                            os: "unknown".into(),
                            os_version: None,
                            variant: None,
                        }),
                    });
                    images.push(tag_image(
                        "unknown",
                        "unknown",
                        None,
                        None,
                        Some(att_digest),
                        att_size,
                        pushed + 1,
                        pulled,
                        Vec::new(),
                    ));
                }
                if self.profile.windows {
                    let (d, len, size, layers) = self.windows(true, pushed);
                    descs.push(OciDescriptor {
                        media_type: MediaType::OCI_MANIFEST.into(),
                        digest: d.to_string(),
                        size: len,
                        urls: None,
                        annotations: None,
                        platform: Some(PlatformJson {
                            architecture: "amd64".into(),
                            os: "windows".into(),
                            os_version: Some(WIN_VERSION.into()),
                            variant: None,
                        }),
                    });
                    images.push(tag_image(
                        "amd64",
                        "windows",
                        None,
                        Some(WIN_VERSION),
                        Some(d),
                        size,
                        pushed,
                        pulled,
                        layers,
                    ));
                }
                let bytes = oci_index(&descs);
                (self.store(MediaType::OCI_INDEX, bytes, Some(amd64), None), MediaType::OCI_INDEX)
            }
            Format::DockerList => {
                let mut descs = Vec::new();
                for (b, (arch, variant)) in builds.iter().zip(&arches) {
                    descs.push(DockerDescriptor {
                        media_type: MediaType::DOCKER_MANIFEST.into(),
                        size: b.bytes.len() as u64,
                        digest: b.digest.to_string(),
                        urls: None,
                        platform: Some(PlatformJson {
                            architecture: (*arch).into(),
                            os: "linux".into(),
                            os_version: None,
                            variant: variant.map(Into::into),
                        }),
                    });
                    images.push(tag_image(
                        arch,
                        "linux",
                        *variant,
                        None,
                        Some(b.digest.clone()),
                        b.size,
                        pushed,
                        pulled,
                        b.layers.clone(),
                    ));
                }
                if self.profile.windows {
                    let (d, len, size, layers) = self.windows(false, pushed);
                    descs.push(DockerDescriptor {
                        media_type: MediaType::DOCKER_MANIFEST.into(),
                        size: len,
                        digest: d.to_string(),
                        urls: None,
                        platform: Some(PlatformJson {
                            architecture: "amd64".into(),
                            os: "windows".into(),
                            os_version: Some(WIN_VERSION.into()),
                            variant: None,
                        }),
                    });
                    images.push(tag_image(
                        "amd64",
                        "windows",
                        None,
                        Some(WIN_VERSION),
                        Some(d),
                        size,
                        pushed,
                        pulled,
                        layers,
                    ));
                }
                let bytes = docker_list(&descs);
                (self.store(MediaType::DOCKER_LIST, bytes, Some(amd64), None), MediaType::DOCKER_LIST)
            }
            Format::Schema1 => {
                let b = &builds[0];
                let mut l = b.layers.clone();
                l.retain(|x| x.digest.is_some());
                let (d, bytes) = b.schema1.clone().unwrap_or_else(|| (b.digest.clone(), b.bytes.clone()));
                images.push(tag_image(
                    "amd64",
                    "linux",
                    None,
                    None,
                    None,
                    b.size,
                    pushed,
                    pulled,
                    b.layers.clone(),
                ));
                self.manifests.entry(d.clone()).or_insert(Stored {
                    media_type: MediaType::SCHEMA1_SIGNED,
                    bytes,
                    amd64_child: None,
                    schema1: None,
                });
                (d, MediaType::SCHEMA1_SIGNED)
            }
            _ => {
                let b = &builds[0];
                images.push(tag_image(
                    "amd64",
                    "linux",
                    None,
                    None,
                    Some(b.digest.clone()),
                    b.size,
                    pushed,
                    pulled,
                    b.layers.clone(),
                ));
                (b.digest.clone(), b.media_type)
            }
        };
        let planted = plant.map(|p| {
            let b = &builds[0];
            let items = resolve(&p, self.pop, self.repo, b, plant_layer.as_ref(), whiteout_layer.as_ref());
            PlantedImage {
                repository: self.full_name.clone(),
                tag: name.to_string(),
                tag_digest: tag_digest.clone(),
                manifest_digest: b.digest.clone(),
                config_digest: b.config_digest.clone(),
                pushed: rfc3339(pushed, 6),
                category: p.category,
                items,
            }
        });
        let tag = Tag {
            name: name.into(),
            pushed,
            pulled,
            digest: tag_digest,
            media_type,
            content_type: "image",
            images,
            id,
        };
        (tag, planted, decoy_out)
    }

    fn platform(
        &mut self,
        arch: &str,
        variant: Option<&str>,
        own: &[OwnLayer],
        plant: Option<&Plant>,
        tag: &str,
        pushed: i64,
    ) -> PlatformBuild {
        let base = self.profile.base;
        let oci = matches!(self.profile.format, Format::OciIndex | Format::OciManifest);
        let mut layers: Vec<(Arc<Layer>, &'static str, String)> = Vec::new();
        let base_hist = base.history();
        let mut hist_iter = base_hist.iter().filter(|(_, empty)| !empty);
        for kind in base.layers() {
            let l = self.bases.get(*kind, arch);
            let mt = if oci { MediaType::OCI_LAYER_GZIP } else { MediaType::DOCKER_LAYER_GZIP };
            let h = hist_iter.next().map(|(h, _)| h.clone()).unwrap_or_default();
            layers.push((l, mt, h));
        }
        for o in own {
            let mt = match (oci, self.profile.zstd && o.layer.bytes.first() != Some(&0x1f)) {
                (true, true) => MediaType::OCI_LAYER_ZSTD,
                (true, false) => MediaType::OCI_LAYER_GZIP,
                (false, true) => MediaType::DOCKER_LAYER_ZSTD,
                (false, false) => MediaType::DOCKER_LAYER_GZIP,
            };
            layers.push((o.layer.clone(), mt, o.history.clone()));
        }
        for (l, _, _) in &layers {
            self.blobs.entry(l.digest.clone()).or_insert_with(|| l.bytes.clone());
        }

        // Config.
        let base_time = self.bases_built();
        let mut history: Vec<(i64, String, bool)> =
            base_hist.iter().map(|(h, e)| (base_time, h.clone(), *e)).collect();
        let mut env = base.env();
        let (mut cmd, mut entrypoint): (Option<Vec<String>>, Option<Vec<String>>) = match base {
            Base::Python => (Some(vec!["python3".into(), "app.py".into()]), None),
            Base::Node => (Some(vec!["node".into(), "server.js".into()]), None),
            _ => (None, Some(vec!["/app/entrypoint.sh".into()])),
        };
        let mut labels = BTreeMap::new();
        labels.insert(
            "org.opencontainers.image.source".to_string(),
            format!("https://github.com/{}", self.full_name),
        );
        labels.insert("org.opencontainers.image.version".to_string(), tag.to_string());
        labels.insert("org.opencontainers.image.base.name".to_string(), base.image_name().to_string());
        history.push((pushed - 40, "WORKDIR /app".into(), true));
        history.push((pushed - 35, own[0].history.clone(), false));
        let mut extra_history = Vec::new();
        if let Some(p) = plant {
            env.extend(p.env.iter().cloned());
            if p.cmd.is_some() {
                cmd = p.cmd.clone();
            }
            if p.entrypoint.is_some() {
                entrypoint = p.entrypoint.clone();
                if p.cmd.is_none() {
                    cmd = None;
                }
            }
            for (k, v) in &p.labels {
                labels.insert(k.clone(), v.clone());
            }
            extra_history = p.history.clone();
        }
        for o in &own[1..] {
            history.push((pushed - 25, o.history.clone(), false));
        }
        for h in extra_history {
            history.push((pushed - 15, h, true));
        }
        if !env.iter().any(|e| e.starts_with("APP_ENV=")) {
            env.push("APP_ENV=production".into());
        }
        history.push((pushed - 10, "ENV APP_ENV=production".to_string(), true));
        if let Some(e) = &entrypoint {
            history.push((
                pushed - 5,
                format!("ENTRYPOINT {}", serde_json::to_string(e).unwrap_or_default()),
                true,
            ));
        }
        if let Some(c) = &cmd {
            history.push((pushed - 4, format!("CMD {}", serde_json::to_string(c).unwrap_or_default()), true));
        }
        let mut cfg_inner = serde_json::Map::new();
        cfg_inner.insert("Env".into(), env.clone().into());
        cfg_inner.insert("Entrypoint".into(), entrypoint.map(Into::into).unwrap_or(serde_json::Value::Null));
        cfg_inner.insert("Cmd".into(), cmd.map(Into::into).unwrap_or(serde_json::Value::Null));
        cfg_inner.insert("WorkingDir".into(), "/app".into());
        cfg_inner.insert("Labels".into(), serde_json::to_value(&labels).unwrap_or_default());
        let mut config = serde_json::json!({
            "architecture": arch,
            "config": cfg_inner,
            "created": rfc3339(pushed - 4, 9),
            "history": history.iter().map(|(t, h, empty)| {
                let mut m = serde_json::Map::new();
                m.insert("created".into(), rfc3339(*t, 9).into());
                m.insert("created_by".into(), h.clone().into());
                if h.ends_with("# buildkit") || h.starts_with("ENV ") || h.starts_with("CMD ") || h.starts_with("ENTRYPOINT ") || h.starts_with("WORKDIR ") {
                    m.insert("comment".into(), "buildkit.dockerfile.v0".into());
                }
                if *empty {
                    m.insert("empty_layer".into(), true.into());
                }
                serde_json::Value::Object(m)
            }).collect::<Vec<_>>(),
            "os": "linux",
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|(l, _, _)| l.diff_id.to_string()).collect::<Vec<_>>(),
            },
        });
        if let (Some(v), Some(obj)) = (variant, config.as_object_mut()) {
            obj.insert("variant".into(), v.into());
        }
        let config_bytes = Bytes::from(serde_json::to_vec(&config).unwrap_or_default());
        let config_digest = self.blob(config_bytes.clone());
        let size: u64 = layers.iter().map(|(l, _, _)| l.bytes.len() as u64).sum();
        let mut infos = Vec::new();
        let mut li = layers.iter();
        for (_, h, empty) in &history {
            let instruction =
                h.trim_start_matches("/bin/sh -c #(nop) ").trim_end_matches(" # buildkit").trim().to_string();
            if *empty {
                infos.push(LayerInfo { digest: None, size: 0, instruction });
            } else if let Some((l, _, _)) = li.next() {
                infos.push(LayerInfo {
                    digest: Some(l.digest.clone()),
                    size: l.bytes.len() as u64,
                    instruction,
                });
            }
        }

        let (media_type, bytes, schema1) = if oci {
            let cfg = OciDescriptor {
                media_type: MediaType::OCI_CONFIG.into(),
                digest: config_digest.to_string(),
                size: config_bytes.len() as u64,
                urls: None,
                annotations: None,
                platform: None,
            };
            let ls: Vec<OciDescriptor> = layers
                .iter()
                .map(|(l, mt, _)| OciDescriptor {
                    media_type: (*mt).into(),
                    digest: l.digest.to_string(),
                    size: l.bytes.len() as u64,
                    urls: None,
                    annotations: None,
                    platform: None,
                })
                .collect();
            (MediaType::OCI_MANIFEST, oci_manifest(&cfg, &ls, None, None), None)
        } else {
            let cfg = DockerDescriptor {
                media_type: MediaType::DOCKER_CONFIG.into(),
                size: config_bytes.len() as u64,
                digest: config_digest.to_string(),
                urls: None,
                platform: None,
            };
            let ls: Vec<DockerDescriptor> = layers
                .iter()
                .map(|(l, mt, _)| DockerDescriptor {
                    media_type: (*mt).into(),
                    size: l.bytes.len() as u64,
                    digest: l.digest.to_string(),
                    urls: None,
                    platform: None,
                })
                .collect();
            let s1_layers: Vec<Schema1Layer> = layers
                .iter()
                .map(|(l, _, h)| Schema1Layer {
                    blob: l.digest.clone(),
                    created: rfc3339(pushed - 30, 9),
                    created_by: h.clone(),
                })
                .collect();
            let s1 = manifest::schema1(
                &self.full_name,
                tag,
                arch,
                &s1_layers,
                &config,
                self.pop.seed() ^ u64::from(self.repo),
            );
            (MediaType::DOCKER_MANIFEST, docker_manifest(&cfg, &ls), Some(s1))
        };
        let digest = if self.profile.format == Format::Schema1 {
            Digest::sha256_of(&bytes)
        } else {
            self.store(media_type, bytes.clone(), None, schema1.clone())
        };
        PlatformBuild { digest, media_type, bytes, size, layers: infos, config_digest, config, schema1 }
    }

    fn bases_built(&self) -> i64 {
        self.pop.config().anchor_unix - 400 * DAY
    }

    /// A BuildKit attestation manifest for a platform manifest: (digest, manifest length, size of its layers).
    fn attestation(
        &mut self,
        subject: &Digest,
        arch: &str,
        variant: Option<&str>,
        tag: &str,
        pushed: i64,
    ) -> (Digest, u64, u64) {
        let platform = match variant {
            Some(v) => format!("linux%2F{arch}%2F{v}"),
            None => format!("linux%2F{arch}"),
        };
        let subject_json = serde_json::json!([{ "name": format!("pkg:docker/{}@{tag}?platform={platform}", self.full_name), "digest": { "sha256": subject.hex() } }]);
        let sbom = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://spdx.dev/Document",
            "subject": subject_json,
            "predicate": { "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": format!("sbom-{}", subject.short()),
                "creationInfo": { "created": rfc3339(pushed, 0), "creators": ["Tool: buildkit-v0.15.1", "Tool: syft-v1.4.1"] },
                "packages": [ { "name": "base-files", "SPDXID": "SPDXRef-Package-base-files", "versionInfo": "12.4+deb12u7" } ] },
        });
        let prov = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": subject_json,
            "predicate": { "builder": { "id": "" }, "buildType": "https://mobyproject.org/buildkit@v1",
                "metadata": { "buildStartedOn": rfc3339(pushed - 120, 9), "buildFinishedOn": rfc3339(pushed, 9), "completeness": { "parameters": false, "environment": true, "materials": false }, "reproducible": false } },
        });
        let a = Bytes::from(serde_json::to_vec(&sbom).unwrap_or_default());
        let b = Bytes::from(serde_json::to_vec(&prov).unwrap_or_default());
        let (la, lb) = (a.len() as u64, b.len() as u64);
        let da = self.blob(a);
        let db = self.blob(b);
        let cfg = serde_json::json!({ "architecture": "unknown", "os": "unknown", "config": {}, "rootfs": { "type": "layers", "diff_ids": [da.to_string(), db.to_string()] } });
        let cfg_bytes = Bytes::from(serde_json::to_vec(&cfg).unwrap_or_default());
        let cfg_len = cfg_bytes.len() as u64;
        let dc = self.blob(cfg_bytes);
        let ann = |t: &str| {
            let mut m = BTreeMap::new();
            m.insert("in-toto.io/predicate-type".to_string(), t.to_string());
            Some(m)
        };
        let layers = [
            OciDescriptor {
                media_type: IN_TOTO.into(),
                digest: da.to_string(),
                size: la,
                urls: None,
                annotations: ann("https://spdx.dev/Document"),
                platform: None,
            },
            OciDescriptor {
                media_type: IN_TOTO.into(),
                digest: db.to_string(),
                size: lb,
                urls: None,
                annotations: ann("https://slsa.dev/provenance/v0.2"),
                platform: None,
            },
        ];
        let config = OciDescriptor {
            media_type: MediaType::OCI_CONFIG.into(),
            digest: dc.to_string(),
            size: cfg_len,
            urls: None,
            annotations: None,
            platform: None,
        };
        let bytes = oci_manifest(&config, &layers, None, None);
        let len = bytes.len() as u64;
        (self.store(MediaType::OCI_MANIFEST, bytes, None, None), len, la + lb)
    }

    /// A windows/amd64 entry with a foreign base layer: (digest, manifest length, size, layers).
    fn windows(&mut self, oci: bool, pushed: i64) -> (Digest, u64, u64, Vec<LayerInfo>) {
        let mut r = Rng::new(self.pop.seed(), "windows", u64::from(self.repo));
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
        exe.extend(
            elf(&mut r, "amd64", 4_000, &["This program cannot be run in DOS mode."]).into_iter().skip(64),
        );
        let small = build_layer(
            &[
                Entry::Dir("Files".into()),
                Entry::Dir("Files/app".into()),
                Entry::file("Files/app/app.exe", exe, 0o755),
            ],
            pushed,
            Packing::Gzip,
            1,
        );
        let small_digest = self.blob(small.bytes.clone());
        let foreign_hex = sha_hex(format!("servercore-ltsc2022-{}", self.pop.seed()).as_bytes());
        let foreign_size = 1_493_021_377u64;
        let url = format!("https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:{foreign_hex}");
        let cfg = serde_json::json!({ "architecture": "amd64", "os": "windows", "os.version": WIN_VERSION, "config": { "Cmd": ["c:\\app\\app.exe"] }, "created": rfc3339(pushed, 9),
            "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{}", sha_hex(foreign_hex.as_bytes())), small.diff_id.to_string()] } });
        let cfg_bytes = Bytes::from(serde_json::to_vec(&cfg).unwrap_or_default());
        let cfg_len = cfg_bytes.len() as u64;
        let cd = self.blob(cfg_bytes);
        let bytes = if oci {
            let c = OciDescriptor {
                media_type: MediaType::OCI_CONFIG.into(),
                digest: cd.to_string(),
                size: cfg_len,
                urls: None,
                annotations: None,
                platform: None,
            };
            let ls = [
                OciDescriptor {
                    media_type: OCI_NONDIST_GZIP.into(),
                    digest: format!("sha256:{foreign_hex}"),
                    size: foreign_size,
                    urls: Some(vec![url]),
                    annotations: None,
                    platform: None,
                },
                OciDescriptor {
                    media_type: MediaType::OCI_LAYER_GZIP.into(),
                    digest: small_digest.to_string(),
                    size: small.bytes.len() as u64,
                    urls: None,
                    annotations: None,
                    platform: None,
                },
            ];
            oci_manifest(&c, &ls, None, None)
        } else {
            let c = DockerDescriptor {
                media_type: MediaType::DOCKER_CONFIG.into(),
                size: cfg_len,
                digest: cd.to_string(),
                urls: None,
                platform: None,
            };
            let ls = [
                DockerDescriptor {
                    media_type: MediaType::DOCKER_FOREIGN_LAYER.into(),
                    size: foreign_size,
                    digest: format!("sha256:{foreign_hex}"),
                    urls: Some(vec![url]),
                    platform: None,
                },
                DockerDescriptor {
                    media_type: MediaType::DOCKER_LAYER_GZIP.into(),
                    size: small.bytes.len() as u64,
                    digest: small_digest.to_string(),
                    urls: None,
                    platform: None,
                },
            ];
            docker_manifest(&c, &ls)
        };
        let len = bytes.len() as u64;
        let mt = if oci { MediaType::OCI_MANIFEST } else { MediaType::DOCKER_MANIFEST };
        let layers = vec![
            LayerInfo {
                digest: format!("sha256:{foreign_hex}").parse().ok(),
                size: foreign_size,
                instruction: "Apply image 10.0.20348.2849".into(),
            },
            LayerInfo {
                digest: Some(small_digest),
                size: small.bytes.len() as u64,
                instruction: "COPY app.exe C:\\app\\app.exe # buildkit".into(),
            },
        ];
        (self.store(mt, bytes, None, None), len, foreign_size + small.bytes.len() as u64, layers)
    }

    /// A Helm chart or WebAssembly module tag: (digest, images).
    fn artifact(&mut self, r: &mut Rng, tag: &str, pushed: i64) -> (Digest, Vec<TagImage>) {
        let repo_name = self.pop.repo(self.repo).name.to_string();
        let (config_type, layer_type, config, layer, artifact_type) = if self.profile.format == Format::Helm {
            let chart = format!(
                "apiVersion: v2\nname: {repo_name}\nversion: {tag}\ndescription: A Helm chart for Kubernetes\ntype: application\nappVersion: \"1.16.0\"\n"
            );
            let entries = vec![
                Entry::Dir(repo_name.clone()),
                Entry::file(format!("{repo_name}/Chart.yaml"), chart, 0o644),
                Entry::file(
                    format!("{repo_name}/values.yaml"),
                    format!(
                        "replicaCount: {}\nimage:\n  repository: nginx\n  pullPolicy: IfNotPresent\n",
                        r.range(1, 3)
                    ),
                    0o644,
                ),
                Entry::Dir(format!("{repo_name}/templates")),
                Entry::file(
                    format!("{repo_name}/templates/deployment.yaml"),
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"chart.fullname\" . }}\n",
                    0o644,
                ),
            ];
            let l = build_layer(&entries, pushed, Packing::Gzip, 6);
            let cfg = serde_json::json!({ "name": repo_name, "version": tag, "description": "A Helm chart for Kubernetes", "apiVersion": "v2", "appVersion": "1.16.0", "type": "application" });
            (HELM_CONFIG, HELM_CHART, serde_json::to_vec(&cfg).unwrap_or_default(), l.bytes, None)
        } else {
            let mut wasm = b"\0asm\x01\0\0\0".to_vec();
            let mut body = vec![0u8; r.range(2_000, 30_000) as usize];
            r.fill(&mut body);
            wasm.extend(body);
            let cfg = serde_json::json!({ "created": rfc3339(pushed, 0), "architecture": "wasm", "os": "wasip1", "layerDigests": [Digest::sha256_of(&wasm).to_string()] });
            (
                WASM_CONFIG,
                WASM_LAYER,
                serde_json::to_vec(&cfg).unwrap_or_default(),
                Bytes::from(wasm),
                Some("application/vnd.wasm.config.v0+json"),
            )
        };
        let cl = config.len() as u64;
        let ll = layer.len() as u64;
        let cd = self.blob(Bytes::from(config));
        let ld = self.blob(layer);
        let c = OciDescriptor {
            media_type: config_type.into(),
            digest: cd.to_string(),
            size: cl,
            urls: None,
            annotations: None,
            platform: None,
        };
        let mut ann = BTreeMap::new();
        ann.insert("org.opencontainers.image.created".to_string(), rfc3339(pushed, 0));
        let ls = [OciDescriptor {
            media_type: layer_type.into(),
            digest: ld.to_string(),
            size: ll,
            urls: None,
            annotations: None,
            platform: None,
        }];
        let _ = artifact_type;
        let bytes = oci_manifest(&c, &ls, None, Some(&ann));
        (self.store(MediaType::OCI_MANIFEST, bytes, None, None), Vec::new())
    }
}

const WIN_VERSION: &str = "10.0.20348.2849";

#[allow(clippy::too_many_arguments)]
fn tag_image(
    arch: &str,
    os: &str,
    variant: Option<&str>,
    os_version: Option<&str>,
    digest: Option<Digest>,
    size: u64,
    pushed: i64,
    pulled: i64,
    layers: Vec<LayerInfo>,
) -> TagImage {
    TagImage {
        architecture: arch.into(),
        os: os.into(),
        variant: variant.map(Into::into),
        os_version: os_version.map(Into::into),
        digest,
        size,
        pushed,
        pulled,
        layers,
    }
}

fn resolve(
    p: &Plant,
    pop: &Population,
    repo: u32,
    b: &PlatformBuild,
    plant_layer: Option<&Digest>,
    whiteout_layer: Option<&Digest>,
) -> Vec<PlantedItem> {
    let cfg = &b.config["config"];
    let history = b.config["history"].as_array().cloned().unwrap_or_default();
    p.items
        .iter()
        .map(|item| {
            let (location, value_sha256) = match &item.spot {
                Spot::File(path) => {
                    let data = p.files.iter().find_map(|f| match f {
                        Entry::File { path: fp, data, .. } if fp == path => Some(data.as_slice()),
                        _ => None,
                    });
                    (
                        Location::LayerFile {
                            layer: plant_layer.cloned().unwrap_or_else(|| b.digest.clone()),
                            path: path.clone(),
                            deleted_in: if p.deleted.contains(path) { whiteout_layer.cloned() } else { None },
                        },
                        data.map(sha_hex),
                    )
                }
                Spot::Env(key) => {
                    let env = cfg["Env"].as_array().cloned().unwrap_or_default();
                    let idx = env
                        .iter()
                        .position(|e| e.as_str().is_some_and(|s| s.starts_with(&format!("{key}="))));
                    let value = idx.and_then(|i| env[i].as_str().map(|s| sha_hex(s.as_bytes())));
                    (Location::Config { field: format!("config.Env[{}]", idx.unwrap_or(usize::MAX)) }, value)
                }
                Spot::Cmd => (
                    Location::Config { field: "config.Cmd".into() },
                    Some(sha_hex(cfg["Cmd"].to_string().as_bytes())),
                ),
                Spot::Entrypoint => (
                    Location::Config { field: "config.Entrypoint".into() },
                    Some(sha_hex(cfg["Entrypoint"].to_string().as_bytes())),
                ),
                Spot::Label(key) => (
                    Location::Config { field: format!("config.Labels.{key}") },
                    cfg["Labels"][key].as_str().map(|s| sha_hex(s.as_bytes())),
                ),
                Spot::History => {
                    let line = p.history.first().cloned().unwrap_or_default();
                    let idx = history.iter().position(|h| h["created_by"].as_str() == Some(line.as_str()));
                    (
                        Location::Config {
                            field: format!("history[{}].created_by", idx.unwrap_or(usize::MAX)),
                        },
                        Some(sha_hex(line.as_bytes())),
                    )
                }
                Spot::RepoName => {
                    let name = pop.repo(repo).name.to_string();
                    (Location::RepoName { imitates: super::names::imitated(&name).to_string() }, None)
                }
            };
            PlantedItem {
                technique: item.technique.to_string(),
                location,
                indicator: item.indicator.clone(),
                secret_preview: item.secret.as_deref().map(redact),
                secret_fingerprint: item.secret.as_deref().map(|s| Fingerprint::of(s.as_bytes())),
                value_sha256,
                link: item.link.clone(),
            }
        })
        .collect()
}
