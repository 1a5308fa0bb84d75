//! Ground truth: what a census of the population must find, and what it must leave out.
//!
//! The truth lists every repository with its badge and whether (and why) a community census
//! excludes it; every planted image (the newest tag of a planted repository, resolved to
//! linux/amd64) with its category and where each planted item sits — layer digest and path
//! (and the layer whose whiteout deletes it), or config field, or the repository name; the
//! decoys a census must rate low and not count; the campaigns — wallets, SSH keys, AWS accounts
//! and tokens shared by several analysed repositories — that the attribution views must group;
//! and the Sysdig-style table the census's report must reproduce. Secrets appear only as a
//! redacted preview and a sha256 fingerprint.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use hubcensus_types::{Badge, Category, Digest, ExclusionReason};
use serde::Serialize;

use crate::population::base::BaseLayers;
use crate::population::campaigns::{Link, LinkKind};
use crate::population::content::{Location, PlantedImage, RepoContent, materialise};
use crate::population::{Population, RepoKind};

/// One repository of the frame.
#[derive(Debug, Clone, Serialize)]
pub struct RepoTruth {
    /// `namespace/name`.
    pub repository: String,
    /// v4 search badge.
    pub badge: Badge,
    /// What it holds.
    pub kind: RepoKind,
    /// Private (invisible anonymously).
    pub private: bool,
    /// Number of tags.
    pub tags: u32,
    /// Why a community census leaves it out (None: analysed).
    pub exclusion: Option<ExclusionReason>,
    /// Planted category, if any.
    pub planted: Option<Category>,
    /// Carries a benign look-alike.
    pub decoy: bool,
    /// Search leaves it out (`population.search_hidden`).
    pub search_hidden: bool,
}

/// A decoy: must be reported at low confidence (or not at all), never counted.
#[derive(Debug, Clone, Serialize)]
pub struct DecoyTruth {
    /// `namespace/name:tag`.
    pub image: String,
    /// What it imitates.
    pub technique: String,
    /// Layer digest.
    pub layer: String,
    /// Path.
    pub path: String,
}

/// A secret several analysed repositories share: one cluster of `attribution_clusters`, with
/// exactly these members in `attribution_cluster_members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignTruth {
    /// What the repositories share (the views' `kind`).
    pub kind: LinkKind,
    /// The views' key: sha256 hex of a wallet or token, a 12-digit AWS account id, an SSH
    /// key's `SHA256:` fingerprint.
    pub key: String,
    /// The member repositories (`namespace/name`), sorted.
    pub repositories: Vec<String>,
    /// The planted image (linux/amd64 manifest digest) of each repository, in the same order.
    pub images: Vec<Digest>,
}

/// One row of the Sysdig-style table.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// Category id.
    pub category: Category,
    /// Sysdig's label.
    pub label: String,
    /// Images with this category (non-exclusive), whether or not an upper layer deletes it.
    pub images: u64,
    /// Of those, images whose every planted item is a file an upper layer deletes: a census
    /// marks that evidence deleted and counts these images apart, so its `images` column is
    /// `images - deleted_only` and its `deleted` column is `deleted_only`.
    pub deleted_only: u64,
    /// Images whose highest-priority category this is (exclusive).
    pub exclusive: u64,
    /// Sysdig's 2022 figure.
    pub sysdig_2022: Option<u32>,
}

/// The frame's totals: what a census's frame must reproduce, but for the private repositories
/// (counted here as `unavailable`), which nothing public shows.
#[derive(Debug, Clone, Serialize)]
pub struct TruthFrame {
    /// Repositories in the population (private included).
    pub repositories: u64,
    /// Repositories a community census analyses.
    pub analysed: u64,
    /// Exclusions by reason.
    pub excluded: BTreeMap<String, u64>,
    /// Images with at least one planted category.
    pub malicious_images: u64,
    /// Public repositories: what discovery can see at all, the size a capture–recapture
    /// estimate of the frame aims at.
    pub public: u64,
    /// Public repositories search leaves out (`population.search_hidden`): only a namespace
    /// crawl or a names file finds them.
    pub search_hidden: u64,
}

/// The ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Seed.
    pub seed: u64,
    /// Number of repositories.
    pub repos: u32,
    /// The frame.
    pub frame: TruthFrame,
    /// The Sysdig-style table.
    pub table: Vec<TableRow>,
    /// Every repository.
    pub repositories: Vec<RepoTruth>,
    /// Every planted image.
    pub images: Vec<PlantedImage>,
    /// Every decoy.
    pub decoys: Vec<DecoyTruth>,
    /// Secrets shared by at least two analysed repositories, by kind then key.
    pub campaigns: Vec<CampaignTruth>,
}

