//! Builders for test layers: tar entries (including names `tar::Builder` refuses), gzip,
//! zstd, zip, and streaming generators for archives too large to hold in memory.

use std::{
    io::{self, Cursor, Read, Write},
    sync::OnceLock,
};

use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
use hubcensus_layer::{LayerScan, Limits, Walker};
use hubcensus_rules::RuleSet;
use hubcensus_types::{Digest, Subject};

pub(crate) fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("built-in rules load"))
}

pub(crate) fn extractor() -> &'static IndicatorExtractor {
    static X: OnceLock<IndicatorExtractor> = OnceLock::new();
    X.get_or_init(|| IndicatorExtractor::new(ExtractLimits::default()))
}

pub(crate) fn walker(limits: Limits) -> Walker<'static> {
    Walker::new(rules(), extractor(), limits)
}

pub(crate) fn subject() -> Subject {
    Subject::Layer(Digest::sha256_of(b"test layer"))
}

pub(crate) fn scan(bytes: &[u8]) -> LayerScan {
    scan_with(bytes, Limits::default())
}

pub(crate) fn scan_with(bytes: &[u8], limits: Limits) -> LayerScan {
    walker(limits).scan_layer(bytes, subject())
}

/// (rule, path) of every finding, sorted.
pub(crate) fn hits(scan: &LayerScan) -> Vec<(String, String)> {
    let mut v: Vec<_> = scan.findings.iter().map(|f| (f.rule.clone(), f.path.clone())).collect();
    v.sort();
    v.dedup();
    v
}

pub(crate) fn has(scan: &LayerScan, rule: &str, path: &str) -> bool {
    scan.findings.iter().any(|f| f.rule == rule && f.path == path)
}

/// A tar archive built entry by entry. Names are written raw into the header, so `../`,
/// absolute and non-UTF-8 names are possible.
#[derive(Default)]
pub(crate) struct Tar {
    out: Vec<u8>,
}

impl Tar {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, name: &[u8], kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&[u8]>) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        if name.len() > 100 {
            // GNU long name: an 'L' entry holding the name, then the real header.
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::GNULongName);
            l.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
            l.set_size(name.len() as u64 + 1);
            l.set_cksum();
            self.out.extend_from_slice(l.as_bytes());
            let mut body = name.to_vec();
            body.push(0);
            pad(&mut body);
            self.out.extend_from_slice(&body);
            h.as_gnu_mut().unwrap().name[..100].copy_from_slice(&name[..100]);
        } else {
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        }
        if let Some(link) = link {
            h.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link);
        }
        h.set_cksum();
        self.out.extend_from_slice(h.as_bytes());
        let mut body = data.to_vec();
        pad(&mut body);
        self.out.extend_from_slice(&body);
    }

    pub(crate) fn file(mut self, name: &str, data: &[u8]) -> Self {
        self.push(name.as_bytes(), tar::EntryType::Regular, 0o644, data, None);
        self
    }

    pub(crate) fn exe(mut self, name: &str, data: &[u8]) -> Self {
        self.push(name.as_bytes(), tar::EntryType::Regular, 0o755, data, None);
        self
    }

    pub(crate) fn raw_file(mut self, name: &[u8], data: &[u8]) -> Self {
        self.push(name, tar::EntryType::Regular, 0o644, data, None);
        self
    }

    pub(crate) fn dir(mut self, name: &str) -> Self {
        self.push(name.as_bytes(), tar::EntryType::Directory, 0o755, b"", None);
        self
    }

    pub(crate) fn symlink(mut self, name: &str, target: &str) -> Self {
        self.push(name.as_bytes(), tar::EntryType::Symlink, 0o777, b"", Some(target.as_bytes()));
        self
    }

    pub(crate) fn hardlink(mut self, name: &str, target: &str) -> Self {
        self.push(name.as_bytes(), tar::EntryType::Link, 0o644, b"", Some(target.as_bytes()));
        self
    }

    pub(crate) fn device(mut self, name: &str) -> Self {
        self.push(name.as_bytes(), tar::EntryType::Char, 0o600, b"", None);
        self
    }

    /// A pax extended header giving the next entry's path.
    pub(crate) fn pax_path(mut self, path: &str) -> Self {
        let record = pax_record("path", path);
        self.push(b"PaxHeaders/x", tar::EntryType::XHeader, 0o644, &record, None);
        self
    }

    pub(crate) fn bytes(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0u8; 1024]);
        self.out
    }
}

fn pad(body: &mut Vec<u8>) {
    let rem = body.len() % 512;
    if rem != 0 {
        body.resize(body.len() + 512 - rem, 0);
    }
}

fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}").len() + body.len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(crate) fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

