use hubcensus_store::{
    Store,
    feeds::{FeedEntry, FeedRecord},
};
use hubcensus_types::{Category, IndicatorKind};
use sqlx::PgPool;

use crate::common::count;

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn importing_the_same_feed_twice_changes_nothing(pool: PgPool) {
    let store = Store::from_pool(pool);
    let feed = FeedRecord {
        kind: "nrd".into(),
        name: "nrd-2022-06-01.txt".into(),
        sha256: "a".repeat(64),
        category: Some(Category::NewlyRegisteredDomain),
        published_on: "2022-06-01".parse().ok(),
    };
    let entry = |v: &str| FeedEntry {
        kind: IndicatorKind::Domain,
        value: v.into(),
        category: Category::NewlyRegisteredDomain,
        listed_on: "2022-06-01".parse().ok(),
    };
    // A duplicate line inside one file is one entry too.
    let entries = vec![entry("fresh-pool.xyz"), entry("other.top"), entry("fresh-pool.xyz")];
    let first = store.import_feed(&feed, &entries).await.unwrap();
    assert!(!first.already_imported);
    assert_eq!(first.entries, 2);
    let second = store.import_feed(&feed, &entries).await.unwrap();
    assert!(second.already_imported);
    assert_eq!(second.feed_id, first.feed_id);
    assert_eq!(count(&store, "feeds").await, 1);
    assert_eq!(count(&store, "feed_entries").await, 2);
}
