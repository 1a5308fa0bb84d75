//! Lays a downloaded package out as an image layer holds it, as an uncompressed tar in memory.
//!
//! The point of the corpus is that the scanner sees what it sees in real images, so each
//! ecosystem is placed where images put it:
//! - a wheel is unpacked into both trees Python images use: the official `python` images'
//!   `usr/local/lib/python3.11/site-packages` and Debian's pip target
//!   `usr/local/lib/python3.11/dist-packages`;
//! - an `npm pack` tarball goes under `app/node_modules/NAME` (its `package/` folder stripped),
//!   as `npm install` in a `WORKDIR /app` leaves it;
//! - a `.deb`'s data goes under its real paths (read through `dpkg-deb --fsys-tarfile`), with
//!   the package's stanza in `var/lib/dpkg/status`. Packages whose maintainer scripts generate
//!   keys at install time (`openssh-server`'s host keys, `ssl-cert`'s snakeoil key) also get
//!   freshly generated keys of the same kind at the same paths, made by the same tools
//!   (`ssh-keygen`, `openssl`): that is what an image built with `apt-get install` carries, and
//!   every puller of such an image gets the same private key.
//!
//! Nothing here executes package content: wheels and tarballs are read as archives, and the
//! `.deb` is unpacked by dpkg-deb into a pipe, never onto disk.

use std::{
    collections::HashSet,
    io::Read,
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use tar::{Builder, EntryType, Header};

use crate::corpus::{Ecosystem, Package};

/// The Python trees a wheel is unpacked into.
const PYTHON_TREES: [&str; 2] =
    ["usr/local/lib/python3.11/site-packages", "usr/local/lib/python3.11/dist-packages"];

/// The layer of one package: an uncompressed tar.
pub(crate) fn layer(package: &Package) -> anyhow::Result<Vec<u8>> {
    let mut tar = Layer { tar: Builder::new(Vec::new()), dirs: HashSet::new() };
    match package.ecosystem {
        Ecosystem::Pypi => wheel(&package.file, &mut tar),
        Ecosystem::Npm => npm(&package.file, &package.name, &mut tar),
        Ecosystem::Debian => deb(&package.file, &package.name, &mut tar),
    }
    .with_context(|| {
        format!("assembling {} {} from {}", package.ecosystem, package.name, package.file.display())
    })?;
    Ok(tar.tar.into_inner()?)
}

/// A layer being written: like `docker build`, it holds an entry for every directory above a
/// file (wheels and npm tarballs list files only), so rules see directories as images show them.
struct Layer {
    tar: Builder<Vec<u8>>,
    dirs: HashSet<String>,
}

impl Layer {
    fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> anyhow::Result<()> {
        self.parents(path)?;
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        self.tar.append_data(&mut header, path, data)?;
        Ok(())
    }

    fn link(&mut self, path: &str, kind: EntryType, mode: u32, target: &Path) -> anyhow::Result<()> {
        self.parents(path)?;
        let mut header = Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(0);
        self.tar.append_link(&mut header, path, target)?;
        Ok(())
    }

    fn dir(&mut self, path: &str, mode: u32) -> anyhow::Result<()> {
        let path = path.trim_end_matches('/');
        if path.is_empty() || !self.dirs.insert(path.to_owned()) {
            return Ok(());
        }
        self.parents(path)?;
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Directory);
        header.set_mode(mode);
        header.set_size(0);
        self.tar.append_data(&mut header, format!("{path}/"), std::io::empty())?;
        Ok(())
    }

    fn parents(&mut self, path: &str) -> anyhow::Result<()> {
        match path.rsplit_once('/') {
            Some((parent, _)) if !self.dirs.contains(parent) => self.dir(parent, 0o755),
            _ => Ok(()),
        }
    }
}

fn wheel(file: &Path, tar: &mut Layer) -> anyhow::Result<()> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file)?)?;
    for i in 0..zip.len() {
        let mut member = zip.by_index(i)?;
        if member.is_dir() {
            continue;
        }
        let Some(name) = member.enclosed_name() else {
            bail!("wheel member {:?} escapes the archive", member.name());
        };
        let name = name.to_string_lossy().into_owned();
        let mode = member.unix_mode().map_or(0o644, |m| m & 0o7777);
        let mut data = Vec::with_capacity(usize::try_from(member.size()).unwrap_or(0));
        member.read_to_end(&mut data)?;
        for tree in PYTHON_TREES {
            tar.file(&format!("{tree}/{name}"), mode, &data)?;
        }
    }
    Ok(())
}

fn npm(file: &Path, name: &str, tar: &mut Layer) -> anyhow::Result<()> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(file)?);
    let mut archive = tar::Archive::new(gz);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        // `npm pack` puts everything under one top folder, usually `package/`.
        let inner: std::path::PathBuf = path.components().skip(1).collect();
        if inner.as_os_str().is_empty() {
            continue;
        }
        let dest = format!("app/node_modules/{name}/{}", inner.to_string_lossy());
        copy_entry(tar, &mut entry, &dest)?;
    }
    Ok(())
}