impl Truth {
    /// Builds the truth, materialising planted repositories with fresh base layers.
    pub fn build(pop: &Population) -> Self {
        let bases = BaseLayers::shared(pop.seed(), pop.config().anchor_unix);
        Self::build_with(pop, &|i| Arc::new(materialise(pop, &bases, i)))
    }

    /// Builds the truth with a content source (the server's cache).
    pub fn build_with(pop: &Population, content: &dyn Fn(u32) -> Arc<RepoContent>) -> Self {
        let mut repositories = Vec::with_capacity(pop.len());
        let mut images = Vec::new();
        let mut decoys = Vec::new();
        let mut excluded: BTreeMap<String, u64> = BTreeMap::new();
        // Every linkable secret of an analysed planted image, own or a campaign's.
        let mut links: BTreeMap<Link, BTreeSet<(String, Digest)>> = BTreeMap::new();
        for i in 0..pop.len() as u32 {
            let m = pop.repo(i);
            // Deleted, or not created yet, at this epoch.
            if m.gone {
                continue;
            }
            let exclusion = pop.exclusion(i);
            if let Some(e) = exclusion {
                *excluded.entry(e.as_str().to_string()).or_default() += 1;
            }
            repositories.push(RepoTruth {
                repository: pop.full_name(i),
                badge: pop.badge(i),
                kind: m.kind,
                private: m.private,
                tags: m.tags,
                exclusion,
                planted: m.plant,
                decoy: m.decoy,
                search_hidden: m.search_hidden,
            });
            if m.plant.is_some() || m.decoy {
                let c = content(i);
                if let Some(p) = &c.planted {
                    // A census sees only what it analyses; a deleted file still links.
                    if exclusion.is_none() && !m.private {
                        for link in p.items.iter().filter_map(|it| it.link.clone()) {
                            links
                                .entry(link)
                                .or_default()
                                .insert((p.repository.clone(), p.manifest_digest.clone()));
                        }
                    }
                    images.push(p.clone());
                }
                if let Some((technique, layer, path)) = &c.decoy {
                    let tag = c.tags.first().map(|t| t.name.clone()).unwrap_or_default();
                    decoys.push(DecoyTruth {
                        image: format!("{}:{tag}", pop.full_name(i)),
                        technique: technique.clone(),
                        layer: layer.to_string(),
                        path: path.clone(),
                    });
                }
            }
        }
        let analysed = repositories.iter().filter(|r| r.exclusion.is_none()).count() as u64;
        let campaigns = campaigns(links);
        let table = Category::ALL
            .iter()
            .map(|&c| {
                let n = images.iter().filter(|im| im.category == c).count() as u64;
                let deleted_only =
                    images.iter().filter(|im| im.category == c && every_item_deleted(im)).count() as u64;
                TableRow {
                    category: c,
                    label: c.sysdig_label().into(),
                    images: n,
                    deleted_only,
                    exclusive: n,
                    sysdig_2022: c.sysdig_2022_images(),
                }
            })
            .collect();
        Truth {
            seed: pop.seed(),
            repos: pop.len() as u32,
            frame: TruthFrame {
                repositories: repositories.len() as u64,
                analysed,
                excluded,
                malicious_images: images.len() as u64,
                public: repositories.iter().filter(|r| !r.private).count() as u64,
                search_hidden: repositories.iter().filter(|r| r.search_hidden).count() as u64,
            },
            table,
            repositories,
            images,
            decoys,
            campaigns,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// CSV: five blocks (table, repositories, planted items, decoys, campaigns — one row per
    /// member), each introduced by a
    /// `# name` line and a header row, separated by blank lines.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let q = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let _ = writeln!(out, "# table\ncategory,label,images,deleted_only,exclusive,sysdig_2022");
        for r in &self.table {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                r.category,
                q(&r.label),
                r.images,
                r.deleted_only,
                r.exclusive,
                r.sysdig_2022.map(|v| v.to_string()).unwrap_or_default()
            );
        }
        let _ = writeln!(out, "\n# repositories\nrepository,badge,kind,private,tags,exclusion,planted,decoy");
        for r in &self.repositories {
            let kind = serde_json::to_value(r.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                r.repository,
                r.badge,
                kind,
                r.private,
                r.tags,
                r.exclusion.map(|e| e.as_str()).unwrap_or(""),
                r.planted.map(|c| c.as_str()).unwrap_or(""),
                r.decoy
            );
        }
        let _ = writeln!(
            out,
            "\n# planted\nrepository,tag,manifest_digest,category,technique,location,layer,path,deleted_in,field,indicator,secret_preview,secret_fingerprint"
        );
        for im in &self.images {
            for it in &im.items {
                let (loc, layer, path, deleted, field) = match &it.location {
                    Location::LayerFile { layer, path, deleted_in } => (
                        "layer_file",
                        layer.to_string(),
                        path.clone(),
                        deleted_in.as_ref().map(|d| d.to_string()).unwrap_or_default(),
                        String::new(),
                    ),
                    Location::Config { field } => {
                        ("config", String::new(), String::new(), String::new(), field.clone())
                    }
                    Location::RepoName { imitates } => (
                        "repo_name",
                        String::new(),
                        String::new(),
                        String::new(),
                        format!("imitates:{imitates}"),
                    ),
                };
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{loc},{layer},{},{deleted},{},{},{},{}",
                    im.repository,
                    q(&im.tag),
                    im.manifest_digest,
                    im.category,
                    it.technique,
                    q(&path),
                    q(&field),
                    q(it.indicator.as_deref().unwrap_or("")),
                    q(it.secret_preview.as_deref().unwrap_or("")),
                    it.secret_fingerprint.as_ref().map(|f| f.to_string()).unwrap_or_default()
                );
            }
        }
        let _ = writeln!(out, "\n# decoys\nimage,technique,layer,path");
        for d in &self.decoys {
            let _ = writeln!(out, "{},{},{},{}", d.image, d.technique, d.layer, q(&d.path));
        }
        let _ = writeln!(out, "\n# campaigns\nkind,key,repository,manifest_digest");
        for c in &self.campaigns {
            for (repository, image) in c.repositories.iter().zip(&c.images) {
                let _ = writeln!(out, "{},{},{repository},{image}", c.kind, q(&c.key));
            }
        }
        out
    }

    /// The table as aligned text, beside Sysdig's figures.
    pub fn table_text(&self) -> String {
        let mut out = format!(
            "{:<26} {:>8} {:>8} {:>10} {:>12}\n",
            "category", "images", "deleted", "exclusive", "sysdig 2022"
        );
        for r in &self.table {
            let _ = writeln!(
                out,
                "{:<26} {:>8} {:>8} {:>10} {:>12}",
                r.label,
                r.images,
                r.deleted_only,
                r.exclusive,
                r.sysdig_2022.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
            );
        }
        let _ = writeln!(out, "{:<26} {:>8}", "malicious images", self.frame.malicious_images);
        let _ = writeln!(
            out,
            "{:<26} {:>8} of {}",
            "analysed repositories", self.frame.analysed, self.frame.repositories
        );
        let excluded: u64 = self.frame.excluded.values().sum();
        let _ = writeln!(out, "{:<26} {excluded:>8}", "excluded repositories");
        for (reason, n) in &self.frame.excluded {
            let _ = writeln!(out, "  {reason:<24} {n:>8}");
        }
        if !self.campaigns.is_empty() {
            let _ = writeln!(out, "\n{:<12} {:>12}  key", "campaign", "repositories");
            for c in &self.campaigns {
                let _ = writeln!(out, "{:<12} {:>12}  {}", c.kind, c.repositories.len(), c.key);
            }
        }
        out
    }
}

