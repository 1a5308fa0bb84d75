//! Image source strings, skopeo-style: `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`,
//! `layer:FILE`, `docker://REF`.
//!
//! As in containers/image, the part after the transport is split at its first `:`, so a path
//! cannot contain one; this keeps `oci:DIR:TAG` unambiguous without guessing which colon is
//! whose. A `docker://` reference is parsed as Docker's own reference grammar parses it
//! ([`DockerReference`]), so that `hubcensus scan` and `docker pull` read the same string as the
//! same image.

use std::{fmt, net::IpAddr, path::PathBuf, str::FromStr};

use hubcensus_types::{Digest, RepoRef};

use crate::ImageError;

/// Where an image (or a single layer) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An OCI image layout directory, optionally with the tag to pick
    /// (`org.opencontainers.image.ref.name`) or a manifest digest.
    Oci {
        /// The layout directory.
        dir: PathBuf,
        /// The tag (or `sha256:...` manifest digest); `None` takes the only image.
        tag: Option<String>,
    },
    /// A `docker save` tarball, optionally with the `RepoTags` entry to pick.
    DockerArchive {
        /// The tar file.
        file: PathBuf,
        /// A `repo:tag` from `RepoTags`; `None` takes the only image.
        reference: Option<String>,
    },
    /// One layer blob (tar, tar+gzip or tar+zstd), scanned without an image around it.
    Layer {
        /// The blob file.
        file: PathBuf,
    },
    /// An image in a registry (`[HOST[:PORT]/]NS/REPO[:TAG|@DIGEST]`). This crate reads local
    /// sources only: the CLI opens these with the registry client.
    Docker {
        /// The reference after `docker://`.
        reference: DockerReference,
    },
}

/// Docker Hub's names for itself: a reference naming one of them is a Docker Hub reference, the
/// same as one naming no host (containers/image and the docker CLI normalise them alike).
const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// What a `docker://` reference points at: a tag, or a manifest (or index) digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerTarget {
    /// A tag (`latest` when the reference names neither a tag nor a digest).
    Tag(String),
    /// A manifest or index digest.
    Digest(Digest),
}

impl DockerTarget {
    /// The reference as the registry API takes it (`/v2/NS/REPO/manifests/{this}`).
    pub fn as_str(&self) -> &str {
        match self {
            DockerTarget::Tag(tag) => tag,
            DockerTarget::Digest(digest) => digest.as_str(),
        }
    }
}

/// A registry image reference, `[HOST[:PORT]/]NS/REPO[:TAG|@DIGEST]`, parsed the way the docker
/// CLI and skopeo parse it.
///
/// - The first path segment is a registry host when it contains a `.` or a `:`, is `localhost`,
///   or has an uppercase letter (distribution/reference's rule); otherwise the reference is a
///   Docker Hub one, and a one-segment name means the official `library/NAME`.
/// - `docker.io`, `index.docker.io` and `registry-1.docker.io` name Docker Hub: [`Self::host`]
///   is `None` for them too, so the configured Docker Hub registry (or its stand-in) serves them.
/// - The repository is `NS/REPO`, the shape [`RepoRef`] and the registry client address. Other
///   registries also serve `HOST/REPO` and deeper paths (`HOST/a/b/c`); those are refused with
///   a reason rather than rewritten into a different repository.
/// - A tag or a digest, not both; neither means `latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerReference {
    host: Option<String>,
    repository: RepoRef,
    target: DockerTarget,
}

impl DockerReference {
    /// The registry host (`HOST` or `HOST:PORT`, as written), or `None` for Docker Hub.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// Whether the host is a loopback name or address (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let Some(host) = &self.host else { return false };
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or_default(),
            None => host.split(':').next().unwrap_or_default(),
        };
        name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The repository (`library/nginx` for Docker Hub's `nginx`).
    pub fn repository(&self) -> &RepoRef {
        &self.repository
    }

    /// The tag or digest asked for.
    pub fn target(&self) -> &DockerTarget {
        &self.target
    }
}

impl FromStr for DockerReference {
    type Err = ImageError;

