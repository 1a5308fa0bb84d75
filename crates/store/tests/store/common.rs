use std::collections::BTreeMap;

use hubcensus_store::{
    Store,
    images::{ImageLayer, ImageRecord},
};
use hubcensus_types::{Category, Confidence, Digest, Finding, Fingerprint, Platform, Subject};

/// A distinct, valid digest per seed.
pub(crate) fn digest(seed: &str) -> Digest {
    Digest::sha256_of(seed.as_bytes())
}

pub(crate) fn image(seed: &str) -> ImageRecord {
    ImageRecord {
        digest: digest(seed),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        platform: Platform::linux_amd64(),
        config_digest: Some(digest(&format!("{seed}-config"))),
        created: None,
        pushed_at: Some("2022-06-15T12:00:00Z".parse().unwrap()),
        pull_cost: 1,
    }
}

pub(crate) fn layer(seed: &str) -> ImageLayer {
    ImageLayer {
        digest: digest(seed),
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        size: Some(1000),
        diff_id: Some(digest(&format!("{seed}-diff"))),
    }
}

pub(crate) fn finding(
    category: Category,
    rule: &str,
    path: &str,
    value: &str,
    confidence: Confidence,
) -> Finding {
    Finding {
        category,
        rule: rule.into(),
        confidence,
        subject: Subject::Config,
        path: path.into(),
        preview: hubcensus_types::redact(value),
        fingerprint: Fingerprint::of(value.as_bytes()),
        deleted_in_upper_layer: false,
        detail: BTreeMap::new(),
    }
}

pub(crate) async fn count(store: &Store, table: &str) -> i64 {
    // Table names come from the tests themselves, never from input.
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(store.pool()).await.unwrap()
}
