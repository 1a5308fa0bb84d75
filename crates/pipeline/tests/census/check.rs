//! The census's result against hubsim's ground truth. Shared with the CLI's end-to-end tests
//! (`crates/cli/tests/census` includes this file), so every way of running a census is held to
//! the same standard.

use std::collections::{BTreeMap, BTreeSet};

use hubcensus_hubsim::{Truth, population::content::Location};
use hubcensus_store::Store;
use hubcensus_types::{Category, ExclusionReason};

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(store.pool()).await.unwrap()
}

/// Checks the database against the truth: the frame (every public repository, its exclusion),
/// every planted threat found in its category — counted, or counted apart when every planted
/// item is deleted by an upper layer —, no other image flagged, every job done, every image and
/// layer decided, each unique layer scanned exactly once.
pub(crate) async fn assert_truth(store: &Store, truth: &Truth) {
    // The frame: every public repository seen, with the truth's exclusion; nothing else.
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT namespace || '/' || name, excluded_reason::text FROM repositories")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let seen: BTreeMap<String, Option<String>> = rows.into_iter().collect();
    let expected: BTreeMap<String, Option<String>> = truth
        .repositories
        .iter()
        .filter(|r| !r.private)
        .map(|r| (r.repository.clone(), r.exclusion.map(|e| e.as_str().to_owned())))
        .collect();
    let missing: Vec<&String> = expected.keys().filter(|k| !seen.contains_key(*k)).collect();
    assert!(missing.is_empty(), "repositories never discovered: {missing:?}");
    let extra: Vec<&String> = seen.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(extra.is_empty(), "repositories not in the population: {extra:?}");
    let wrong: Vec<(&String, &Option<String>, &Option<String>)> =
        expected.iter().filter(|(k, v)| seen.get(*k) != Some(v)).map(|(k, v)| (k, v, &seen[k])).collect();
    assert!(wrong.is_empty(), "exclusions differ (repository, truth, census): {wrong:?}");

    // Hub's inactive repositories: left out for that reason, exactly those, and their tags
    // never listed nor resolved (no tag row, no resolve job), so nothing of them was pulled or
    // scanned: images come only from resolved tags.
    let inactive: BTreeSet<&String> = expected
        .iter()
        .filter(|(_, e)| e.as_deref() == Some(ExclusionReason::Inactive.as_str()))
        .map(|(r, _)| r)
        .collect();
    assert!(!inactive.is_empty(), "the population has inactive repositories");
    let left_out: BTreeSet<&String> =
        seen.iter().filter(|(_, e)| e.as_deref() == Some("inactive")).map(|(r, _)| r).collect();
    assert_eq!(left_out, inactive, "repositories left out as inactive");
    let touched: Vec<String> = sqlx::query_scalar(
        "SELECT r.namespace || '/' || r.name FROM repositories r
         WHERE r.excluded_reason = 'inactive'
           AND (EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = r.id)
                OR EXISTS (SELECT 1 FROM jobs j
                           WHERE j.stage = 'resolve'
                             AND starts_with(j.key, r.namespace || '/' || r.name || ':')))",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(touched.is_empty(), "inactive repositories whose tags were listed or resolved: {touched:?}");

    // Nothing left undecided.
    assert_eq!(scalar(store, "SELECT count(*) FROM jobs WHERE state <> 'done'").await, 0, "unfinished jobs");
    assert_eq!(scalar(store, "SELECT count(*) FROM layers WHERE scan_state = 'pending'").await, 0);
    assert_eq!(scalar(store, "SELECT count(*) FROM images WHERE NOT config_scanned").await, 0);
    assert_eq!(
        scalar(store, "SELECT count(*) FROM images").await,
        scalar(store, "SELECT count(*) FROM analysed_images").await
    );

    // Per image and category: (counted, counted apart as deleted by an upper layer).
    let rows: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT i.digest, ic.category::text, ic.counted, ic.only_deleted AND ic.max_confidence >= 'medium'
         FROM image_categories ic JOIN images i ON i.id = ic.image_id
         WHERE ic.counted OR (ic.only_deleted AND ic.max_confidence >= 'medium')",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut flagged: BTreeMap<(String, Category), (bool, bool)> = BTreeMap::new();
    for (digest, category, counted, deleted_only) in rows {
        flagged.insert((digest, category.parse().unwrap()), (counted, deleted_only));
    }
    // Every category, typosquatting included: judged from the repository's name, recorded on the
    // repository, and counted for its images like any finding.
    let planted: Vec<_> = truth.images.iter().collect();
    for category in Category::ALL {
        assert!(planted.iter().any(|i| i.category == category), "the population plants {category}");
    }
    for image in &planted {
        let key = (image.manifest_digest.to_string(), image.category);
        let visible = image
            .items
            .iter()
            .any(|it| !matches!(it.location, Location::LayerFile { deleted_in: Some(_), .. }));
        let expected = if visible { (true, false) } else { (false, true) };
        if flagged.get(&key) != Some(&expected) {
            // Say what the census made of the image's layers: a failed scan, or no finding.
            let layers: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
                "SELECT l.digest, l.scan_state::text, l.error,
                        (SELECT count(*) FROM findings f WHERE f.layer_id = l.id)
                 FROM images i JOIN image_layers il ON il.image_id = i.id JOIN layers l ON l.id = il.layer_id
                 WHERE i.digest = $1 ORDER BY il.position",
            )
            .bind(image.manifest_digest.to_string())
            .fetch_all(store.pool())
            .await
            .unwrap();
            type TagRow = (String, Option<String>, Option<String>, Option<String>);
            let tags: Vec<TagRow> = sqlx::query_as(
                "SELECT t.name, t.digest, i.digest, t.resolve_error
                 FROM tags t JOIN repositories r ON r.id = t.repository_id LEFT JOIN images i ON i.id = t.image_id
                 WHERE r.namespace || '/' || r.name = $1 AND t.selected",
            )
            .bind(&image.repository)
            .fetch_all(store.pool())
            .await
            .unwrap();
            panic!(
                "planted {} in {} ({}:{}), (counted, deleted only) expected {expected:?}, found {:?}; \
                 layers (digest, state, error, findings): {layers:?}; \
                 selected tags (name, listed digest, image, error): {tags:?}",
                image.category,
                image.manifest_digest,
                image.repository,
                image.tag,
                flagged.get(&key),
            );
        }
    }
    let planted_digests: BTreeSet<String> = planted.iter().map(|i| i.manifest_digest.to_string()).collect();
    let clean_flagged: Vec<&(String, Category)> =
        flagged.keys().filter(|(d, _)| !planted_digests.contains(d)).collect();
    assert!(clean_flagged.is_empty(), "clean images flagged: {clean_flagged:?}");

    // Repositories judged from their metadata alone: exactly the planted typosquats, each
    // imitating the official image the truth names (no description flags anything without a
    // feed that lists its domains).
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT r.namespace || '/' || r.name, mc.category::text, f.detail->>'imitates'
         FROM repository_metadata_categories mc
         JOIN repositories r ON r.id = mc.repository_id
         LEFT JOIN findings f ON f.repository_id = mc.repository_id AND f.category = 'typosquatting'
         WHERE mc.counted",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let judged: BTreeSet<(String, String, Option<String>)> = rows.into_iter().collect();
    let expected: BTreeSet<(String, String, Option<String>)> = truth
        .images
        .iter()
        .filter(|i| i.category == Category::Typosquatting)
        .flat_map(|i| i.items.iter().map(move |it| (i, it)))
        .filter_map(|(i, it)| match &it.location {
            Location::RepoName { imitates } => Some((
                i.repository.clone(),
                Category::Typosquatting.as_str().to_owned(),
                Some(format!("library/{imitates}")),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(judged, expected, "repositories flagged from metadata (repository, category, imitates)");

    // Each unique layer fetched and scanned once, however many images share it.
    assert_eq!(
        scalar(store, "SELECT count(*) FROM layers WHERE scan_count <> 1").await,
        0,
        "layers scanned other than once"
    );
    let most_shared =
        scalar(store, "SELECT max(n) FROM (SELECT count(*) AS n FROM image_layers GROUP BY layer_id) s")
            .await;
    assert!(most_shared >= 10, "base layers are shared by many images: {most_shared}");
}
