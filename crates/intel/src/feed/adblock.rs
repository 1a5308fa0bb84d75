//! AdBlock-style filter lists (Adblock Plus, uBlock Origin, AdGuard DNS syntax), read as domain
//! lists: the many blocklists of malware, tracking, cryptojacking, phishing and dynamic-DNS hosts
//! that are published only in this syntax.
//!
//! Only *domain rules* list a domain: `||host^`, optionally with options that do not narrow
//! what is blocked (`$third-party`, `$important`, `$all`, resource types). Everything else is
//! not a listing of a domain and is handled by kind:
//!
//! * comments (`! ...`), the `[Adblock Plus 2.0]` header, element-hiding and scriptlet rules
//!   (`##`, `#@#`, `#?#`, `#$#`, `#%#`) and exceptions (`@@...`) are skipped silently: they are
//!   not domain listings by design, and a feed of entries cannot express "unlisted";
//! * URL patterns (`||host/path`, `/ads/*`, `|https://...`), regular expressions, wildcards
//!   and rules whose options narrow or change them (`$domain=`, `$denyallow=`, `$badfilter`,
//!   `$dnstype=`, `$removeparam`, ...) are reported as skipped lines, with the reason.

use hubcensus_types::Category;

use super::{Ctx, Sink, numbered_lines};

/// Options that leave a domain rule a plain listing of the domain: who loads it, how
/// important the rule is, and which resource types (also negated with `~`).
const NEUTRAL_OPTIONS: &[&str] = &[
    "third-party",
    "3p",
    "first-party",
    "1p",
    "strict-third-party",
    "strict3p",
    "strict-first-party",
    "strict1p",
    "important",
    "all",
    "document",
    "doc",
    "popup",
    "script",
    "image",
    "stylesheet",
    "css",
    "object",
    "subdocument",
    "frame",
    "xmlhttprequest",
    "xhr",
    "websocket",
    "webrtc",
    "media",
    "font",
    "ping",
    "other",
    "match-case",
];

/// Element-hiding, scriptlet and HTML-filtering separators.
const COSMETIC: &[&str] = &["##", "#@#", "#?#", "#@?#", "#$#", "#@$#", "#%#", "#@%#", "$$", "$@$"];

pub(super) fn parse(bytes: &[u8], ctx: &Ctx, sink: &mut Sink) {
    let category = ctx.default_category.unwrap_or(Category::MaliciousDomain);
    for (n, line) in numbered_lines(bytes) {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('!')
            || line.starts_with('#')
            || is_header(line)
            || line.starts_with("@@")
            || COSMETIC.iter().any(|c| line.contains(c))
        {
            continue;
        }
        match domain_rule(line) {
            Ok(host) => sink.push_value(n, host, category, ctx.default_date),
            Err(reason) => sink.skip(n, reason, line),
        }
    }
}

/// `[Adblock Plus 2.0]`, `[uBlock Origin]`, `[AdGuard]`: the list's syntax header.
pub(super) fn is_header(line: &str) -> bool {
    line.starts_with('[') && line.ends_with(']') && {
        let l = line.to_ascii_lowercase();
        l.contains("adblock") || l.contains("ublock") || l.contains("adguard")
    }
}

/// The host a domain rule lists, or why the line is not one.
fn domain_rule(line: &str) -> Result<&str, &'static str> {
    let Some(rest) = line.strip_prefix("||") else {
        return Err(if line.starts_with('/') && line.ends_with('/') {
            "a regular-expression rule, not a domain rule"
        } else {
            "a URL pattern, not a `||domain^` rule"
        });
    };
    let (pattern, options) = match rest.split_once('$') {
        Some((p, o)) => (p, Some(o)),
        None => (rest, None),
    };
    if let Some(options) = options
        && options.split(',').any(|o| !NEUTRAL_OPTIONS.contains(&o.trim().trim_start_matches('~')))
    {
        return Err(
            "an option narrows or changes the rule (only party, importance and resource types keep it a listing)",
        );
    }
    let host = pattern.strip_suffix("^|").or_else(|| pattern.strip_suffix('^')).unwrap_or(pattern);
    if host.is_empty() || host.contains(['/', '*', '^', '|', ':', '?', '=']) {
        return Err("a URL pattern, not a `||domain^` rule");
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_rules_give_their_host() {
        assert_eq!(domain_rule("||evil.com^"), Ok("evil.com"));
        assert_eq!(domain_rule("||evil.com^|"), Ok("evil.com"));
        assert_eq!(domain_rule("||evil.com"), Ok("evil.com"));
        assert_eq!(domain_rule("||evil.com^$third-party"), Ok("evil.com"));
        assert_eq!(domain_rule("||evil.com^$important,~script,all"), Ok("evil.com"));
        assert!(domain_rule("||evil.com^$domain=site.org").is_err());
        assert!(domain_rule("||evil.com^$badfilter").is_err());
        assert!(domain_rule("||evil.com^$dnstype=AAAA").is_err());
        assert!(domain_rule("||evil.com/ads/*").is_err());
        assert!(domain_rule("||*.evil.com^").is_err());
        assert!(domain_rule("/banner[0-9]+/").is_err());
        assert!(domain_rule("|https://evil.com/x.js").is_err());
        assert!(domain_rule("evil.com").is_err());
        assert!(is_header("[Adblock Plus 2.0]"));
        assert!(!is_header("[section]"));
    }
}
