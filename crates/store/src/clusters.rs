//! Attribution clusters: flagged images linked by what points at one operator — a Monero
//! wallet, a mining pool, an AWS account, an SSH key, a GitHub or npm token, a domain, a shared
//! non-base layer, a namespace.
//!
//! Sysdig's analysts made these links by hand. Here they are the views `attribution_links`,
//! `attribution_clusters` and `attribution_cluster_members` (migration `…_clusters.sql`,
//! described in docs/data-model.md), and this module only reads them, in one snapshot, so that
//! `hubcensus report --clusters` and a researcher's own SQL (docs/queries.md, "Clusters") cannot
//! disagree. Whether an image is flagged depends on the newly-registered-domain window, and
//! which domains and layers are too common to link anyone on `hubcensus.cluster_max_clean_images`;
//! [`Store::clusters`] sets both for its own transaction only.

use std::collections::HashMap;

use hubcensus_types::{Category, Digest, RepoRef};
use serde::Serialize;

use crate::{Store, StoreError, report::DEFAULT_NRD_WINDOW_DAYS};

/// The views' default for `hubcensus.cluster_max_clean_images`: a domain or non-base layer that
/// more unflagged images than this carry is common content (a base image, a documentation
/// domain), not an operator's, and links nothing. The migration explains the choice.
pub const DEFAULT_MAX_CLEAN_IMAGES: u32 = 20;

/// How many clusters a report shows unless asked otherwise: the largest, by repositories.
pub const DEFAULT_CLUSTER_LIMIT: u32 = 20;

/// What links the images of a cluster: the `kind` column of the views. Variants are declared
/// (and ordered) as [`ClusterKind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// One Monero address (key: the sha256 of the address).
    Wallet,
    /// One AWS account, decoded offline from access key ids (key: the 12-digit account id).
    AwsAccount,
    /// One SSH key pair (key: its OpenSSH `SHA256:` fingerprint).
    SshKey,
    /// One GitHub or npm token (key: the sha256 of the token).
    Token,
    /// One mining pool (key: its registrable domain, or its IP).
    Pool,
    /// One registrable domain referenced by flagged images and by few clean ones.
    Domain,
    /// One non-base layer (the lowest of a shared stack).
    Layer,
    /// One namespace publishing flagged images in several repositories.
    Namespace,
}

impl ClusterKind {
    /// Every kind, strongest link first: the order reports break ties in.
    pub const ALL: [ClusterKind; 8] = [
        ClusterKind::Wallet,
        ClusterKind::AwsAccount,
        ClusterKind::SshKey,
        ClusterKind::Token,
        ClusterKind::Pool,
        ClusterKind::Domain,
        ClusterKind::Layer,
        ClusterKind::Namespace,
    ];

    /// The id the views use (`aws_account`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ClusterKind::Wallet => "wallet",
            ClusterKind::Pool => "pool",
            ClusterKind::AwsAccount => "aws_account",
            ClusterKind::SshKey => "ssh_key",
            ClusterKind::Token => "token",
            ClusterKind::Domain => "domain",
            ClusterKind::Layer => "layer",
            ClusterKind::Namespace => "namespace",
        }
    }

    /// The kind whose id is `id`, if this build knows it.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == id)
    }
}

impl std::fmt::Display for ClusterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterOptions {
    /// Show the largest this many clusters (`None`: all).
    pub limit: Option<u32>,
    /// `hubcensus.cluster_max_clean_images` for this query.
    pub max_clean_images: u32,
    /// The newly-registered-domain window that decides which images are flagged.
    pub nrd_window_days: u32,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            limit: Some(DEFAULT_CLUSTER_LIMIT),
            max_clean_images: DEFAULT_MAX_CLEAN_IMAGES,
            nrd_window_days: DEFAULT_NRD_WINDOW_DAYS,
        }
    }
}

/// The clusters of a census: `{"clusters_total", "max_clean_images", "nrd_window_days",
/// "clusters"}` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterReport {
    /// Clusters in the census (of the kinds this build knows), before the limit.
    pub clusters_total: i64,
    /// The common-content threshold the views used.
    pub max_clean_images: u32,
    /// The newly-registered-domain window the views used.
    pub nrd_window_days: u32,
    /// The largest clusters: most repositories first, then most images, most pulls.
    pub clusters: Vec<Cluster>,
}

/// One cluster: a row of `attribution_clusters` with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// What links the images.
    pub kind: ClusterKind,
    /// The shared value's identity (a fingerprint, an account id, a domain, a digest...).
    pub key: String,
    /// What a person reads for it: the redacted preview of a wallet or token, else the key.
    pub label: String,
    /// Distinct images.
    pub images: i64,
    /// Distinct repositories those images are in.
    pub repositories: i64,
    /// Distinct namespaces of those repositories.
    pub namespaces: i64,
    /// The repositories' pull counts, summed.
    pub pull_count: i64,
    /// The counted categories of the images, in priority order.
    pub categories: Vec<Category>,
    /// One entry per (image, repository), by repository then image.
    pub members: Vec<ClusterMember>,
}

