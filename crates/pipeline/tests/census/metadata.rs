//! Repository metadata (issue #7): descriptions, short and full, of every repository —
//! image-less spam included — go through the extractor and the rules and are recorded on the
//! repository; a feed that lists a description's domain flags the repository from its metadata
//! alone, in SQL, without scanning anything again.

use hubcensus_hubsim::population::RepoKind;
use hubcensus_intel::FeedKind;
use hubcensus_pipeline::{PipelineConfig, Until};
use hubcensus_store::Store;
use hubcensus_types::{Category, Stage};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    check::assert_truth,
    common::{Harness, fast_config, import, scalar},
};

/// The host of the first `https://` link in `text`.
fn linked_host(text: &str) -> Option<&str> {
    let rest = &text[text.find("https://")? + "https://".len()..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|h| h.contains('.'))
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_description_linking_a_listed_domain_flags_its_repository_from_metadata(pool: PgPool) {
    let h = Harness::start(Store::from_pool(pool), 200, |_| {}).await;
    let config = PipelineConfig { fetch_full_descriptions: true, ..fast_config() };
    let (census, _) = h.census(config);
    let run = census.start(&h.plan(false)).await.unwrap();
    assert!(census.work(&Stage::ALL, Until::Drained, CancellationToken::new()).await.unwrap().drained);
    census.finish(run.run_id()).await.unwrap();
    // Scanning descriptions flags nothing by itself in hubsim's population.
    assert_truth(&h.store, &h.truth).await;

    // Every repository's full description was read (one detail request each) and scanned.
    let public = h.truth.repositories.iter().filter(|r| !r.private).count() as i64;
    assert_eq!(scalar(&h.store, "SELECT count(*) FROM repositories").await, public);
    assert_eq!(
        scalar(&h.store, "SELECT count(*) FROM repositories WHERE full_description IS NULL").await,
        0,
        "full descriptions fetched"
    );

    // The spam campaigns' repositories: no tags, a link in the description, which the census
    // recorded as the repository's indicators (from its short description, seen first).
    let spam: Vec<&str> = h
        .truth
        .repositories
        .iter()
        .filter(|r| r.kind == RepoKind::Spam && !r.private)
        .map(|r| r.repository.as_str())
        .collect();
    assert!(!spam.is_empty(), "the population has spam repositories");
    let (repository, description): (String, String) = sqlx::query_as(
        "SELECT namespace || '/' || name, description FROM repositories
         WHERE namespace || '/' || name = ANY($1) ORDER BY id LIMIT 1",
    )
    .bind(&spam)
    .fetch_one(h.store.pool())
    .await
    .unwrap();
    let host =
        linked_host(&description).unwrap_or_else(|| panic!("{repository}: {description:?}")).to_owned();
    let recorded: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT i.kind::text, i.value, i.first_path FROM indicators i JOIN repositories r ON r.id = i.repository_id
         WHERE r.namespace || '/' || r.name = $1 ORDER BY 1, 2",
    )
    .bind(&repository)
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    assert!(
        recorded.contains(&("domain".into(), host.clone(), "description".into())),
        "{repository}: {recorded:?}"
    );
    let spam_with_links = scalar(
        &h.store,
        "SELECT count(DISTINCT repository_id) FROM indicators WHERE repository_id IS NOT NULL",
    )
    .await;
    assert!(spam_with_links >= spam.len() as i64, "every spam description's link is recorded");

    // A blocklist of malicious sites names the domain: the repository is flagged from its
    // metadata, with no image and no new scan.
    let text = format!("# spam domains\n{host}\n");
    import(&h.store, "spam-domains.txt", FeedKind::Domains, &text, Some(Category::MaliciousDomain)).await;
    let flagged: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT r.namespace || '/' || r.name, mc.category::text, mc.counted
         FROM repository_metadata_categories mc JOIN repositories r ON r.id = mc.repository_id
         WHERE mc.category <> 'typosquatting' ORDER BY 1",
    )
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    assert_eq!(flagged, vec![(repository.clone(), "malicious_domain".to_owned(), true)]);
    let matched: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.kind::text, m.value FROM repository_feed_matches m JOIN repositories r ON r.id = m.repository_id
         WHERE r.namespace || '/' || r.name = $1",
    )
    .bind(&repository)
    .fetch_all(h.store.pool())
    .await
    .unwrap();
    assert_eq!(matched, vec![("domain".to_owned(), host)]);
    // Image-less: no image is counted for it.
    assert_eq!(
        scalar(
            &h.store,
            "SELECT count(*) FROM image_categories WHERE category = 'malicious_domain' AND counted"
        )
        .await,
        h.truth.images.iter().filter(|i| i.category == Category::MaliciousDomain).count() as i64
    );
}
