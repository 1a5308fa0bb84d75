//! Search: v4 (what the Hub website uses), v3 (catalog), and the legacy `/v2/search/repositories`.
//!
//! v4 is the only place badges live (reference §1.3): `badge` is `official`,
//! `verified_publisher`, `open_source`, or null for community content, and `badges=` filters by
//! them (`none` = community). Caps follow §1.4: v4 rejects `from + size > 2500` and `size > 100`;
//! v3 reports `total` capped at 10,000 and uses `source` instead of `badge`; the legacy search
//! reports `count` capped at 10,000 with `previous: ""` on the first page (recorded fixture).
//! `pull_count` is a rounded string in v3/v4 ("2.7K", "10K+", "500K+") and an integer in the
//! legacy search. Private repositories never appear, nor those the population hides from search
//! (`population.search_hidden`: an index that under-reports, totals included).

use std::collections::BTreeMap;

use axum::extract::{OriginalUri, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hubcensus_types::Badge;
use serde_json::{Value, json};

use super::hub::{json_ordered, links, ordered_response, paginate, short_description};
use super::hub_error;
use crate::population::content::profile;
use crate::server::Shared;
use crate::time::rfc3339;

/// Hub's rounded pull counts.
pub(crate) fn rounded(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=9_999 => {
            let tenths = n / 100;
            if tenths.is_multiple_of(10) {
                format!("{}K", tenths / 10)
            } else {
                format!("{}.{}K", tenths / 10, tenths % 10)
            }
        }
        _ => {
            let steps: [(u64, &str); 10] = [
                (1_000_000_000, "1B+"),
                (500_000_000, "500M+"),
                (100_000_000, "100M+"),
                (50_000_000, "50M+"),
                (10_000_000, "10M+"),
                (5_000_000, "5M+"),
                (1_000_000, "1M+"),
                (500_000, "500K+"),
                (100_000, "100K+"),
                (50_000, "50K+"),
            ];
            steps
                .iter()
                .find(|(t, _)| n >= *t)
                .map(|(_, s)| (*s).to_string())
                .unwrap_or_else(|| "10K+".into())
        }
    }
}

struct Hit {
    repo: u32,
}

fn matches(shared: &Shared, i: u32, query: &str) -> bool {
    if query.is_empty() {
        return true;
    }
    let m = shared.pop.repo(i);
    m.name.contains(query) || shared.pop.namespace_of(i).name.contains(query)
}

/// Repositories matching `query` and `badges`, in the requested order.
fn search(shared: &Shared, query: &str, badges: Option<&[Badge]>, sort: &str, order: &str) -> Vec<Hit> {
    let q = query.to_ascii_lowercase();
    let base: &[u32] = if sort == "updated_at" { &shared.by_updated } else { &shared.by_pulls };
    let keep = |i: u32| {
        !shared.pop.repo(i).private
            && !shared.pop.repo(i).search_hidden
            && !shared.pop.repo(i).gone
            && badges.is_none_or(|b| b.contains(&shared.pop.badge(i)))
            && matches(shared, i, &q)
    };
    let mut hits: Vec<Hit> = base.iter().copied().filter(|&i| keep(i)).map(|repo| Hit { repo }).collect();
    if order == "asc" {
        hits.reverse();
    }
    hits
}

fn params(q: Vec<(String, String)>) -> BTreeMap<String, String> {
    q.into_iter().collect()
}

fn num(p: &BTreeMap<String, String>, key: &str, default: u64) -> Result<u64, Box<Response>> {
    match p.get(key).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            Box::new(hub_error(StatusCode::BAD_REQUEST, &format!("{key}: invalid integer {v:?}")))
        }),
    }
}

fn display_name(shared: &Shared, i: u32) -> String {
    if shared.pop.repo(i).ns == 0 { shared.pop.repo(i).name.to_string() } else { shared.pop.full_name(i) }
}