/// A zip of (name, data) members, deflated.
pub(crate) fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// An ELF-looking binary carrying XMRig's strings.
pub(crate) fn xmrig_elf() -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    b.extend_from_slice(&[0u8; 4096]);
    b.extend_from_slice(
        b"XMRig 6.21.0\0 --donate-level=N donate level\0 stratum+tcp://pool.minexmr.com:4444\0randomx\0",
    );
    b.extend_from_slice(&[0u8; 4096]);
    b
}

/// An XMRig `config.json` with a pool and a Keccak-valid Monero wallet.
pub(crate) const XMRIG_CONFIG: &[u8] = br#"{
    "autosave": true,
    "donate-level": 1,
    "cpu": {"enabled": true, "huge-pages": true, "max-threads-hint": 75},
    "pools": [{
        "algo": "rx/0",
        "url": "stratum+tcp://pool.supportxmr.com:443",
        "user": "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge",
        "pass": "x",
        "keepalive": true
    }]
}
"#;

/// An AWS access key id with its secret nearby, as found in a leaked credentials file.
pub(crate) const AWS_CREDENTIALS: &[u8] = b"[default]\naws_access_key_id = AKIAQ3EGRN5ZJ7XKXV4P\naws_secret_access_key = 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\n";

/// A tar header for one entry of `size` bytes, padded to a block.
pub(crate) fn header(name: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_mode(0o644);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// Zeros that pad a tar entry of `size` bytes to its 512-byte block.
pub(crate) fn padding(size: u64) -> Vec<u8> {
    vec![0; ((512 - size % 512) % 512) as usize]
}

/// `len` bytes of `byte`, made as they are read. (`io::repeat` fills byte by byte, which in
/// this unoptimised test build costs a second a GiB; `fill` is a `memset`.)
pub(crate) struct Fill {
    byte: u8,
    left: u64,
}

pub(crate) fn fill(byte: u8, len: u64) -> Fill {
    Fill { byte, left: len }
}

impl Read for Fill {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        buf[..n].fill(self.byte);
        self.left -= n as u64;
        Ok(n)
    }
}

/// A plain tar stream, generated as it is read: the entry `name` holding `size` bytes of
/// `byte`, then the entries of `after` (and its end marker).
pub(crate) fn big_entry_then(name: &str, size: u64, byte: u8, after: Tar) -> impl Read {
    Cursor::new(header(name, size))
        .chain(fill(byte, size))
        .chain(Cursor::new(padding(size)))
        .chain(Cursor::new(after.bytes()))
}

/// Feeds `data` to `encoder` a MiB at a time.
fn compress<W: Write>(mut data: impl Read, mut encoder: W) -> W {
    let mut buf = vec![0; 1 << 20];
    loop {
        match data.read(&mut buf).unwrap() {
            0 => return encoder,
            n => encoder.write_all(&buf[..n]).unwrap(),
        }
    }
}

/// `data` gzip-compressed as it streams past (default level, one member).
pub(crate) fn gzip_stream(data: impl Read) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    compress(data, encoder).finish().unwrap()
}

/// `data` zstd-compressed (level 3, one frame) as it streams past.
pub(crate) fn zstd_stream(data: impl Read) -> Vec<u8> {
    compress(data, zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap()).finish().unwrap()
}

/// A plain tar stream of `count` empty files, generated on the fly (never held in memory).
pub(crate) struct ManyEntries {
    next: u64,
    count: u64,
    block: [u8; 512],
    pos: usize,
    trailer: usize,
}

impl ManyEntries {
    pub(crate) fn new(count: u64) -> Self {
        Self { next: 0, count, block: [0; 512], pos: 512, trailer: 1024 }
    }
}

impl Read for ManyEntries {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == 512 {
            if self.next < self.count {
                let h = header(&format!("d{}/f{}", self.next / 1000, self.next), 0);
                self.block.copy_from_slice(&h);
                self.next += 1;
                self.pos = 0;
            } else if self.trailer > 0 {
                self.block = [0; 512];
                self.trailer -= 512;
                self.pos = 0;
            } else {
                return Ok(0);
            }
        }
        let n = buf.len().min(512 - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The peak resident set of this process, from /proc (Linux), in bytes.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs the ignored test `name` of this binary in a child process (so its peak RSS is its
/// own, not the sum of tests running beside it) and returns the child's stdout.
pub(crate) fn run_child(name: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
        .env("HUBCENSUS_LAYER_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child {name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Reads `KEY=value` from a child's output.
pub(crate) fn child_value(out: &str, key: &str) -> u64 {
    out.lines()
        .find_map(|l| l.split_once(&format!("{key}=")).map(|(_, v)| v))
        .unwrap_or_else(|| panic!("{key} missing in child output:\n{out}"))
        .trim()
        .parse()
        .unwrap()
}
