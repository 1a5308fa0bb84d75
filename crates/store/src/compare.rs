//! Two runs compared: per category, the images flagged in both, only in the first, only in the
//! second — what changed on Docker Hub between two censuses (images cleaned, images infected,
//! repositories gone or new), read from `run_images` and the report's own `image_categories`.
//!
//! An image is identified by repository, tag and the digest of the analysed manifest: a tag
//! re-pushed with the same content is "both", a tag re-pushed clean is "only in A" (its old
//! image) and, when the new image is flagged too, "only in B". Only counted evidence counts, as
//! in the report's category table.

use std::collections::BTreeSet;

use hubcensus_types::Category;
use serde::Serialize;

use crate::{Store, StoreError};

/// An image flagged in a run, as a reader finds it on Hub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FlaggedImage {
    /// `namespace/name`.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// The analysed (platform) manifest's digest.
    pub digest: String,
}

/// One category of a comparison. In JSON: `{"category", "label", "both", "only_a", "only_b"}`,
/// each list of `{"repository", "tag", "digest"}` sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryComparison {
    /// The category.
    pub category: Category,
    /// Sysdig's label for it.
    pub label: &'static str,
    /// Flagged in both runs.
    pub both: Vec<FlaggedImage>,
    /// Flagged in run A only.
    pub only_a: Vec<FlaggedImage>,
    /// Flagged in run B only.
    pub only_b: Vec<FlaggedImage>,
}

/// Flagged images (any category, each once) in both runs, only in A, only in B.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ComparisonTotals {
    /// Flagged in both.
    pub both: u64,
    /// Flagged in A only.
    pub only_a: u64,
    /// Flagged in B only.
    pub only_b: u64,
}

/// Two runs compared. In JSON: `{"run_a", "run_b", "categories": [...], "totals"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The earlier run, usually.
    pub run_a: i64,
    /// The other run.
    pub run_b: i64,
    /// One entry per category, in the report's priority order, empty ones included.
    pub categories: Vec<CategoryComparison>,
    /// Over all categories.
    pub totals: ComparisonTotals,
}

impl Store {
    /// Compares the images runs `a` and `b` flagged, with newly registered domains judged
    /// within `nrd_window_days`; `None` when either run does not exist.
    pub async fn compare_runs(
        &self,
        nrd_window_days: u32,
        a: i64,
        b: i64,
    ) -> Result<Option<Comparison>, StoreError> {
        let mut tx = self.snapshot(nrd_window_days).await?;
        let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM census_runs WHERE id = ANY($1)")
            .bind(vec![a, b])
            .fetch_one(&mut *tx)
            .await?;
        if runs < if a == b { 1 } else { 2 } {
            return Ok(None);
        }
        let rows: Vec<(String, String, String, String, bool, bool)> = sqlx::query_as(
            "SELECT ic.category::text, r.namespace || '/' || r.name, t.name, i.digest,
                    bool_or(ri.run_id = $1), bool_or(ri.run_id = $2)
             FROM run_images ri
             JOIN image_categories ic ON ic.image_id = ri.image_id AND ic.counted
             JOIN tags t ON t.id = ri.tag_id
             JOIN repositories r ON r.id = t.repository_id
             JOIN images i ON i.id = ri.image_id
             WHERE ri.run_id IN ($1, $2)
             GROUP BY 1, 2, 3, 4",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut categories: Vec<CategoryComparison> = Category::ALL
            .iter()
            .map(|&category| CategoryComparison {
                category,
                label: category.sysdig_label(),
                both: Vec::new(),
                only_a: Vec::new(),
                only_b: Vec::new(),
            })
            .collect();
        let mut all: [BTreeSet<FlaggedImage>; 3] = Default::default();
        for (category, repository, tag, digest, in_a, in_b) in rows {
            let category: Category = category.parse()?;
            let Some(slot) = categories.iter_mut().find(|c| c.category == category) else { continue };
            let image = FlaggedImage { repository, tag, digest };
            let (list, set) = match (in_a, in_b) {
                (true, true) => (&mut slot.both, 0),
                (true, false) => (&mut slot.only_a, 1),
                _ => (&mut slot.only_b, 2),
            };
            all[set].insert(image.clone());
            list.push(image);
        }
        for c in &mut categories {
            c.both.sort_unstable();
            c.only_a.sort_unstable();
            c.only_b.sort_unstable();
        }
        let totals = ComparisonTotals {
            both: all[0].len() as u64,
            only_a: all[1].len() as u64,
            only_b: all[2].len() as u64,
        };
        Ok(Some(Comparison { run_a: a, run_b: b, categories, totals }))
    }
}
