//! Image source strings, skopeo-style: `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`,
//! `layer:FILE`, `docker://REF`.
//!
//! As in containers/image, the part after the transport is split at its first `:`, so a path
//! cannot contain one; this keeps `oci:DIR:TAG` unambiguous without guessing which colon is
//! whose.

use std::{fmt, path::PathBuf, str::FromStr};

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
    /// An image in a registry (`[HOST/]NS/REPO[:TAG|@DIGEST]`): parsed, but scanning it needs
    /// the registry client (issue #5).
    Docker {
        /// The reference after `docker://`.
        reference: String,
    },
}

impl FromStr for Source {
    type Err = ImageError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid =
            |reason: &str| ImageError::InvalidSource { input: input.to_owned(), reason: reason.to_owned() };
        if let Some(reference) = input.strip_prefix("docker://") {
            if reference.is_empty() || reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid("expected docker://[HOST/]NS/REPO[:TAG|@DIGEST]"));
            }
            return Ok(Source::Docker { reference: reference.to_owned() });
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
        assert_eq!(
            s("docker://docker.io/library/nginx:1.25"),
            Source::Docker { reference: "docker.io/library/nginx:1.25".into() }
        );
        for text in ["oci:img:v1", "layer:x", "docker-archive:a.tar:r:t", "docker://nginx"] {
            assert_eq!(s(text).to_string(), text);
        }
    }

    #[test]
    fn rejects_what_would_be_guessed() {
        for bad in ["/tmp/img", "oci:", "oci:dir:", "layer:a:b", "zip:x", "docker://", "docker://a b"] {
            assert!(bad.parse::<Source>().is_err(), "{bad} should not parse");
        }
    }
}
