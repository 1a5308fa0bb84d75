//! A handful of base images whose layers most images share, as on the real Hub.
//!
//! Docker Hub's storage is dominated by a few base layers (Debian, Ubuntu, Alpine, and the
//! language images built on them) shared by millions of images; a census that scans each unique
//! layer once depends on that sharing. Here five bases are built from six layer kinds, per
//! architecture, lazily and once per simulator: file trees modelled on the distributions
//! (ELF binaries under /usr/bin with their libraries, /usr/share/doc copyright files and
//! changelogs, /etc, dpkg/apk databases, Python site-packages, npm). Nothing in them is
//! malicious — clean images must stay clean in the ground truth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::files::{Entry, Layer, Packing, build_layer, elf, gz, js_source, prose, python_source};
use crate::rng::Rng;

/// A base image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Base {
    Debian,
    Ubuntu,
    Alpine,
    Python,
    Node,
}

/// A shared base layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BaseLayer {
    DebianRoot,
    UbuntuRoot,
    AlpineRoot,
    PythonRuntime,
    PythonPackages,
    NodeRuntime,
}

impl Base {
    pub(crate) fn layers(self) -> &'static [BaseLayer] {
        match self {
            Base::Debian => &[BaseLayer::DebianRoot],
            Base::Ubuntu => &[BaseLayer::UbuntuRoot],
            Base::Alpine => &[BaseLayer::AlpineRoot],
            Base::Python => &[BaseLayer::DebianRoot, BaseLayer::PythonRuntime, BaseLayer::PythonPackages],
            Base::Node => &[BaseLayer::DebianRoot, BaseLayer::NodeRuntime],
        }
    }

    /// The `FROM` name, for labels and history.
    pub(crate) fn image_name(self) -> &'static str {
        match self {
            Base::Debian => "debian:bookworm-slim",
            Base::Ubuntu => "ubuntu:24.04",
            Base::Alpine => "alpine:3.20",
            Base::Python => "python:3.12-slim",
            Base::Node => "node:20-bookworm-slim",
        }
    }

    /// Environment the base sets.
    pub(crate) fn env(self) -> Vec<String> {
        let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string();
        match self {
            Base::Python => vec![path, "LANG=C.UTF-8".into(), "PYTHON_VERSION=3.12.7".into()],
            Base::Node => vec![path, "NODE_VERSION=20.18.0".into(), "YARN_VERSION=1.22.22".into()],
            _ => vec![path],
        }
    }

    /// History lines of the base (created_by, empty_layer).
    pub(crate) fn history(self) -> Vec<(String, bool)> {
        let add = |h: &str| (format!("/bin/sh -c #(nop) ADD file:{h} in / "), false);
        let mut out = match self {
            Base::Debian | Base::Python | Base::Node => {
                vec![
                    add("b4f8a1e4f1c25c2a51d0e94c2d1d4dfa7a1eb4c7f3b0a4d2b1c92f7d1e0a3b55"),
                    ("/bin/sh -c #(nop)  CMD [\"bash\"]".into(), true),
                ]
            }
            Base::Ubuntu => vec![
                ("/bin/sh -c #(nop)  ARG RELEASE".into(), true),
                ("/bin/sh -c #(nop)  LABEL org.opencontainers.image.ref.name=ubuntu".into(), true),
                add("9d8a15341d364d2508ffca0657b4cb175a35d2edbdb0cf2476f7c4fff4f6c66a"),
                ("/bin/sh -c #(nop)  CMD [\"/bin/bash\"]".into(), true),
            ],
            Base::Alpine => vec![
                add("c1e9d5e6f8a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8"),
                ("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]".into(), true),
            ],
        };
        match self {
            Base::Python => {
                out.push((
                    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                        .into(),
                    true,
                ));
                out.push(("ENV PYTHON_VERSION=3.12.7".into(), true));
                out.push(("RUN /bin/sh -c set -eux; savedAptMark=\"$(apt-mark showmanual)\"; ./configure --enable-optimizations --with-lto; make -j \"$nproc\"; make install # buildkit".into(), false));
                out.push(("RUN /bin/sh -c set -eux; python3 -m pip install --no-cache-dir setuptools wheel # buildkit".into(), false));
                out.push(("CMD [\"python3\"]".into(), true));
            }
            Base::Node => {
                out.push(("ENV NODE_VERSION=20.18.0".into(), true));
                out.push(("RUN /bin/sh -c set -ex; ARCH=; dpkgArch=\"$(dpkg --print-architecture)\"; tar -xJf \"node-v$NODE_VERSION-linux-$ARCH.tar.xz\" -C /usr/local --strip-components=1 --no-same-owner # buildkit".into(), false));
                out.push(("CMD [\"node\"]".into(), true));
            }
            _ => {}
        }
        out
    }
}