/// One image in one repository of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterMember {
    /// The repository.
    pub repository: RepoRef,
    /// The image's manifest digest.
    pub image: Digest,
    /// Its tags in that repository.
    pub tags: Vec<String>,
    /// The repository's pull count, as Hub reported it.
    pub pull_count: Option<i64>,
    /// The image's counted categories (empty for a clean image in a layer cluster).
    pub categories: Vec<Category>,
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    kind: String,
    key: String,
    label: String,
    images: i64,
    repositories: i64,
    namespaces: i64,
    pull_count: i64,
    categories: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    kind: String,
    key: String,
    repository: String,
    image_digest: String,
    tags: Vec<String>,
    pull_count: Option<i64>,
    categories: Vec<String>,
}

impl Store {
    /// The attribution clusters, largest first, with their members; read in one read-only
    /// snapshot so clusters and members agree while workers keep writing. An empty census, or
    /// one where nothing links two repositories, gives none.
    pub async fn clusters(&self, options: &ClusterOptions) -> Result<ClusterReport, StoreError> {
        let mut tx = self.snapshot(options.nrd_window_days).await?;
        sqlx::query("SELECT set_config('hubcensus.cluster_max_clean_images', $1, true)")
            .bind(options.max_clean_images.to_string())
            .execute(&mut *tx)
            .await?;
        // Ask only for the kinds this build can name: a newer schema's kinds are left out, not
        // an error. Every cluster is read (the view computes them all anyway; reading it twice,
        // for a count and for the largest, would cost twice) and the limit applied here.
        let kinds: Vec<&str> = ClusterKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut rows = sqlx::query_as::<_, ClusterRow>(
            "SELECT kind, key, label, images, repositories, namespaces, pull_count,
                    categories::text[] AS categories
             FROM attribution_clusters
             WHERE kind = ANY($1)
             ORDER BY repositories DESC, images DESC, pull_count DESC, array_position($1, kind), key",
        )
        .bind(&kinds)
        .fetch_all(&mut *tx)
        .await?;
        let clusters_total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        if let Some(limit) = options.limit {
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        let keys: (Vec<&str>, Vec<&str>) = rows.iter().map(|r| (r.kind.as_str(), r.key.as_str())).unzip();
        let members = sqlx::query_as::<_, MemberRow>(
            "SELECT kind, key, repository, image_digest, tags, pull_count, categories::text[] AS categories
             FROM attribution_cluster_members
             WHERE (kind, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
             ORDER BY kind, key, repository, image_digest",
        )
        .bind(&keys.0)
        .bind(&keys.1)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;

        let mut by_cluster: HashMap<(String, String), Vec<ClusterMember>> = HashMap::new();
        for row in members {
            let (cluster, entry) = member(row)?;
            by_cluster.entry(cluster).or_default().push(entry);
        }
        let mut clusters = Vec::with_capacity(rows.len());
        for row in rows {
            // invariant: the query selected only kinds of ClusterKind::ALL.
            let Some(kind) = ClusterKind::from_id(&row.kind) else { continue };
            let members = by_cluster.remove(&(row.kind, row.key.clone())).unwrap_or_default();
            clusters.push(Cluster {
                kind,
                key: row.key,
                label: row.label,
                images: row.images,
                repositories: row.repositories,
                namespaces: row.namespaces,
                pull_count: row.pull_count,
                categories: categories(&row.categories)?,
                members,
            });
        }
        Ok(ClusterReport {
            clusters_total,
            max_clean_images: options.max_clean_images,
            nrd_window_days: options.nrd_window_days,
            clusters,
        })
    }
}

/// A member row as its cluster's (kind, key) and the member.
fn member(row: MemberRow) -> Result<((String, String), ClusterMember), StoreError> {
    let member = ClusterMember {
        repository: row.repository.parse()?,
        image: row.image_digest.parse()?,
        tags: row.tags,
        pull_count: row.pull_count,
        categories: categories(&row.categories)?,
    };
    Ok(((row.kind, row.key), member))
}

fn categories(ids: &[String]) -> Result<Vec<Category>, StoreError> {
    ids.iter().map(|c| c.parse().map_err(StoreError::from)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_the_views_ids() {
        for kind in ClusterKind::ALL {
            assert_eq!(ClusterKind::from_id(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str(), "JSON uses the views' ids");
        }
        assert!(ClusterKind::ALL.windows(2).all(|w| w[0] < w[1]), "declared in the order of ALL");
        assert_eq!(ClusterKind::from_id("email"), None);
    }
}