/// The links at least two repositories share. Each repository's planted image is its newest
/// tag's only (older tags carry no plant), so two repositories are also the views' other way
/// to form a cluster, two images.
fn campaigns(links: BTreeMap<Link, BTreeSet<(String, Digest)>>) -> Vec<CampaignTruth> {
    links
        .into_iter()
        .filter(|(_, members)| members.len() >= 2)
        .map(|(link, members)| {
            // Sorted by repository; each repository has one planted image.
            let (repositories, images) = members.into_iter().unzip();
            CampaignTruth { kind: link.kind, key: link.key, repositories, images }
        })
        .collect()
}

/// Whether every planted item of an image is a layer file that an upper layer's whiteout deletes.
fn every_item_deleted(image: &PlantedImage) -> bool {
    !image.items.is_empty()
        && image
            .items
            .iter()
            .all(|it| matches!(&it.location, Location::LayerFile { deleted_in: Some(_), .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PopulationConfig;

    /// Issue 18: the truth counts the inactive repositories under `inactive`, never as analysed,
    /// and its table says so.
    #[test]
    fn inactive_repositories_are_excluded_not_analysed() {
        let pop = Population::new(&PopulationConfig { repos: 400, ..PopulationConfig::default() });
        let truth = Truth::build(&pop);
        let inactive =
            truth.repositories.iter().filter(|r| r.exclusion == Some(ExclusionReason::Inactive)).count()
                as u64;
        assert_eq!(inactive, (0..400).filter(|&i| pop.repo(i).inactive).count() as u64);
        assert!(inactive > 0);
        assert_eq!(truth.frame.excluded["inactive"], inactive);
        let excluded: u64 = truth.frame.excluded.values().sum();
        assert_eq!(truth.frame.analysed + excluded, truth.frame.repositories);
        let table = truth.table_text();
        assert!(table.contains(&format!("  inactive                 {inactive:>8}\n")), "{table}");
        assert!(table.contains(&format!("excluded repositories      {excluded:>8}\n")), "{table}");
    }
}