const DEBIAN_BINS: &[&str] = &[
    "bash",
    "cat",
    "chmod",
    "chown",
    "cp",
    "date",
    "dd",
    "df",
    "dir",
    "echo",
    "false",
    "grep",
    "gzip",
    "hostname",
    "ln",
    "ls",
    "mkdir",
    "mknod",
    "mktemp",
    "more",
    "mount",
    "mv",
    "pwd",
    "readlink",
    "rm",
    "rmdir",
    "sed",
    "sleep",
    "stty",
    "su",
    "sync",
    "tar",
    "touch",
    "true",
    "umount",
    "uname",
    "apt",
    "apt-get",
    "apt-cache",
    "dpkg",
    "dpkg-query",
    "find",
    "xargs",
    "awk",
    "head",
    "tail",
    "sort",
    "uniq",
    "wc",
    "tr",
    "cut",
    "env",
    "id",
    "tee",
    "test",
    "sha256sum",
    "md5sum",
    "base64",
    "nproc",
    "stat",
    "du",
    "install",
    "getent",
    "login",
    "passwd",
];
const DEBIAN_PKGS: &[&str] = &[
    "base-files",
    "base-passwd",
    "bash",
    "bsdutils",
    "coreutils",
    "dash",
    "debconf",
    "debian-archive-keyring",
    "debianutils",
    "diffutils",
    "dpkg",
    "e2fsprogs",
    "findutils",
    "gcc-12-base",
    "gpgv",
    "grep",
    "gzip",
    "hostname",
    "init-system-helpers",
    "libacl1",
    "libapt-pkg6.0",
    "libattr1",
    "libaudit1",
    "libblkid1",
    "libbz2-1.0",
    "libc-bin",
    "libc6",
    "libcap-ng0",
    "libcap2",
    "libcom-err2",
    "libcrypt1",
    "libdb5.3",
    "libgcc-s1",
    "libgmp10",
    "liblz4-1",
    "liblzma5",
    "libmd0",
    "libpam0g",
    "libpcre2-8-0",
    "libselinux1",
    "libssl3",
    "libstdc++6",
    "libsystemd0",
    "libtinfo6",
    "libudev1",
    "libzstd1",
    "login",
    "mawk",
    "mount",
    "ncurses-base",
    "passwd",
    "perl-base",
    "sed",
    "sysvinit-utils",
    "tar",
    "tzdata",
    "util-linux",
    "zlib1g",
];
const DEBIAN_LIBS: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "libz.so.1.2.13",
    "libssl.so.3",
    "libcrypto.so.3",
    "libzstd.so.1.5.4",
    "liblzma.so.5.4.1",
    "libstdc++.so.6.0.30",
    "libgcc_s.so.1",
    "libselinux.so.1",
];

const GPL_HEADER: &str = "This program is free software; you can redistribute it and/or modify\nit under the terms of the GNU General Public License as published by\nthe Free Software Foundation; either version 2 of the License, or\n(at your option) any later version.\n\nOn Debian systems, the complete text of the GNU General Public\nLicense version 2 can be found in `/usr/share/common-licenses/GPL-2'.\n";

fn lib_dir(arch: &str) -> &'static str {
    match arch {
        "arm64" => "usr/lib/aarch64-linux-gnu",
        "arm" => "usr/lib/arm-linux-gnueabihf",
        "ppc64le" => "usr/lib/powerpc64le-linux-gnu",
        "s390x" => "usr/lib/s390x-linux-gnu",
        "386" => "usr/lib/i386-linux-gnu",
        "riscv64" => "usr/lib/riscv64-linux-gnu",
        _ => "usr/lib/x86_64-linux-gnu",
    }
}

fn dirs(list: &[&str]) -> Vec<Entry> {
    list.iter().map(|d| Entry::Dir((*d).to_string())).collect()
}