fn platforms(shared: &Shared, i: u32) -> (Value, Value) {
    let p = profile(&shared.pop, i);
    if !shared.pop.repo(i).kind.has_tags() {
        return (json!([]), json!([]));
    }
    let mut os = vec![json_ordered(vec![("name", json!("linux")), ("label", json!("Linux"))])];
    if p.windows {
        os.push(json_ordered(vec![("name", json!("windows")), ("label", json!("Windows"))]));
    }
    let arch: Vec<Value> = p
        .arches
        .iter()
        .map(|(a, v)| {
            let label = match (*a, v) {
                ("amd64", _) => "x86-64".to_string(),
                ("arm64", _) => "ARM 64".to_string(),
                ("arm", _) => "ARM".to_string(),
                (other, _) => other.to_string(),
            };
            json_ordered(vec![("name", json!(a)), ("label", json!(label))])
        })
        .collect();
    (Value::Array(os), Value::Array(arch))
}

fn badge_value(b: Badge) -> Value {
    match b {
        Badge::None => Value::Null,
        other => json!(other.as_str()),
    }
}

/// `GET /api/search/v4`.
pub(crate) async fn v4(State(shared): State<Shared>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let p = params(q);
    let (from, size) = match (num(&p, "from", 0), num(&p, "size", 25)) {
        (Ok(f), Ok(s)) => (f, s),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    if size > 100 {
        return hub_error(StatusCode::BAD_REQUEST, "size: must be less than or equal to 100");
    }
    if from + size > 2_500 {
        return hub_error(StatusCode::BAD_REQUEST, "from + size: must be less than or equal to 2500");
    }
    let badges: Option<Vec<Badge>> = p
        .get("badges")
        .filter(|b| !b.is_empty())
        .map(|b| b.split(',').filter_map(|x| x.trim().parse::<Badge>().ok()).collect());
    if p.get("type").is_some_and(|t| !t.is_empty() && t != "image") {
        return ordered_response(StatusCode::OK, vec![("total", json!(0)), ("results", json!([]))]);
    }
    let sort = p.get("sort").map(String::as_str).unwrap_or("pull_count");
    let order = p.get("order").map(String::as_str).unwrap_or("desc");
    let query = p.get("query").cloned().unwrap_or_default();
    let hits = search(&shared, &query, badges.as_deref(), sort, order);
    let results: Vec<Value> = hits
        .iter()
        .skip(from as usize)
        .take(size as usize)
        .map(|h| {
            let i = h.repo;
            let m = shared.pop.repo(i);
            let ns = shared.pop.namespace_of(i);
            let (os, arch) = platforms(&shared, i);
            json_ordered(vec![
                ("id", json!(shared.pop.full_name(i))),
                ("name", json!(display_name(&shared, i))),
                ("slug", json!(display_name(&shared, i))),
                ("type", json!("image")),
                ("publisher", json_ordered(vec![("id", json!(ns.id)), ("name", json!(ns.name))])),
                ("created_at", json!(rfc3339(m.registered, 6))),
                ("updated_at", json!(rfc3339(m.updated, 6))),
                ("short_description", json!(short_description(&shared, i))),
                ("badge", badge_value(shared.pop.badge(i))),
                ("star_count", json!(m.star_count)),
                ("pull_count", json!(rounded(m.pull_count))),
                ("operating_systems", os),
                ("architectures", arch),
                ("logo_url", json!({})),
                ("extension_reviewed", json!(false)),
                ("categories", json!([])),
                ("archived", json!(false)),
            ])
        })
        .collect();
    ordered_response(StatusCode::OK, vec![("total", json!(hits.len())), ("results", Value::Array(results))])
}

/// `GET /api/search/v3/catalog/search`.
pub(crate) async fn v3(State(shared): State<Shared>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let p = params(q);
    let (from, size) = match (num(&p, "from", 0), num(&p, "size", 25)) {
        (Ok(f), Ok(s)) => (f, s.min(100)),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    if from + size > 10_000 {
        return hub_error(StatusCode::BAD_REQUEST, "from + size: must be less than or equal to 10000");
    }
    let query = p.get("query").cloned().unwrap_or_default();
    let hits = search(&shared, &query, None, "pull_count", "desc");
    let results: Vec<Value> = hits
        .iter()
        .skip(from as usize)
        .take(size as usize)
        .map(|h| {
            let i = h.repo;
            let m = shared.pop.repo(i);
            let ns = shared.pop.namespace_of(i);
            let (os, arch) = platforms(&shared, i);
            let source = match ns.badge {
                Badge::Official => json!("store"),
                Badge::VerifiedPublisher => json!("verified_publisher"),
                Badge::OpenSource => json!("open_source"),
                Badge::None => Value::Null,
            };
            let repo = json_ordered(vec![
                ("name", json!(m.name)),
                ("namespace", json!(ns.name)),
                ("description", json!(short_description(&shared, i))),
                ("type", json!("image")),
                ("pull_count", json!(rounded(m.pull_count))),
                ("is_automated", json!(false)),
                ("is_official", json!(m.ns == 0)),
                ("is_trusted", json!(false)),
                ("last_pushed_at", json!(rfc3339(m.updated, 6))),
                ("last_pulled_at", json!(rfc3339(shared.pop.config().anchor_unix - 3_600, 6))),
                ("archived", json!(false)),
            ]);
            json_ordered(vec![
                ("id", json!(shared.pop.full_name(i))),
                ("name", json!(display_name(&shared, i))),
                ("slug", json!(display_name(&shared, i))),
                ("type", json!("image")),
                ("publisher", json_ordered(vec![("id", json!(ns.id)), ("name", json!(ns.name))])),
                ("created_at", json!(rfc3339(m.registered, 6))),
                ("updated_at", json!(rfc3339(m.updated, 6))),
                ("short_description", json!(short_description(&shared, i))),
                ("source", source),
                ("star_count", json!(m.star_count)),
                (
                    "rate_plans",
                    Value::Array(vec![json_ordered(vec![
                        ("id", json!(shared.pop.full_name(i))),
                        ("repositories", Value::Array(vec![repo])),
                        ("operating_systems", os),
                        ("architectures", arch),
                    ])]),
                ),
                ("extension_reviewed", json!(false)),
                ("categories", json!([])),
                ("archived", json!(false)),
            ])
        })
        .collect();
    ordered_response(
        StatusCode::OK,
        vec![("total", json!(hits.len().min(10_000))), ("results", Value::Array(results))],
    )
}

/// `GET /v2/search/repositories/`.
pub(crate) async fn legacy(
    State(shared): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let p = params(q);
    let query = p.get("query").cloned().unwrap_or_default();
    let hits = search(&shared, &query, None, "pull_count", "desc");
    let total = (hits.len() as u64).min(10_000);
    let page = match paginate(&shared, &p, total, false) {
        Ok(pg) => pg,
        Err(r) => return *r,
    };
    let (next, prev) = links(&shared.urls.hub, uri.path(), &p, &page, total);
    let prev = if prev.is_null() { json!("") } else { prev };
    let results: Vec<Value> = hits
        .iter()
        .skip(page.offset as usize)
        .take(page.size as usize)
        .map(|h| {
            let i = h.repo;
            let m = shared.pop.repo(i);
            json_ordered(vec![
                ("repo_name", json!(display_name(&shared, i))),
                ("short_description", json!(short_description(&shared, i))),
                ("star_count", json!(m.star_count)),
                ("pull_count", json!(m.pull_count)),
                ("repo_owner", json!("")),
                ("is_automated", json!(false)),
                ("is_official", json!(m.ns == 0)),
            ])
        })
        .collect();
    ordered_response(
        StatusCode::OK,
        vec![("count", json!(total)), ("next", next), ("previous", prev), ("results", Value::Array(results))],
    )
}

#[cfg(test)]
mod tests {
    use super::rounded;

    #[test]
    fn pull_counts_round_like_hub() {
        assert_eq!(rounded(523), "523");
        assert_eq!(rounded(2_712), "2.7K");
        assert_eq!(rounded(3_000), "3K");
        assert_eq!(rounded(12_000), "10K+");
        assert_eq!(rounded(640_000), "500K+");
        assert_eq!(rounded(13_256_501), "10M+");
        assert_eq!(rounded(9_419_966_493), "1B+");
    }
}
