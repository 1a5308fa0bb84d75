//! The typosquat judgement: every repository name the census saw, against the names worth
//! imitating, once discovery has seen them all.
//!
//! A name imitates something only relative to its targets — the official images and the
//! most-pulled publishers *this census has seen*, with their pull counts — so the judgement
//! needs the whole frame and cannot run per repository as discovery goes. It is one job in the
//! discovery queue (key [`KEY`]), enqueued with the run's seeds and re-armed with them for a new
//! run. Leased before discovery has drained, it is given back (without spending an attempt or
//! pausing the stage) to wait; after, it builds the scorer, pages through the repositories by
//! id, scores each page off the runtime and *replaces* the page's verdicts in one transaction.
//! Like every job it is leased and heart-beaten, so a killed worker's judgement is taken again,
//! and since a page's verdicts replace the earlier ones, judging twice writes the same rows.

use std::{collections::BTreeMap, sync::Arc};

use hubcensus_intel::{Target, TyposquatHit, TyposquatScorer};
use hubcensus_store::{metadata::NamedRepository, queue::NewJob};
use hubcensus_types::{Category, Finding, Fingerprint, Stage, Subject};

use super::{PAGE, store_failed};
use crate::{context::Ctx, progress::Counters, runner::Outcome};

/// The judgement's job key in the discovery queue (no discovery task key has this shape).
pub(crate) const KEY: &str = "typosquat_names";

/// The judgement's job.
pub(crate) fn job(max_attempts: i32) -> NewJob {
    super::waiting_job(KEY, max_attempts)
}

pub(super) async fn run(ctx: &Ctx) -> Result<Outcome, Outcome> {
    if let Some(wait) = super::wait_for_discovery(ctx).await? {
        return Ok(wait);
    }
    let store = ctx.store();
    let scorer = Arc::new(scorer(ctx).await?);
    let mut after = 0;
    loop {
        let page = store.typosquat_candidates(after, PAGE).await.map_err(|e| store_failed(&e))?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let judged: Vec<i64> = page.iter().map(|r| r.id).collect();
        let s = scorer.clone();
        let hits = tokio::task::spawn_blocking(move || judge(&s, &page))
            .await
            .map_err(|e| Outcome::retry(format!("the typosquat scorer failed: {e}")))?;
        let written = store
            .replace_typosquat_findings(&judged, &hits, &ctx.rules_version)
            .await
            .map_err(|e| store_failed(&e))?;
        let counters = ctx.counters.stage(Stage::Discover);
        Counters::add(&counters.findings, written);
    }
    Ok(Outcome::Done)
}

/// The scorer this census needs: the built-in official list, then the official images and the
/// most-pulled publishers it saw, with their pull counts.
async fn scorer(ctx: &Ctx) -> Result<TyposquatScorer, Outcome> {
    let publishers = i64::try_from(ctx.config.typosquat_publishers).unwrap_or(i64::MAX);
    let targets = ctx.store().typosquat_targets(publishers).await.map_err(|e| store_failed(&e))?;
    let config = (*ctx.services.scanner.typosquat).clone();
    let mut scorer = TyposquatScorer::new(config, Target::official_images());
    for t in &targets {
        // A stored repository always has a valid name; one that does not cannot be imitated.
        if let Err(e) = scorer.add_target(&t.name, &t.namespace, t.pull_count) {
            tracing::warn!(repository = %format!("{}/{}", t.namespace, t.name), error = %e, "not a typosquat target");
        }
    }
    Ok(scorer)
}

/// Scores one page; returns each hit as its repository's finding.
fn judge(scorer: &TyposquatScorer, page: &[NamedRepository]) -> Vec<(i64, Finding)> {
    page.iter()
        .filter_map(|r| {
            let hit = scorer.score(&r.namespace, &r.name, r.pull_count)?;
            Some((r.id, finding(r, &hit)))
        })
        .collect()
}

/// The finding a hit becomes: category `typosquatting`, rule `typosquat:<technique>`, on the
/// repository's metadata at path `name`. The fingerprint is the imitated repository's, so the
/// typosquats of one target share it.
pub(crate) fn finding(r: &NamedRepository, hit: &TyposquatHit) -> Finding {
    let imitates = hit.imitates.to_string();
    let evidence: Vec<&str> = hit.evidence.iter().map(|e| e.detail.as_str()).collect();
    let detail = BTreeMap::from([
        ("imitates".to_owned(), imitates.clone()),
        ("technique".to_owned(), hit.technique.as_str().to_owned()),
        ("score".to_owned(), format!("{:.2}", hit.score)),
        ("evidence".to_owned(), evidence.join("; ")),
    ]);
    let mut preview = format!("{}/{} imitates {imitates}", r.namespace, r.name);
    if preview.len() > 120 {
        let cut = (0..=120).rev().find(|&i| preview.is_char_boundary(i)).unwrap_or(0);
        preview.truncate(cut);
    }
    Finding {
        category: Category::Typosquatting,
        rule: format!("typosquat:{}", hit.technique),
        confidence: hit.confidence,
        subject: Subject::Metadata,
        path: "name".to_owned(),
        preview,
        fingerprint: Fingerprint::of(imitates.as_bytes()),
        deleted_in_upper_layer: false,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use hubcensus_intel::TyposquatConfig;
    use hubcensus_types::Confidence;

    use super::*;

    fn repo(id: i64, namespace: &str, name: &str, pull_count: Option<i64>) -> NamedRepository {
        NamedRepository { id, namespace: namespace.into(), name: name.into(), pull_count }
    }

    #[test]
    fn hits_become_metadata_findings_naming_what_they_imitate() {
        let mut scorer = TyposquatScorer::new(TyposquatConfig::builtin().unwrap(), Target::official_images());
        scorer.add_target("nginx", "library", Some(10_000_000_000)).unwrap();
        let page = [
            repo(1, "someuser", "ngnix", Some(120)),
            repo(2, "someuser", "webapp", Some(120)),
            repo(3, "bitnami", "nginx", Some(50_000_000)),
        ];
        let hits = judge(&scorer, &page);
        assert_eq!(hits.len(), 1, "{hits:?}");
        let (id, f) = &hits[0];
        assert_eq!(*id, 1);
        assert_eq!(f.category, Category::Typosquatting);
        assert_eq!(f.rule, "typosquat:edit_distance");
        assert!(f.confidence >= Confidence::Medium, "{f:?}");
        assert_eq!((f.subject.clone(), f.path.as_str()), (Subject::Metadata, "name"));
        assert_eq!(f.detail["imitates"], "library/nginx");
        assert_eq!(f.preview, "someuser/ngnix imitates library/nginx");
        assert_eq!(f.fingerprint, Fingerprint::of(b"library/nginx"));
        assert!(!f.detail["evidence"].is_empty());
    }
}