fn debian_like(rng: &mut Rng, arch: &str, ubuntu: bool) -> Vec<Entry> {
    let lib = lib_dir(arch);
    let mut e = dirs(&[
        "etc",
        "etc/apt",
        "etc/apt/sources.list.d",
        "root",
        "tmp",
        "usr",
        "usr/bin",
        "usr/sbin",
        "usr/lib",
        lib,
        "usr/share",
        "usr/share/doc",
        "var",
        "var/lib",
        "var/lib/dpkg",
        "home",
    ]);
    e.push(Entry::Symlink { path: "bin".into(), target: "usr/bin".into() });
    e.push(Entry::Symlink { path: "lib".into(), target: "usr/lib".into() });
    e.push(Entry::Symlink { path: "sbin".into(), target: "usr/sbin".into() });
    let (name, version, codename) = if ubuntu {
        ("Ubuntu", "24.04.1 LTS (Noble Numbat)", "noble")
    } else {
        ("Debian GNU/Linux", "12 (bookworm)", "bookworm")
    };
    e.push(Entry::file(
        "etc/os-release",
        format!("PRETTY_NAME=\"{name} {version}\"\nNAME=\"{name}\"\nVERSION=\"{version}\"\nVERSION_CODENAME={codename}\nID={}\nHOME_URL=\"https://www.{}.org/\"\n", if ubuntu { "ubuntu" } else { "debian" }, if ubuntu { "ubuntu" } else { "debian" }),
        0o644,
    ));
    if !ubuntu {
        e.push(Entry::file("etc/debian_version", "12.7\n", 0o644));
    }
    e.push(Entry::file("etc/hostname", "localhost\n", 0o644));
    e.push(Entry::file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644));
    e.push(Entry::file(
        "etc/group",
        "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\nnogroup:x:65534:\n",
        0o644,
    ));
    e.push(Entry::file(
        "etc/apt/sources.list.d/debian.sources",
        format!("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: {codename} {codename}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"),
        0o644,
    ));
    e.push(Entry::file("etc/bash.bashrc", "# System-wide .bashrc file for interactive bash(1) shells.\n[ -z \"$PS1\" ] && return\nshopt -s checkwinsize\n", 0o644));
    for b in DEBIAN_BINS {
        let size = rng.range(2_000, 12_000) as usize;
        let data = elf(rng, arch, size, &[b, "Usage: %s [OPTION]... [FILE]...", "--help", "--version"]);
        e.push(Entry::file(format!("usr/bin/{b}"), data, 0o755));
    }
    for l in DEBIAN_LIBS {
        let size = rng.range(10_000, 48_000) as usize;
        e.push(Entry::file(format!("{lib}/{l}"), elf(rng, arch, size, &[l]), 0o644));
    }
    let mut status = String::new();
    for p in DEBIAN_PKGS {
        e.push(Entry::Dir(format!("usr/share/doc/{p}")));
        e.push(Entry::file(
            format!("usr/share/doc/{p}/copyright"),
            format!("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: {p}\n\nFiles: *\nCopyright: 1996-2023 The {p} authors\nLicense: GPL-2+\n{GPL_HEADER}"),
            0o644,
        ));
        let log = format!(
            "{p} ({}.{}-{}) {codename}; urgency=medium\n\n  * {}\n -- Debian Maintainers <debian-devel@lists.debian.org>  Mon, 05 Feb 2024 10:00:00 +0000\n",
            rng.range(1, 9),
            rng.range(0, 40),
            rng.range(1, 5),
            prose(rng, 3)
        );
        e.push(Entry::file(format!("usr/share/doc/{p}/changelog.Debian.gz"), gz(log.as_bytes()), 0o644));
        status.push_str(&format!(
            "Package: {p}\nStatus: install ok installed\nPriority: required\nSection: libs\nInstalled-Size: {}\nMaintainer: Debian Maintainers <debian-devel@lists.debian.org>\nArchitecture: {}\nVersion: {}.{}-{}\nDescription: {}\n\n",
            rng.range(20, 5000),
            if arch == "amd64" { "amd64" } else { arch },
            rng.range(1, 9),
            rng.range(0, 40),
            rng.range(1, 5),
            prose(rng, 1).trim_end()
        ));
    }
    e.push(Entry::file("var/lib/dpkg/status", status, 0o644));
    e
}

