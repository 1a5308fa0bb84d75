//! Hub's JSON, as the recorded responses show it, turned into [`RepoSummary`] and
//! [`TagSummary`].
//!
//! Hub is inconsistent across endpoints and years (fixtures README, "Where real responses
//! differ"): `pull_count` is an integer or a rounded string, timestamps carry 0 to 9 fraction
//! digits, `previous` is null or `""`, keys come in any order, `images` may be empty, the 2018
//! detail lacks half the fields. So every field is optional and leniently typed, a list page is
//! read as raw entries, and each entry is converted on its own: one bad entry becomes a note,
//! not a failed page.

use chrono::{DateTime, Utc};
use hubcensus_types::{Badge, Digest, MediaType, Platform, RepoRef};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{RepoSummary, TagImage, TagSummary};

/// A paged `/v2` list (namespace listings, tags, legacy search): `count/next/previous/results`.
/// `docker search`'s `/v1/search` names the count `num_results`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListPage {
    #[serde(default, alias = "num_results", deserialize_with = "lenient_count")]
    pub(crate) count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_link")]
    pub(crate) next: Option<String>,
    pub(crate) results: Vec<Value>,
}

/// A v4 search page: `total` and `results`.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchPage {
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) total: Option<u64>,
    pub(crate) results: Vec<Value>,
}

/// A namespace-listing entry or a repository detail (same fields, the detail has more).
#[derive(Debug, Deserialize)]
struct RepoEntry {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    /// The 2018 detail names the namespace `user` only.
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    repository_type: Option<String>,
    #[serde(default)]
    status_description: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    full_description: Option<String>,
    #[serde(default)]
    is_private: Option<bool>,
    #[serde(default, deserialize_with = "lenient_count")]
    star_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pull_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_time")]
    last_updated: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    date_registered: Option<DateTime<Utc>>,
    #[serde(default)]
    media_types: Option<Vec<String>>,
    #[serde(default)]
    content_types: Option<Vec<String>>,
}

/// A v4 search hit. v3 and the retired products search use `source` where v4 has `badge`;
/// both are read so the same parser serves all three.
#[derive(Debug, Deserialize)]
struct SearchHit {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    badge: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default, deserialize_with = "lenient_count")]
    star_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pull_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    raw_pull_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_time")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    short_description: Option<String>,
    #[serde(default)]
    archived: Option<bool>,
    #[serde(default)]
    media_types: Option<Vec<String>>,
    #[serde(default)]
    content_types: Option<Vec<String>>,
}

/// A legacy `/v2/search/repositories` hit (or `/v1/search`'s, which says `name`/`description`).
#[derive(Debug, Deserialize)]
struct LegacyHit {
    #[serde(alias = "name")]
    repo_name: String,
    #[serde(default, alias = "description")]
    short_description: Option<String>,
    #[serde(default, deserialize_with = "lenient_count")]
    star_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pull_count: Option<u64>,
    #[serde(default)]
    is_official: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct TagObject {
    name: String,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    last_updated: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient_time")]
    tag_last_pushed: Option<DateTime<Utc>>,
    #[serde(default)]
    tag_status: Option<String>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_count")]
    full_size: Option<u64>,
    #[serde(default)]
    images: Option<Vec<ImageObject>>,
}

#[derive(Debug, Deserialize)]
struct ImageObject {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default, deserialize_with = "lenient_count")]
    size: Option<u64>,
    #[serde(default, deserialize_with = "lenient_time")]
    last_pushed: Option<DateTime<Utc>>,
}

/// A v4 search hit, converted.
#[derive(Debug)]
pub(crate) struct Hit {
    pub(crate) reference: RepoRef,
    pub(crate) summary: RepoSummary,
    /// A badge value this client does not know (kept as unknown, reported as a note).
    pub(crate) unknown_badge: Option<String>,
}

/// Parses a paged `/v2` list.
pub(crate) fn list_page(body: &[u8]) -> Result<ListPage, String> {
    serde_json::from_slice(body).map_err(|e| format!("not a paged list: {e}"))
}

/// Parses a v4 search page.
pub(crate) fn search_page(body: &[u8]) -> Result<SearchPage, String> {
    serde_json::from_slice(body).map_err(|e| format!("not a search page: {e}"))
}

/// Converts a namespace-listing entry or a repository detail.
pub(crate) fn repo_entry(value: Value) -> Result<(RepoRef, RepoSummary), String> {
    let e: RepoEntry = serde_json::from_value(value).map_err(|e| format!("bad repository entry: {e}"))?;
    let namespace = e.namespace.as_deref().or(e.user.as_deref()).unwrap_or("library");
    let reference = RepoRef::new(namespace, &e.name).map_err(|e| e.to_string())?;
    let summary = RepoSummary {
        badge: reference.is_official().then_some(Badge::Official),
        pull_count: e.pull_count,
        star_count: e.star_count,
        last_updated: e.last_updated,
        date_registered: e.date_registered,
        status: e.status_description,
        repository_type: e.repository_type,
        content_types: e.content_types,
        media_types: e.media_types,
        description: e.description,
        full_description: e.full_description,
        is_private: e.is_private,
        unavailable: Some(false),
        ..RepoSummary::default()
    };
    Ok((reference, summary))
}

