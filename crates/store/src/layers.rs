//! `layers`, `layer_whiteouts` and `layer_skipped_files`: each unique layer blob and the outcome
//! of its one scan.

use hubcensus_types::Digest;
use sqlx::PgExecutor;

use hubcensus_types::Finding;
pub use hubcensus_types::Whiteout;

use crate::{
    Store, StoreError,
    findings::{SeenIndicator, Target, insert_findings, insert_indicators},
};

/// Where a layer's one scan stands: the `scan_state` column's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "scan_state", rename_all = "snake_case")]
pub enum ScanState {
    /// Not decided yet: a `scan_layer` job will fetch and scan it.
    Pending,
    /// Walked to the end.
    Scanned,
    /// Ended early (a limit, corrupt data, a download refused for good).
    Failed,
    /// Not scanned on purpose (foreign, non-distributable, not a layer).
    Skipped,
}

/// How a layer's scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerOutcome {
    /// Walked to the end (possibly with some files scanned head+tail only).
    Scanned,
    /// Ended early by a limit or corrupt data; what was found before still counts.
    Failed {
        /// The limit or corruption, for the record.
        error: String,
    },
    /// Not scanned on purpose: foreign, non-distributable, not a layer.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The measurements of one layer scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerScan {
    /// How it ended.
    pub outcome: LayerOutcome,
    /// Uncompressed tar bytes read.
    pub bytes_scanned: i64,
    /// Tar entries read.
    pub entries_scanned: i64,
    /// Files scanned in head and tail only.
    pub truncated_files: i32,
    /// The rule set version used.
    pub rules_version: String,
    /// Wall time of the scan.
    pub millis: i32,
}

/// Everything one layer scan produced.
#[derive(Debug, Clone)]
pub struct LayerReport {
    /// Outcome and measurements.
    pub scan: LayerScan,
    /// Whiteouts the layer carries.
    pub whiteouts: Vec<Whiteout>,
    /// Findings in its files.
    pub findings: Vec<Finding>,
    /// Distinct indicators in its files.
    pub indicators: Vec<SeenIndicator>,
    /// Files the scan did not (fully) read, and why.
    pub skipped_files: SkippedFiles,
}

/// Files inside a layer its scan saw but did not (fully) read: a file of zeros, a nested bomb
/// cut, an archive too deep, too big or corrupt. The walk went on past each of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkippedFiles {
    /// The ones the scanner kept (at most 256 a layer).
    pub kept: Vec<SkippedFile>,
    /// How many there were in all.
    pub total: i32,
}

/// One file a layer's scan did not (fully) read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// Its path inside the layer (`outer.jar!/inner` inside a nested archive).
    pub path: String,
    /// A stable id: `zero_filled`, `bomb`, `too_deep`, `too_big`, `corrupt`, `unreadable`,
    /// `path_too_long`.
    pub reason: String,
    /// The reason for a person, with its figures.
    pub detail: String,
}

/// Returns the id of the layer row for `digest`, creating it (state `pending`) if needed.
pub(crate) async fn ensure_layer<'e>(
    executor: impl PgExecutor<'e>,
    digest: &Digest,
    media_type: &str,
    size: Option<i64>,
) -> Result<i64, StoreError> {
    // DO UPDATE (a no-op on the digest) rather than DO NOTHING, so RETURNING yields the id of
    // an existing row too.
    Ok(sqlx::query_scalar(
        "INSERT INTO layers (digest, media_type, compressed_size) VALUES ($1, $2, $3)
         ON CONFLICT (digest) DO UPDATE SET compressed_size = coalesce(layers.compressed_size, EXCLUDED.compressed_size)
         RETURNING id",
    )
    .bind(digest.as_str())
    .bind(media_type)
    .bind(size)
    .fetch_one(executor)
    .await?)
}

impl Store {
    /// The id of the layer row for `digest`, created if new.
    pub async fn ensure_layer(
        &self,
        digest: &Digest,
        media_type: &str,
        size: Option<i64>,
    ) -> Result<i64, StoreError> {
        ensure_layer(&self.pool, digest, media_type, size).await
    }

    /// Records everything one layer scan produced — outcome, whiteouts, skipped files,
    /// findings, indicators — in one transaction, so a crash leaves either all of it or none.
    /// Writing the same report again is a no-op; a newer outcome replaces an older one (a
    /// re-scan with new rules), skipped files included. Returns how many findings were new.
    pub async fn record_layer_scan(&self, layer_id: i64, report: &LayerReport) -> Result<u64, StoreError> {
        let scan = &report.scan;
        let (state, error, skip_reason) = match &scan.outcome {
            LayerOutcome::Scanned => ("scanned", None, None),
            LayerOutcome::Failed { error } => ("failed", Some(error.as_str()), None),
            LayerOutcome::Skipped { reason } => ("skipped", None, Some(reason.as_str())),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE layers SET scan_state = $2::scan_state, error = $3, skip_reason = $4, bytes_scanned = $5,
                 entries_scanned = $6, truncated_files = $7, rules_version = $8, scan_millis = $9,
                 files_skipped = $10, scanned_at = now()
             WHERE id = $1",
        )
        .bind(layer_id)
        .bind(state)
        .bind(error)
        .bind(skip_reason)
        .bind(scan.bytes_scanned)
        .bind(scan.entries_scanned)
        .bind(scan.truncated_files)
        .bind(&scan.rules_version)
        .bind(scan.millis)
        .bind(report.skipped_files.total.max(0))
        .execute(&mut *tx)
        .await?;
        for w in &report.whiteouts {
            sqlx::query("INSERT INTO layer_whiteouts (layer_id, path, opaque) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(layer_id)
                .bind(&w.path)
                .bind(w.opaque)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM layer_skipped_files WHERE layer_id = $1")
            .bind(layer_id)
            .execute(&mut *tx)
            .await?;
        for f in &report.skipped_files.kept {
            sqlx::query(
                "INSERT INTO layer_skipped_files (layer_id, path, reason, detail) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
            )
            .bind(layer_id)
            .bind(&f.path)
            .bind(&f.reason)
            .bind(&f.detail)
            .execute(&mut *tx)
            .await?;
        }
        let target = Target::Layer(layer_id);
        let new = insert_findings(&mut tx, target, &report.findings, &scan.rules_version).await?;
        insert_indicators(&mut tx, target, &report.indicators).await?;
        tx.commit().await?;
        Ok(new)
    }
}

/// A layer row as the scan stage needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LayerState {
    /// Row id.
    pub id: i64,
    /// Media type from the manifest.
    pub media_type: String,
    /// Compressed size from the manifest.
    pub compressed_size: Option<i64>,
    /// Where its scan stands.
    pub scan_state: ScanState,
    /// The rules version of its last scan.
    pub rules_version: Option<String>,
    /// How many scans were recorded for it.
    pub scan_count: i32,
}

impl Store {
    /// A layer by digest.
    pub async fn layer_state(&self, digest: &Digest) -> Result<Option<LayerState>, StoreError> {
        Ok(sqlx::query_as::<_, LayerState>(
            "SELECT id, media_type, compressed_size, scan_state, rules_version, scan_count
             FROM layers WHERE digest = $1",
        )
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }
}
