//! Real software for the test images: Debian packages and a Python site-packages tree,
//! fetched once by scripts/testdata/fetch.sh into target/cache (outside git) and reused.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
};

use crate::builder::TarBuilder;

/// The workspace root (crates/cli/../..).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs the fetch script (it downloads only what is missing, under a lock) and returns the
/// cache directory.
pub(crate) fn cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        let script = workspace_root().join("scripts/testdata/fetch.sh");
        let out = Command::new("bash").arg(&script).stderr(Stdio::inherit()).output().unwrap();
        assert!(out.status.success(), "{} failed: see its output above", script.display());
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// The cached .deb of `package`.
fn deb(package: &str) -> PathBuf {
    let dir = cache().join("debs");
    let prefix = format!("{package}_");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&prefix))
        .unwrap_or_else(|| panic!("{package} is not in {}", dir.display()))
}

/// Every package the fetch script downloaded.
pub(crate) fn all_packages() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache().join("debs"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".deb").and_then(|n| n.split('_').next()).map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// A Debian root file system layer (uncompressed tar) made of these packages' files, as
/// `dpkg-deb --fsys-tarfile` streams them.
pub(crate) fn debian_layer(packages: &[&str]) -> Vec<u8> {
    let mut tar = TarBuilder::new();
    for p in packages {
        let mut child = Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(deb(p))
            .stdout(Stdio::piped())
            .spawn()
            .expect("dpkg-deb (Debian's dpkg) is needed to unpack the test packages");
        tar.append_tar(child.stdout.take().unwrap());
        assert!(child.wait().unwrap().success(), "dpkg-deb --fsys-tarfile {p}");
    }
    tar.finish()
}

/// The Python site-packages tree (requests, cryptography, paramiko, boto3, urllib3) as a layer
/// under usr/local/lib/python3.11/site-packages.
pub(crate) fn site_packages_layer() -> Vec<u8> {
    let mut tar = TarBuilder::new();
    tar.append_tree(&cache().join("site-packages"), "usr/local/lib/python3.11/site-packages");
    tar.finish()
}