/// Converts a v4 (or v3) search hit.
pub(crate) fn search_hit(value: Value) -> Result<Hit, String> {
    let h: SearchHit = serde_json::from_value(value).map_err(|e| format!("bad search hit: {e}"))?;
    // v4 `name` is `ns/repo` (bare for officials); `id` may be an opaque id on v4 but is the
    // full name on v3; `slug` is the last resort.
    let reference =
        [&h.name, &h.id, &h.slug].into_iter().flatten().find_map(|s| s.parse::<RepoRef>().ok()).ok_or_else(
            || format!("search hit without a repository name (name {:?}, id {:?})", h.name, h.id),
        )?;
    let (badge, unknown_badge) = match (h.badge.as_deref(), h.source.as_deref()) {
        (Some(b), _) => match b.parse::<Badge>() {
            Ok(badge) => (Some(badge), None),
            Err(_) => (None, Some(b.to_owned())),
        },
        // v3 says `source`: `store` for officials, null for community.
        (None, Some("store")) => (Some(Badge::Official), None),
        (None, Some(s)) => match s.parse::<Badge>() {
            Ok(badge) => (Some(badge), None),
            Err(_) => (None, Some(s.to_owned())),
        },
        // v4 marks community content with a null badge.
        (None, None) => (Some(Badge::None), None),
    };
    let badge = if reference.is_official() { Some(Badge::Official) } else { badge };
    let summary = RepoSummary {
        badge,
        pull_count: h.raw_pull_count.or(h.pull_count),
        star_count: h.star_count,
        last_updated: h.updated_at,
        date_registered: h.created_at,
        search_type: h.kind,
        content_types: h.content_types,
        media_types: h.media_types,
        description: h.short_description,
        archived: h.archived,
        is_private: Some(false),
        unavailable: Some(false),
        ..RepoSummary::default()
    };
    Ok(Hit { reference, summary, unknown_badge })
}

/// Converts a legacy search hit. Legacy search knows officials only: other badges stay unknown.
pub(crate) fn legacy_hit(value: Value) -> Result<(RepoRef, RepoSummary), String> {
    let h: LegacyHit = serde_json::from_value(value).map_err(|e| format!("bad legacy search hit: {e}"))?;
    let reference: RepoRef = h.repo_name.parse().map_err(|e: hubcensus_types::ParseError| e.to_string())?;
    let official = reference.is_official() || h.is_official == Some(true);
    let summary = RepoSummary {
        badge: official.then_some(Badge::Official),
        pull_count: h.pull_count,
        star_count: h.star_count,
        description: h.short_description,
        is_private: Some(false),
        unavailable: Some(false),
        ..RepoSummary::default()
    };
    Ok((reference, summary))
}

/// Converts a tag object. A digest that does not parse is dropped (the registry, not Hub, is
/// the authority on digests).
pub(crate) fn tag(value: Value) -> Result<TagSummary, String> {
    let t: TagObject = serde_json::from_value(value).map_err(|e| format!("bad tag object: {e}"))?;
    let digest = |d: Option<String>| d.and_then(|d| d.parse::<Digest>().ok());
    let images = t
        .images
        .unwrap_or_default()
        .into_iter()
        .map(|i| TagImage {
            platform: Platform {
                os: i.os.unwrap_or_else(|| "unknown".into()),
                architecture: i.architecture.unwrap_or_else(|| "unknown".into()),
                variant: i.variant.filter(|v| !v.is_empty()),
            },
            digest: digest(i.digest),
            size: i.size,
            last_pushed: i.last_pushed,
        })
        .collect();
    Ok(TagSummary {
        name: t.name,
        digest: digest(t.digest),
        last_pushed: t.tag_last_pushed,
        last_updated: t.last_updated,
        status: t.tag_status,
        media_type: t.media_type.map(|m| MediaType::new(&m)),
        content_type: t.content_type,
        full_size: t.full_size,
        images,
    })
}

/// Hub's error message (`{"message": …, "errinfo": {}}`, or `detail` from Django views).
pub(crate) fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        detail: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { message: Some(m), .. }) | Ok(ErrorBody { detail: Some(m), .. }) => m,
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned(),
    }
}

/// The token of a login response: `access_token` (`/v2/auth/token`) or `token` (legacy).
pub(crate) fn login_token(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Login {
        #[serde(default)]
        access_token: Option<String>,
        #[serde(default)]
        token: Option<String>,
    }
    let login: Login = serde_json::from_slice(body).ok()?;
    login.access_token.or(login.token).filter(|t| !t.is_empty())
}

/// Whether a 403 body is Hub's anonymous paging limit.
pub(crate) fn is_paging_cap_message(message: &str) -> bool {
    message.contains("pagination offset")
}

/// Hub's rounded counts (`"2.7K"`, `"10K+"`, `"500K+"`, `"1B+"`) as a lower bound; `""` is
/// unknown.
pub(crate) fn rounded_count(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches('+').replace(',', "");
    let (digits, scale) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1e3),
        'M' | 'm' => (&s[..s.len() - 1], 1e6),
        'B' | 'b' => (&s[..s.len() - 1], 1e9),
        _ => (s.as_str(), 1.0),
    };
    let n: f64 = digits.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then(|| (n * scale).round() as u64)
}

fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(Value::String(s)) => rounded_count(&s),
        _ => None,
    })
}

fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(&s).ok().map(|t| t.with_timezone(&Utc)),
        _ => None,
    })
}

/// `next` is a URL, null, or `""` (legacy search's `previous` shows Hub writes empty strings).
fn lenient_link<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
