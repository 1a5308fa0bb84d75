//! `findings` and `indicators`: what the rules decided and which network names were seen.
//!
//! Both are written in batches with `UNNEST` (one round trip per batch, however many rows) and
//! `ON CONFLICT DO NOTHING` against the partial unique indexes, so a retried or raced write of
//! the same decision is one row.

use hubcensus_types::{Finding, Indicator};
use sqlx::PgConnection;

use crate::{Store, StoreError};

/// What a batch of findings or indicators is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A layer row (shared by every image that contains it).
    Layer(i64),
    /// An image's config.
    Image(i64),
    /// A repository's metadata.
    Repository(i64),
}

impl Target {
    fn columns(self) -> (&'static str, Option<i64>, Option<i64>, Option<i64>) {
        match self {
            Target::Layer(id) => ("layer", Some(id), None, None),
            Target::Image(id) => ("config", None, Some(id), None),
            Target::Repository(id) => ("metadata", None, None, Some(id)),
        }
    }
}

/// An indicator with the path where it was first seen in its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenIndicator {
    /// The indicator.
    pub indicator: Indicator,
    /// Where it was first seen (file path or config field).
    pub first_path: String,
}

/// Inserts findings for `target`; returns how many were new.
pub(crate) async fn insert_findings(
    conn: &mut PgConnection,
    target: Target,
    findings: &[Finding],
    rules_version: &str,
) -> Result<u64, StoreError> {
    if findings.is_empty() {
        return Ok(0);
    }
    let (source, layer_id, image_id, repository_id) = target.columns();
    let mut categories = Vec::with_capacity(findings.len());
    let mut rules = Vec::with_capacity(findings.len());
    let mut confidences = Vec::with_capacity(findings.len());
    let mut paths = Vec::with_capacity(findings.len());
    let mut previews = Vec::with_capacity(findings.len());
    let mut fingerprints = Vec::with_capacity(findings.len());
    let mut details = Vec::with_capacity(findings.len());
    for f in findings {
        categories.push(f.category.as_str());
        rules.push(f.rule.as_str());
        confidences.push(f.confidence.as_str());
        paths.push(f.path.as_str());
        previews.push(f.preview.as_str());
        fingerprints.push(f.fingerprint.as_str());
        details.push(serde_json::to_value(&f.detail).unwrap_or_default());
    }
    let result = sqlx::query(
        "INSERT INTO findings (source, layer_id, image_id, repository_id, category, rule_id, confidence,
                               path, preview, fingerprint, detail, rules_version)
         SELECT $1::finding_source, $2, $3, $4, c::category, r, conf::confidence, p, pv, fp, d, $12
         FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[])
              AS t(c, r, conf, p, pv, fp, d)
         ON CONFLICT DO NOTHING",
    )
    .bind(source)
    .bind(layer_id)
    .bind(image_id)
    .bind(repository_id)
    .bind(&categories)
    .bind(&rules)
    .bind(&confidences)
    .bind(&paths)
    .bind(&previews)
    .bind(&fingerprints)
    .bind(&details)
    .bind(rules_version)
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}

/// Inserts indicators for `target`; returns how many were new.
pub(crate) async fn insert_indicators(
    conn: &mut PgConnection,
    target: Target,
    indicators: &[SeenIndicator],
) -> Result<u64, StoreError> {
    if indicators.is_empty() {
        return Ok(0);
    }
    let (_, layer_id, image_id, repository_id) = target.columns();
    let kinds: Vec<&str> = indicators.iter().map(|i| i.indicator.kind.as_str()).collect();
    let values: Vec<&str> = indicators.iter().map(|i| i.indicator.value.as_str()).collect();
    let paths: Vec<&str> = indicators.iter().map(|i| i.first_path.as_str()).collect();
    let result = sqlx::query(
        "INSERT INTO indicators (layer_id, image_id, repository_id, kind, value, first_path)
         SELECT $1, $2, $3, k::indicator_kind, v, p FROM UNNEST($4::text[], $5::text[], $6::text[]) AS t(k, v, p)
         ON CONFLICT DO NOTHING",
    )
    .bind(layer_id)
    .bind(image_id)
    .bind(repository_id)
    .bind(&kinds)
    .bind(&values)
    .bind(&paths)
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}

impl Store {
    /// Writes findings and indicators about one subject in one transaction. Returns how many
    /// findings were new (0 when the same batch was written before).
    pub async fn record_findings(
        &self,
        target: Target,
        findings: &[Finding],
        indicators: &[SeenIndicator],
        rules_version: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let new = insert_findings(&mut tx, target, findings, rules_version).await?;
        insert_indicators(&mut tx, target, indicators).await?;
        tx.commit().await?;
        Ok(new)
    }
}