fn alpine(rng: &mut Rng, arch: &str) -> Vec<Entry> {
    let mut e = dirs(&[
        "bin",
        "etc",
        "etc/apk",
        "lib",
        "usr",
        "usr/bin",
        "usr/share",
        "usr/share/apk",
        "usr/share/apk/keys",
        "var",
        "var/cache",
        "root",
        "tmp",
        "lib/apk",
        "lib/apk/db",
    ]);
    e.push(Entry::file(
        "bin/busybox",
        elf(rng, arch, 240_000, &["BusyBox v1.36.1 (2024-06-10 07:11:47 UTC)", "busybox"]),
        0o755,
    ));
    for applet in
        ["sh", "ls", "cat", "cp", "mv", "rm", "mkdir", "grep", "sed", "tar", "gzip", "wget", "vi", "ps"]
    {
        e.push(Entry::Symlink { path: format!("bin/{applet}"), target: "/bin/busybox".into() });
    }
    e.push(Entry::file(
        format!("lib/ld-musl-{}.so.1", if arch == "arm64" { "aarch64" } else { "x86_64" }),
        elf(rng, arch, 160_000, &["musl libc"]),
        0o755,
    ));
    e.push(Entry::file("etc/alpine-release", "3.20.3\n", 0o644));
    e.push(Entry::file("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\nHOME_URL=\"https://alpinelinux.org/\"\n", 0o644));
    e.push(Entry::file("etc/apk/repositories", "https://dl-cdn.alpinelinux.org/alpine/v3.20/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.20/community\n", 0o644));
    let mut installed = String::new();
    for p in [
        "alpine-baselayout",
        "alpine-keys",
        "apk-tools",
        "busybox",
        "ca-certificates-bundle",
        "libcrypto3",
        "libssl3",
        "musl",
        "musl-utils",
        "scanelf",
        "ssl_client",
        "zlib",
    ] {
        installed.push_str(&format!(
            "P:{p}\nV:{}.{}.{}-r0\nA:x86_64\nS:{}\nT:{}\n\n",
            rng.range(1, 3),
            rng.range(0, 40),
            rng.range(0, 9),
            rng.range(5_000, 900_000),
            prose(rng, 1).trim_end()
        ));
    }
    e.push(Entry::file("lib/apk/db/installed", installed, 0o644));
    e
}

fn python_runtime(rng: &mut Rng, arch: &str) -> Vec<Entry> {
    let mut e = dirs(&[
        "usr/local",
        "usr/local/bin",
        "usr/local/lib",
        "usr/local/lib/python3.12",
        "usr/local/lib/python3.12/json",
        "usr/local/lib/python3.12/email",
        "usr/local/lib/python3.12/http",
    ]);
    e.push(Entry::file(
        "usr/local/bin/python3.12",
        elf(rng, arch, 90_000, &["Python 3.12.7", "PYTHONHOME", "python3.12"]),
        0o755,
    ));
    e.push(Entry::Symlink { path: "usr/local/bin/python3".into(), target: "python3.12".into() });
    e.push(Entry::file(
        "usr/local/lib/libpython3.12.so.1.0",
        elf(rng, arch, 200_000, &["Py_Initialize", "PyUnicode_FromString"]),
        0o755,
    ));
    for (dir, mods) in [
        (
            "usr/local/lib/python3.12",
            &[
                "os", "re", "abc", "ast", "copy", "enum", "glob", "gzip", "shutil", "socket", "string",
                "tarfile", "typing", "uuid", "zipfile", "random", "pathlib", "logging_", "argparse",
                "datetime",
            ][..],
        ),
        ("usr/local/lib/python3.12/json", &["__init__", "decoder", "encoder", "scanner", "tool"][..]),
        (
            "usr/local/lib/python3.12/email",
            &["__init__", "message", "parser", "utils", "header", "charset"][..],
        ),
        ("usr/local/lib/python3.12/http", &["__init__", "client", "server", "cookies"][..]),
    ] {
        for m in mods {
            e.push(Entry::file(
                format!("{dir}/{m}.py"),
                python_source(rng, m.trim_start_matches('_')),
                0o644,
            ));
        }
    }
    e
}

