//! `hubcensus feeds import|list`: feeds imported after a census change the next report through
//! the views alone — nothing is scanned again — and the newly-registered window is the
//! reader's choice.

use std::path::Path;

use serde_json::Value;
use sqlx::PgPool;

use crate::{census, hubcensus, images_in, json_report, stdout_of};

/// A URLhaus `csv_recent` download: the URL's host is what image Y references.
const URLHAUS: &str = "\
################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs)           #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
\"2849501\",\"2022-06-10 08:55:06\",\"http://dl.evil-cdn.top/x.sh\",\"online\",\"2022-06-10 08:55:06\",\"malware_download\",\"elf,mips\",\"https://urlhaus.abuse.ch/url/2849501/\",\"someone\"
";

/// What the scanner's stored state looks like: counts and the time every layer was scanned.
async fn scanned_state(pool: &PgPool) -> (i64, i64, Vec<String>) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM indicators),
                (SELECT array_agg(scanned_at::text ORDER BY id) FROM layers)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_feed_imported_after_the_census_changes_the_report_without_a_rescan(pool: PgPool) {
    census::fill(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    let before = scanned_state(&pool).await;
    assert_eq!(images_in(&json_report(&pool, &[]), "malicious_domain"), 0);

    let urlhaus = write(dir.path(), "urlhaus-recent.csv", URLHAUS);
    let said = stdout_of(&pool, &["feeds", "import", "--kind", "urlhaus", &urlhaus]);
    assert!(said.contains("2 entries imported") && said.contains("flags 1 image"), "{said}");
    let report = json_report(&pool, &[]);
    assert_eq!(images_in(&report, "malicious_domain"), 1, "Y's host is listed");
    assert_eq!(report["totals"]["images_flagged"], 2);
    assert_eq!(scanned_state(&pool).await, before, "no finding, indicator or layer scan was written");

    // The same bytes again (under another name) are the same feed: nothing changes.
    let again = write(dir.path(), "copy.csv", URLHAUS);
    let said = stdout_of(&pool, &["feeds", "import", "--kind", "urlhaus", &again]);
    assert!(said.contains("imported before"), "{said}");
    let feeds: i64 = sqlx::query_scalar("SELECT count(*) FROM feeds").fetch_one(&pool).await.unwrap();
    assert_eq!(feeds, 1);
    assert_eq!(images_in(&json_report(&pool, &[]), "malicious_domain"), 1);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn newly_registered_domains_are_judged_by_push_date_and_window(pool: PgPool) {
    census::fill(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    // Dated by its file name: 60 days before Y was pushed.
    let dated = write(dir.path(), "nrd-2022-04-16.txt", "late-domain.xyz\n");
    stdout_of(&pool, &["feeds", "import", "--kind", "nrd", &dated]);
    assert_eq!(
        images_in(&json_report(&pool, &[]), "newly_registered_domain"),
        0,
        "outside the default 30 days"
    );
    let wide = json_report(&pool, &["--nrd-window-days", "90"]);
    assert_eq!(images_in(&wide, "newly_registered_domain"), 1, "inside 90 days");
    assert_eq!(wide["totals"]["nrd_window_days"], 90);
    let table = stdout_of(&pool, &["report", "--nrd-window-days", "90"]);
    assert!(table.contains("within 90 days"), "{table}");

    // A WhoisDS-style list has no dates of its own: --date gives the day, and a name.
    let whoisds = write(dir.path(), "domain-names.txt", "fresh-z.xyz\nunrelated.top\n");
    let said = stdout_of(
        &pool,
        &[
            "feeds",
            "import",
            "--kind",
            "nrd",
            "--date",
            "2022-06-10",
            "--name",
            "whoisds-2022-06-10",
            &whoisds,
        ],
    );
    assert!(
        said.contains("whoisds-2022-06-10: 2 entries imported") && said.contains("flags 1 image"),
        "{said}"
    );
    assert_eq!(
        images_in(&json_report(&pool, &[]), "newly_registered_domain"),
        1,
        "Z, 5 days after registration"
    );

    let list: Value =
        serde_json::from_str(&stdout_of(&pool, &["feeds", "list", "--format", "json"])).unwrap();
    let feeds = list.as_array().unwrap();
    assert_eq!(feeds.len(), 2);
    assert_eq!(feeds[0]["name"], "nrd-2022-04-16.txt");
    assert_eq!(feeds[0]["published_on"], "2022-04-16");
    assert_eq!(feeds[0]["images_matched"], 0, "the configured 30-day window");
    assert_eq!(feeds[1]["published_on"], "2022-06-10");
    assert_eq!(feeds[1]["category"], "newly_registered_domain");
    assert_eq!(feeds[1]["images_matched"], 1);
    let table = stdout_of(&pool, &["feeds", "list"]);
    assert!(table.contains("whoisds-2022-06-10"), "{table}");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn a_category_for_plain_lists_and_a_refusal_for_the_wrong_kind(pool: PgPool) {
    census::fill(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    let hosts = write(dir.path(), "ddns-hosts.txt", "0.0.0.0 dl.evil-cdn.top\n");

    // A hosts file read as URLhaus has no readable record: refused, nothing stored.
    let out = hubcensus(&pool, &["feeds", "import", "--kind", "urlhaus", &hosts]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kind"), "{out:?}");
    let feeds: i64 = sqlx::query_scalar("SELECT count(*) FROM feeds").fetch_one(&pool).await.unwrap();
    assert_eq!(feeds, 0);

    let out = hubcensus(&pool, &["feeds", "import", "--kind", "hosts", "--category", "sideways", &hosts]);
    assert_eq!(out.status.code(), Some(2), "an unknown category is an error");

    stdout_of(&pool, &["feeds", "import", "--kind", "hosts", "--category", "dynamic-dns", &hosts]);
    let report = json_report(&pool, &[]);
    assert_eq!(images_in(&report, "dynamic_dns"), 1);
    assert_eq!(images_in(&report, "malicious_domain"), 0, "the list's category, not the default");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn whoisds_archives_and_adblock_lists_are_imported_in_their_own_formats(pool: PgPool) {
    census::fill(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    // A WhoisDS daily archive: a zip with domain-names.txt, dated only by the file's name.
    let archive = dir.path().join("2022-06-10.zip");
    {
        use std::io::Write as _;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
        zip.start_file("domain-names.txt", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(b"fresh-z.xyz\nunrelated.top\n").unwrap();
        zip.finish().unwrap();
    }
    let said = stdout_of(&pool, &["feeds", "import", "--kind", "nrd-archive", archive.to_str().unwrap()]);
    assert!(said.contains("2 entries imported") && said.contains("flags 1 image"), "{said}");
    assert_eq!(images_in(&json_report(&pool, &[]), "newly_registered_domain"), 1, "Z, 5 days after");

    // An AdBlock-style list: `||domain^` rules, comments and exceptions skipped.
    let adblock = write(
        dir.path(),
        "blocklist.txt",
        "[Adblock Plus 2.0]\n! Title: test list\n||evil-cdn.top^\n@@||good.example^\n",
    );
    let said = stdout_of(&pool, &["feeds", "import", "--kind", "adblock", &adblock]);
    assert!(said.contains("1 entries imported") && said.contains("flags 1 image"), "{said}");
    assert_eq!(
        images_in(&json_report(&pool, &[]), "malicious_domain"),
        1,
        "Y's host is under the listed domain"
    );
}