    /// Parses the part after `docker://`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid =
            |reason: String| ImageError::InvalidSource { input: format!("docker://{input}"), reason };
        if input.is_empty() || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("expected docker://[HOST[:PORT]/]NS/REPO[:TAG|@DIGEST]".into()));
        }
        let (name, digest) = match input.split_once('@') {
            Some((name, digest)) => {
                let digest: Digest = digest.parse().map_err(|e| invalid(format!("{e}")))?;
                (name, Some(digest))
            }
            None => (input, None),
        };
        // A tag is a `:` after the last `/`; an earlier one is a port.
        let last_segment = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_segment..].rfind(':') {
            Some(i) => (&name[..last_segment + i], Some(&name[last_segment + i + 1..])),
            None => (name, None),
        };
        let target = match (tag, digest) {
            (Some(_), Some(_)) => return Err(invalid("name a tag or a digest, not both".into())),
            (Some(tag), None) => {
                if !is_tag(tag) {
                    return Err(invalid(format!(
                        "{tag:?} is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not \
                         starting with '.' or '-')"
                    )));
                }
                DockerTarget::Tag(tag.to_owned())
            }
            (None, Some(digest)) => DockerTarget::Digest(digest),
            (None, None) => DockerTarget::Tag("latest".into()),
        };
        let segments: Vec<&str> = name.split('/').collect();
        let (host, path) = match segments.split_first() {
            Some((first, rest)) if !rest.is_empty() && is_host_like(first) => {
                if !is_host(first) {
                    return Err(invalid(format!("{first:?} is not a valid registry host[:port]")));
                }
                let hub = DOCKER_HUB_HOSTS.iter().any(|h| first.eq_ignore_ascii_case(h));
                ((!hub).then(|| (*first).to_owned()), rest)
            }
            _ => (None, segments.as_slice()),
        };
        let repository = match (path, &host) {
            ([name], None) => RepoRef::new("library", name),
            ([namespace, name], _) => RepoRef::new(namespace, name),
            (_, None) => {
                return Err(invalid("Docker Hub repositories are NAME or NAMESPACE/NAME".into()));
            }
            (_, Some(host)) => {
                return Err(invalid(format!(
                    "the registry client addresses repositories as NAMESPACE/NAME; \
                     {host}/{} has {} path segments",
                    path.join("/"),
                    path.len()
                )));
            }
        }
        .map_err(|e| invalid(e.to_string()))?;
        Ok(DockerReference { host, repository, target })
    }
}

impl fmt::Display for DockerReference {
    /// The normalised reference: `[HOST/]NS/REPO:TAG` or `[HOST/]NS/REPO@DIGEST` (Docker Hub's
    /// own host names left out). It parses back to the same reference.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(host) = &self.host {
            write!(f, "{host}/")?;
        }
        match &self.target {
            DockerTarget::Tag(tag) => write!(f, "{}:{tag}", self.repository),
            DockerTarget::Digest(digest) => write!(f, "{}@{digest}", self.repository),
        }
    }
}

/// distribution/reference's test for a first segment that names a registry.
fn is_host_like(segment: &str) -> bool {
    segment.contains(['.', ':']) || segment == "localhost" || segment.bytes().any(|b| b.is_ascii_uppercase())
}

