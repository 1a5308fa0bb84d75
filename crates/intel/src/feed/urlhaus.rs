//! abuse.ch URLhaus CSV: `#`-comment header, then quoted rows
//! `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter`.
//!
//! Each row lists its URL (exact) and the URL's host or IP, dated by `dateadded`. A host on a
//! platform many unrelated users share (`github.com`, `raw.githubusercontent.com`,
//! `cdn.discordapp.com`, `drive.google.com`, ...) is **not** listed: URLhaus lists payloads
//! *hosted* there, and listing the host would flag every image that fetches anything from GitHub.
//! Those rows still list their exact URL.

use hubcensus_types::{Category, IndicatorKind};

use super::{Ctx, Sink, for_each_record, leading_date};
use crate::{
    host::{host_kind, registrable_of_normalised},
    url::{UrlHost, parse_url},
};

/// Registrable domains of shared hosting, file-sharing and code platforms (see module docs).
pub const SHARED_HOSTING_DOMAINS: &[&str] = &[
    "amazonaws.com",
    "archive.org",
    "bitbucket.org",
    "cloudfront.net",
    "discord.com",
    "discordapp.com",
    "discordapp.net",
    "dropbox.com",
    "dropboxusercontent.com",
    "gitee.com",
    "github.com",
    "githubusercontent.com",
    "gitlab.com",
    "google.com",
    "googleapis.com",
    "googleusercontent.com",
    "live.com",
    "mediafire.com",
    "pastebin.com",
    "sharepoint.com",
    "sourceforge.net",
    "windows.net",
];

/// Columns in a URLhaus row; `url` is the third.
const COLUMNS: usize = 9;

pub(super) fn parse(bytes: &[u8], ctx: &Ctx, sink: &mut Sink) {
    let category = ctx.default_category.unwrap_or(Category::MaliciousDomain);
    for_each_record(bytes, false, sink, |n, record, sink| {
        let field = |i: usize| record.get(i).map(String::from_utf8_lossy).unwrap_or_default();
        if record.len() < 3 {
            sink.skip(n, &format!("expected {COLUMNS} URLhaus columns, got {}", record.len()), &field(0));
            return;
        }
        let date = leading_date(&field(1)).or(ctx.default_date);
        let url_raw = field(2);
        let Some(url) = parse_url(url_raw.trim()) else {
            sink.skip(n, "unreadable URL", &url_raw);
            return;
        };
        sink.push(IndicatorKind::Url, url.normalised, category, date);
        match url.host {
            UrlHost::Ip(ip) => sink.push(IndicatorKind::Ip, ip.to_string(), category, date),
            UrlHost::Name(name) => {
                let shared =
                    registrable_of_normalised(&name).is_some_and(|d| SHARED_HOSTING_DOMAINS.contains(&d));
                if !shared && let Some((kind, _)) = host_kind(&name) {
                    sink.push(kind, name, category, date);
                }
            }
        }
    });
}
