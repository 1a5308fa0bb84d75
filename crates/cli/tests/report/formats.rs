//! Every `--format` of `hubcensus report`, parsed back and compared with the views.

use serde_json::Value;
use sqlx::PgPool;

use crate::{census, hubcensus, images_in, json_report, stdout_of};

/// A row of the category_counts view: category, images, repositories, percent, Sysdig.
type ViewRow = (String, i64, i64, Option<f64>, Option<i32>);

const CATEGORIES: [&str; 9] = [
    "cryptomining",
    "embedded_keys",
    "proxy_avoidance",
    "newly_registered_domain",
    "malicious_domain",
    "hacking_tool",
    "dynamic_dns",
    "typosquatting",
    "other",
];

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn json_has_the_documented_shape_and_the_views_numbers(pool: PgPool) {
    census::fill(&pool).await;
    let report = json_report(&pool, &[]);
    // Sorted: a parsed object's order depends on serde_json's `preserve_order` (on in the builds
    // with YARA, whose engine's dependencies ask for it).
    let mut keys: Vec<&str> = report.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "categories",
            "coverage",
            "design",
            "frame",
            "frame_size",
            "run_id",
            "sample",
            "sample_size",
            "totals"
        ],
        "exactly the documented keys"
    );
    // Written without a run: the whole database, and no discovery to measure.
    assert_eq!((&report["run_id"], &report["coverage"]), (&Value::Null, &Value::Null));
    // A census: the design says so, and every interval collapses to the count.
    assert_eq!(report["design"], "census");
    assert_eq!(report["sample"], Value::Null);
    assert_eq!(report["sample_size"], report["frame"]["repositories_kept"]);
    assert_eq!(report["frame_size"], report["frame"]["repositories_kept"]);

    let rows = report["categories"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["category"].as_str().unwrap()).collect();
    assert_eq!(ids, CATEGORIES, "one row per category, in the priority order");
    for row in rows {
        for key in ["images", "repositories", "percent", "sysdig_2022"] {
            assert!(row.get(key).is_some(), "{key} missing in {row}");
        }
        let images = row["images"].as_f64().unwrap();
        for key in ["estimate_images", "ci_low_images", "ci_high_images"] {
            assert!((row[key].as_f64().unwrap() - images).abs() < 1e-9, "{key} of {row}");
        }
        let share = row["percent"].as_f64().unwrap() / 100.0;
        for key in ["estimate", "ci_low", "ci_high"] {
            assert!((row[key].as_f64().unwrap() - share).abs() < 1e-5, "{key} of {row}");
        }
    }

    // The numbers are the views' numbers.
    let view: Vec<ViewRow> = sqlx::query_as(
        "SELECT category::text, images, repositories, percent::float8, sysdig_2022 FROM category_counts
         ORDER BY array_position(enum_range(NULL::category), category)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for (row, (category, images, repositories, percent, sysdig)) in rows.iter().zip(&view) {
        assert_eq!(row["category"], category.as_str());
        assert_eq!(row["images"], *images, "{category}");
        assert_eq!(row["repositories"], *repositories, "{category}");
        assert_eq!(row["percent"].as_f64(), Some(percent.unwrap_or(0.0)), "{category}");
        assert_eq!(row["sysdig_2022"].as_i64(), sysdig.map(i64::from), "{category}");
    }
    assert_eq!(rows[0]["images"], 1, "X's miner");
    assert_eq!(rows[0]["percent"], 33.333, "1 of 3 analysed images");
    assert_eq!(rows[1]["images"], 0, "X's key is deleted by its upper layer");
    assert_eq!(rows[1]["images_deleted_only"], 1);
    assert_eq!(rows[7]["sysdig_2022"], Value::Null, "Sysdig gave no typosquatting figure");

    // Exclusive counts add up to the flagged images, which the view counts too.
    let flagged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM image_primary_category").fetch_one(&pool).await.unwrap();
    let exclusive: i64 = rows.iter().map(|r| r["images_exclusive"].as_i64().unwrap()).sum();
    assert_eq!(report["totals"]["images_flagged"], flagged);
    assert_eq!(exclusive, flagged);

    let frame = &report["frame"];
    assert_eq!(frame["repositories_seen"], 4);
    assert_eq!(frame["repositories_excluded"], 1);
    assert_eq!(frame["excluded"][0], serde_json::json!({"reason": "official", "repositories": 1}));
    assert_eq!(frame["repositories_analysed"], 3);
    let totals = &report["totals"];
    assert_eq!(totals["images_analysed"], 3);
    assert_eq!(totals["layers"], 4);
    assert_eq!(totals["bytes_scanned"], 4 * 65_536);
    assert_eq!(totals["findings_deleted"], 1);
    assert_eq!(totals["images_deleted_only"], 0, "X is flagged by its miner anyway");
    assert_eq!(totals["sysdig_2022_blog_total"], 1_652);
    assert_eq!(totals["sysdig_2022_table_total"], 1_777);
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn csv_markdown_html_and_table_render_the_same_rows(pool: PgPool) {
    census::fill(&pool).await;
    let report = json_report(&pool, &[]);
    let rows = report["categories"].as_array().unwrap();

    let csv = stdout_of(&pool, &["report", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..3], ["category", "label", "images"]);
    for column in &header {
        assert!(rows[0].get(column).is_some(), "CSV column {column} is a JSON field of a category row");
    }
    assert!(header.iter().any(|c| c == "sysdig_2022") && header.iter().any(|c| c == "repositories"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), CATEGORIES.len());
    for (record, row) in records.iter().zip(rows) {
        assert_eq!(&record[0], row["category"].as_str().unwrap());
        assert_eq!(record[2].parse::<i64>().unwrap(), row["images"].as_i64().unwrap());
        assert_eq!(record[3].parse::<i64>().unwrap(), row["repositories"].as_i64().unwrap());
        assert_eq!(record[7].parse::<i64>().ok(), row["sysdig_2022"].as_i64());
    }

    let markdown = stdout_of(&pool, &["report", "--format", "markdown"]);
    assert!(markdown.contains("| category | images |"), "{markdown}");
    assert!(
        markdown.contains("| Crypto mining (`cryptomining`) | 1 | 1 | 33.333 | 1 | 0 | 608 |"),
        "{markdown}"
    );
    assert_eq!(
        markdown.lines().filter(|l| l.starts_with("| ") && l.contains("(`")).count(),
        CATEGORIES.len()
    );

    let html = stdout_of(&pool, &["report", "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    let svg = &html[html.find("<svg").expect("an inline SVG chart")..html.find("</svg>").unwrap()];
    assert_eq!(
        svg.matches("<rect").count(),
        2 + 2 * CATEGORIES.len(),
        "a legend, then ours and Sysdig's per category"
    );
    assert!(svg.contains("608 (34.2%)"), "Sysdig's miners as a share of 1,777");
    assert!(svg.contains("1 (100.0%)"), "our one flagged image is a miner");
    for banned in ["<script", "src=", "href=", "<link", "@import", "url("] {
        assert!(!html.contains(banned), "the page is self-contained, but has {banned}");
    }

    let table = stdout_of(&pool, &["report"]);
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line:?}");
    }
    let miners = table.lines().find(|l| l.starts_with("Crypto mining")).unwrap();
    assert_eq!(
        miners.split_whitespace().collect::<Vec<_>>(),
        ["Crypto", "mining", "1", "1", "33.333", "1", "0", "608"]
    );
    assert!(table.contains("1,777") && table.contains("1,652"), "both Sysdig totals are cited");
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn output_goes_to_the_named_file(pool: PgPool) {
    census::fill(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let printed = stdout_of(&pool, &["report", "--format", "html", "--output", path.to_str().unwrap()]);
    assert!(printed.is_empty(), "nothing on stdout when --output is given");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, stdout_of(&pool, &["report", "--format", "html"]));

    let out = hubcensus(&pool, &["report", "--output", "/nonexistent-dir/report.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/report.txt"));
}

#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn an_empty_database_gives_an_empty_report_in_every_format(pool: PgPool) {
    let report = json_report(&pool, &[]);
    let rows = report["categories"].as_array().unwrap();
    assert_eq!(rows.len(), CATEGORIES.len());
    assert!(rows.iter().all(|r| r["images"] == 0 && r["repositories"] == 0 && r["percent"] == 0.0));
    assert_eq!(report["frame"]["repositories_seen"], 0);
    assert_eq!(report["totals"]["images_flagged"], 0);
    for format in ["table", "csv", "markdown", "html"] {
        let out = stdout_of(&pool, &["report", "--format", format]);
        assert!(!out.is_empty(), "{format}");
    }
}

/// Issue 17: `report --run` reports one run's images (the latest by default) and
/// `report --compare A B` lists what two runs flagged in common and apart, in every format.
#[sqlx::test(migrator = "hubcensus_store::MIGRATOR")]
async fn issue_17_one_run_or_two_compared(pool: PgPool) {
    census::fill(&pool).await;
    // Run 1 resolved every tag; run 2 every tag but the miner's (deleted since, say).
    for (label, filter) in [("first", ""), ("second", "WHERE r.namespace <> 'ns-a'")] {
        sqlx::query(
            "INSERT INTO census_runs (label, hub_url, registry_url) VALUES ($1, 'http://hub.test', 'http://r.test')",
        )
        .bind(label)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO run_images (run_id, tag_id, image_id)
             SELECT (SELECT max(id) FROM census_runs), t.id, t.image_id
             FROM tags t JOIN repositories r ON r.id = t.repository_id {filter}"
        ))
        .execute(&pool)
        .await
        .unwrap();
    }
    let latest = json_report(&pool, &[]);
    let first = json_report(&pool, &["--run", "1"]);
    assert_eq!((&latest["run_id"], &first["run_id"]), (&Value::from(2), &Value::from(1)));
    assert_eq!((images_in(&first, "cryptomining"), images_in(&latest, "cryptomining")), (1, 0));
    assert_eq!(first["totals"]["images_analysed"], 3);
    assert_eq!(latest["totals"]["images_analysed"], 2);
    let missing = hubcensus(&pool, &["report", "--run", "9"]);
    assert_ne!(missing.status.code(), Some(0), "an unknown run is an error");

    let compare = |format: &str| stdout_of(&pool, &["report", "--compare", "1", "2", "--format", format]);
    let json: Value = serde_json::from_str(&compare("json")).unwrap();
    assert_eq!(json["totals"]["only_a"], 1, "{json}");
    assert_eq!(json["categories"][0]["only_a"][0]["repository"], "ns-a/miner", "{json}");
    let csv = compare("csv");
    assert!(csv.lines().any(|l| l.starts_with("1,2,cryptomining,only_a,ns-a/miner,")), "{csv}");
    for format in ["table", "markdown", "html"] {
        let page = compare(format);
        assert!(page.contains("ns-a/miner") && page.contains("only in run 1"), "{format}: {page}");
    }
}