fn deb(file: &Path, name: &str, tar: &mut Layer) -> anyhow::Result<()> {
    let mut child = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()
        .context("running dpkg-deb (Debian's dpkg)")?;
    let stdout = child.stdout.take().context("dpkg-deb's stdout")?;
    let mut archive = tar::Archive::new(stdout);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().trim_start_matches("./").to_owned();
        if path.is_empty() {
            continue;
        }
        copy_entry(tar, &mut entry, &path)?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("dpkg-deb --fsys-tarfile exited with {status}");
    }

    let control = Command::new("dpkg-deb").arg("--field").arg(file).output()?;
    if !control.status.success() {
        bail!("dpkg-deb --field exited with {}", control.status);
    }
    let stanza = dpkg_status_stanza(&String::from_utf8_lossy(&control.stdout));
    tar.file("var/lib/dpkg/status", 0o644, stanza.as_bytes())?;

    for (path, mode, data) in install_time_files(name)? {
        tar.file(&path, mode, &data)?;
    }
    Ok(())
}

/// The package's `var/lib/dpkg/status` stanza: its control fields with `Status` after
/// `Package`, as dpkg writes it once the package is installed.
fn dpkg_status_stanza(control: &str) -> String {
    let mut out = String::with_capacity(control.len() + 32);
    for line in control.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("Package:") {
            out.push_str("Status: install ok installed\n");
        }
    }
    out
}

/// Files a package's maintainer scripts create at install time that matter to a scanner:
/// private keys generated into the image.
fn install_time_files(package: &str) -> anyhow::Result<Vec<(String, u32, Vec<u8>)>> {
    let dir = tempfile::tempdir()?;
    let mut out = Vec::new();
    match package {
        // openssh-server's postinst: `ssh-keygen -A` (rsa, ecdsa, ed25519).
        "openssh-server" => {
            for kind in ["rsa", "ecdsa", "ed25519"] {
                let key = dir.path().join(format!("ssh_host_{kind}_key"));
                run(Command::new("ssh-keygen")
                    .args(["-q", "-N", "", "-t", kind, "-C", "root@buildkitsandbox", "-f"])
                    .arg(&key))?;
                out.push((format!("etc/ssh/ssh_host_{kind}_key"), 0o600, std::fs::read(&key)?));
                let public = key.with_extension("pub");
                out.push((format!("etc/ssh/ssh_host_{kind}_key.pub"), 0o644, std::fs::read(public)?));
            }
        }
        // ssl-cert's postinst: `make-ssl-cert generate-default-snakeoil`, an RSA key and a
        // self-signed certificate for the host name.
        "ssl-cert" => {
            let key = dir.path().join("snakeoil.key");
            let cert = dir.path().join("snakeoil.pem");
            run(Command::new("openssl")
                .args([
                    "req",
                    "-new",
                    "-x509",
                    "-nodes",
                    "-newkey",
                    "rsa:2048",
                    "-days",
                    "3650",
                    "-subj",
                    "/CN=buildkitsandbox",
                    "-keyout",
                ])
                .arg(&key)
                .arg("-out")
                .arg(&cert))?;
            out.push(("etc/ssl/private/ssl-cert-snakeoil.key".to_owned(), 0o640, std::fs::read(&key)?));
            out.push(("etc/ssl/certs/ssl-cert-snakeoil.pem".to_owned(), 0o644, std::fs::read(&cert)?));
        }
        _ => {}
    }
    Ok(out)
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.stdin(Stdio::null()).output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Copies one tar entry to `dest`: regular files with their data, links and directories by
/// header alone; other types (devices, fifos) are dropped as no layer of a package has them.
fn copy_entry<R: Read>(tar: &mut Layer, entry: &mut tar::Entry<'_, R>, dest: &str) -> anyhow::Result<()> {
    let kind = entry.header().entry_type();
    let mode = entry.header().mode().unwrap_or(0o644);
    match kind {
        EntryType::Regular | EntryType::Continuous => {
            let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut data)?;
            tar.file(dest, mode, &data)
        }
        EntryType::Symlink | EntryType::Link => {
            let target = entry.link_name()?.map(|t| t.into_owned()).unwrap_or_default();
            // A hard link names a path of the same archive: strip `./` like the entries.
            let target = target.strip_prefix("./").unwrap_or(&target).to_owned();
            tar.link(dest, kind, mode, &target)
        }
        EntryType::Directory => tar.dir(dest, mode),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_stanza_marks_the_package_installed_after_its_name() {
        let stanza = dpkg_status_stanza("Package: tor\nVersion: 0.4.7\nArchitecture: amd64\n");
        assert_eq!(
            stanza,
            "Package: tor\nStatus: install ok installed\nVersion: 0.4.7\nArchitecture: amd64\n"
        );
    }
}