fn python_packages(rng: &mut Rng) -> Vec<Entry> {
    let sp = "usr/local/lib/python3.12/site-packages";
    let mut e = dirs(&[sp]);
    for (pkg, mods) in [
        ("pip", &["__init__", "__main__", "_internal", "req", "index", "cache", "download"][..]),
        ("setuptools", &["__init__", "build_meta", "dist", "extension", "installer", "monkey"][..]),
        ("wheel", &["__init__", "bdist_wheel", "metadata", "util"][..]),
    ] {
        e.push(Entry::Dir(format!("{sp}/{pkg}")));
        for m in mods {
            e.push(Entry::file(
                format!("{sp}/{pkg}/{m}.py"),
                python_source(rng, m.trim_start_matches('_')),
                0o644,
            ));
        }
        e.push(Entry::Dir(format!("{sp}/{pkg}-24.2.dist-info")));
        e.push(Entry::file(
            format!("{sp}/{pkg}-24.2.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {pkg}\nVersion: 24.2\nSummary: {}", prose(rng, 1)),
            0o644,
        ));
    }
    e
}

fn node_runtime(rng: &mut Rng, arch: &str) -> Vec<Entry> {
    let mut e = dirs(&[
        "usr/local",
        "usr/local/bin",
        "usr/local/lib",
        "usr/local/lib/node_modules",
        "usr/local/lib/node_modules/npm",
        "usr/local/lib/node_modules/npm/lib",
    ]);
    e.push(Entry::file(
        "usr/local/bin/node",
        elf(rng, arch, 260_000, &["node", "v20.18.0", "V8 version"]),
        0o755,
    ));
    e.push(Entry::Symlink {
        path: "usr/local/bin/npm".into(),
        target: "../lib/node_modules/npm/bin/npm-cli.js".into(),
    });
    for m in [
        "npm",
        "cli",
        "config",
        "install",
        "ci",
        "publish",
        "exec",
        "cache",
        "fetch",
        "audit",
        "pack",
        "run-script",
        "utils",
        "log",
        "shrinkwrap",
    ] {
        e.push(Entry::file(
            format!("usr/local/lib/node_modules/npm/lib/{m}.js"),
            js_source(rng, &m.replace('-', "_")),
            0o644,
        ));
    }
    e.push(Entry::file(
        "usr/local/lib/node_modules/npm/package.json",
        "{\n  \"name\": \"npm\",\n  \"version\": \"10.8.2\",\n  \"license\": \"Artistic-2.0\"\n}\n",
        0o644,
    ));
    e
}

type LayerCell = Arc<OnceLock<Arc<Layer>>>;
type SharedMap = Mutex<HashMap<(u64, i64), Arc<BaseLayers>>>;

/// Lazily built, shared base layers (one per kind and architecture).
#[derive(Debug)]
pub(crate) struct BaseLayers {
    seed: u64,
    built: i64,
    cells: Mutex<HashMap<(BaseLayer, String), LayerCell>>,
}

/// Base layers are a pure function of `(seed, anchor)`: simulators in one process (tests start
/// many) share them instead of each generating and compressing the same megabytes.
static SHARED: OnceLock<SharedMap> = OnceLock::new();

impl BaseLayers {
    pub(crate) fn new(seed: u64, anchor: i64) -> Self {
        Self { seed, built: anchor - 400 * 86_400, cells: Mutex::new(HashMap::new()) }
    }

    /// The process-wide base layers for `(seed, anchor)` (at most a few populations per process).
    pub(crate) fn shared(seed: u64, anchor: i64) -> Arc<Self> {
        let map = SHARED.get_or_init(Mutex::default);
        let mut map = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 8 {
            map.clear();
        }
        map.entry((seed, anchor)).or_insert_with(|| Arc::new(Self::new(seed, anchor))).clone()
    }

    /// The layer of `kind` for `arch`, built on first use.
    pub(crate) fn get(&self, kind: BaseLayer, arch: &str) -> Arc<Layer> {
        let cell = {
            let mut map = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry((kind, arch.to_string())).or_default().clone()
        };
        cell.get_or_init(|| {
            let mut rng = Rng::new(self.seed, "base", kind as u64).fork(arch, 0);
            let entries = match kind {
                BaseLayer::DebianRoot => debian_like(&mut rng, arch, false),
                BaseLayer::UbuntuRoot => debian_like(&mut rng, arch, true),
                BaseLayer::AlpineRoot => alpine(&mut rng, arch),
                BaseLayer::PythonRuntime => python_runtime(&mut rng, arch),
                BaseLayer::PythonPackages => python_packages(&mut rng),
                BaseLayer::NodeRuntime => node_runtime(&mut rng, arch),
            };
            Arc::new(build_layer(&entries, self.built + kind as i64 * 3_600, Packing::Gzip, 1))
        })
        .clone()
    }
}