/// `HOST[:PORT]` with a DNS name or IPv4 address, or `[IPv6][:PORT]`.
fn is_host(segment: &str) -> bool {
    let (name, port) = if let Some(rest) = segment.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else { return false };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return false,
            },
        }
    } else {
        match segment.split_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(segment), None),
        }
    };
    let name_ok = name.is_none_or(|n| {
        !n.is_empty()
            && n.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    name_ok && port_ok
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

impl FromStr for Source {
    type Err = ImageError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid =
            |reason: &str| ImageError::InvalidSource { input: input.to_owned(), reason: reason.to_owned() };
        if let Some(reference) = input.strip_prefix("docker://") {
            return Ok(Source::Docker { reference: reference.parse()? });
        }
        let Some((transport, rest)) = input.split_once(':') else {
            return Err(invalid(
                "expected a transport: oci:DIR[:TAG], docker-archive:FILE[:REF], layer:FILE or docker://REF",
            ));
        };
        let (path, name) = match rest.split_once(':') {
            Some((path, name)) => (path, Some(name)),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(invalid("the path is empty"));
        }
        if name.is_some_and(str::is_empty) {
            return Err(invalid("the name after the path is empty"));
        }
        let path = PathBuf::from(path);
        let name = name.map(str::to_owned);
        match transport {
            "oci" => Ok(Source::Oci { dir: path, tag: name }),
            "docker-archive" => Ok(Source::DockerArchive { file: path, reference: name }),
            "layer" if name.is_none() => Ok(Source::Layer { file: path }),
            "layer" => Err(invalid("layer:FILE takes no tag (a path cannot contain ':')")),
            _ => Err(invalid(&format!(
                "unknown transport {transport:?}; expected oci, docker-archive, layer or docker://"
            ))),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = |f: &mut fmt::Formatter<'_>, t: &str, p: &PathBuf, n: &Option<String>| {
            write!(f, "{t}:{}", p.display())?;
            match n {
                Some(n) => write!(f, ":{n}"),
                None => Ok(()),
            }
        };
        match self {
            Source::Oci { dir, tag } => with(f, "oci", dir, tag),
            Source::DockerArchive { file, reference } => with(f, "docker-archive", file, reference),
            Source::Layer { file } => write!(f, "layer:{}", file.display()),
            Source::Docker { reference } => write!(f, "docker://{reference}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_transport() {
        let s = |x: &str| x.parse::<Source>().unwrap();
        assert_eq!(s("oci:/tmp/img"), Source::Oci { dir: "/tmp/img".into(), tag: None });
        assert_eq!(s("oci:img:v1.2"), Source::Oci { dir: "img".into(), tag: Some("v1.2".into()) });
        assert_eq!(
            s("docker-archive:a.tar"),
            Source::DockerArchive { file: "a.tar".into(), reference: None }
        );
        assert_eq!(
            s("docker-archive:a.tar:busybox:latest"),
            Source::DockerArchive { file: "a.tar".into(), reference: Some("busybox:latest".into()) }
        );
        assert_eq!(s("layer:blob.tgz"), Source::Layer { file: "blob.tgz".into() });
        for text in ["oci:img:v1", "layer:x", "docker-archive:a.tar:r:t"] {
            assert_eq!(s(text).to_string(), text);
        }
        let Source::Docker { reference } = s("docker://docker.io/library/nginx:1.25") else {
            panic!("not a docker source")
        };
        assert_eq!(reference.host(), None);
        assert_eq!(reference.to_string(), "library/nginx:1.25");
    }

    fn docker(text: &str) -> DockerReference {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn docker_references_normalise_like_the_docker_cli() {
        // (input, host, repository, target, display)
        let digest = format!("sha256:{}", "ab".repeat(32));
        let cases: Vec<(String, Option<&str>, &str, &str, String)> = vec![
            ("nginx".into(), None, "library/nginx", "latest", "library/nginx:latest".into()),
            ("nginx:1.25".into(), None, "library/nginx", "1.25", "library/nginx:1.25".into()),
            ("evil/miner".into(), None, "evil/miner", "latest", "evil/miner:latest".into()),
            ("index.docker.io/evil/miner:v1".into(), None, "evil/miner", "v1", "evil/miner:v1".into()),
            (
                "registry-1.docker.io/nginx".into(),
                None,
                "library/nginx",
                "latest",
                "library/nginx:latest".into(),
            ),
            (
                "127.0.0.1:5000/ns/app:2".into(),
                Some("127.0.0.1:5000"),
                "ns/app",
                "2",
                "127.0.0.1:5000/ns/app:2".into(),
            ),
            (
                "localhost/ns/app".into(),
                Some("localhost"),
                "ns/app",
                "latest",
                "localhost/ns/app:latest".into(),
            ),
            ("ghcr.io/org/app:1".into(), Some("ghcr.io"), "org/app", "1", "ghcr.io/org/app:1".into()),
            (
                "[::1]:5000/ns/app".into(),
                Some("[::1]:5000"),
                "ns/app",
                "latest",
                "[::1]:5000/ns/app:latest".into(),
            ),
            (format!("ns/app@{digest}"), None, "ns/app", digest.as_str(), format!("ns/app@{digest}")),
            (
                format!("host.example:443/ns/app@{digest}"),
                Some("host.example:443"),
                "ns/app",
                digest.as_str(),
                format!("host.example:443/ns/app@{digest}"),
            ),
        ];
        for (input, host, repository, target, display) in cases {
            let r = docker(&input);
            assert_eq!(r.host(), host, "{input}");
            assert_eq!(r.repository().to_string(), repository, "{input}");
            assert_eq!(r.target().as_str(), target, "{input}");
            assert_eq!(r.to_string(), display, "{input}");
            assert_eq!(docker(&display), r, "{input}: the display parses back");
            let source: Source = format!("docker://{input}").parse().unwrap();
            assert_eq!(source.to_string(), format!("docker://{display}"));
        }
        assert!(matches!(docker(&format!("a/b@{digest}")).target(), DockerTarget::Digest(_)));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (text, loopback) in [
            ("127.0.0.1:5000/a/b", true),
            ("127.9.9.9/a/b", true),
            ("localhost:5000/a/b", true),
            ("[::1]:5000/a/b", true),
            ("10.0.0.1:5000/a/b", false),
            ("registry.example/a/b", false),
            ("a/b", false),
        ] {
            assert_eq!(docker(text).is_loopback(), loopback, "{text}");
        }
    }

    #[test]
    fn docker_references_that_would_be_guessed_are_refused() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        for (bad, why) in [
            ("", "expected docker://"),
            ("a b", "expected docker://"),
            ("a/b/c", "Docker Hub repositories are NAME or NAMESPACE/NAME"),
            ("localhost:5000/app", "1 path segments"),
            ("ghcr.io/a/b/c", "3 path segments"),
            ("Nginx", "not a valid path component"),
            ("ns/App", "not a valid path component"),
            ("ns/app:", "not a valid tag"),
            ("ns/app:-x", "not a valid tag"),
            ("ns/app@sha256:abc", "expected 64 hex digits"),
            ("host:99999/a/b", "not a valid registry host"),
            ("bad_host.io/a/b", "not a valid registry host"),
            ("[zz]:1/a/b", "not a valid registry host"),
        ] {
            let err = bad.parse::<DockerReference>().expect_err(bad).to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let both = format!("ns/app:v1@{digest}");
        assert!(both.parse::<DockerReference>().unwrap_err().to_string().contains("not both"));
    }

    #[test]
    fn rejects_what_would_be_guessed() {
        for bad in ["/tmp/img", "oci:", "oci:dir:", "layer:a:b", "zip:x", "docker://", "docker://a b"] {
            assert!(bad.parse::<Source>().is_err(), "{bad} should not parse");
        }
    }
}
