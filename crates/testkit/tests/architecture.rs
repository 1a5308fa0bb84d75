//! docs/architecture.md against the code: the crate dependency graph it shows must be the one
//! the `Cargo.toml` files declare, every crate must have a row in its table, and no doc may
//! link outside the repository or name a path of one machine.
//!
//! A newcomer reads that page first; a stale arrow there sends them looking for code that is
//! not where it says. So when a crate is added (a new `crates/<name>`), removed or rewired,
//! this test fails and says which line of the page to change.

// A panic in a test helper is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

const PREFIX: &str = "hubcensus-";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each crate directory's workspace dependencies (`[dependencies]` only), by directory name.
fn declared() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for entry in fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let doc: toml::Table = fs::read_to_string(&manifest).unwrap().parse().unwrap();
        let deps = doc
            .get("dependencies")
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().filter_map(|k| k.strip_prefix(PREFIX)).map(str::to_owned).collect())
            .unwrap_or_default();
        graph.insert(dir.file_name().unwrap().to_string_lossy().into_owned(), deps);
    }
    graph
}

/// The graph in docs/architecture.md's ```text block of `crate → a, b` lines.
fn documented(page: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for line in page.lines() {
        let Some((from, to)) = line.split_once(" → ") else { continue };
        let from = from.trim();
        if from.contains(' ') || from.contains('`') || from.is_empty() {
            continue;
        }
        let to = to.trim();
        let deps = if to == "(none)" {
            BTreeSet::new()
        } else {
            to.split(',').map(|d| d.trim().to_owned()).collect()
        };
        graph.insert(from.to_owned(), deps);
    }
    graph
}

fn line(name: &str, deps: &BTreeSet<String>) -> String {
    let to = if deps.is_empty() {
        "(none)".to_owned()
    } else {
        deps.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    format!("{name:<8} → {to}")
}

/// What to change in the page so it matches `code`; empty when it does.
fn differences(
    code: &BTreeMap<String, BTreeSet<String>>,
    doc: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, deps) in code {
        match doc.get(name) {
            None => out.push(format!("crates/{name} is missing: add `{}`", line(name, deps))),
            Some(d) if d != deps => {
                out.push(format!("crates/{name} is wired differently: write `{}`", line(name, deps)));
            }
            Some(_) => {}
        }
    }
    for name in doc.keys().filter(|n| !code.contains_key(*n)) {
        out.push(format!("crates/{name} does not exist: remove its line"));
    }
    out
}

#[test]
fn the_dependency_graph_in_architecture_md_is_the_one_cargo_declares() {
    let page = fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let code = declared();
    assert!(code.contains_key("types") && code.contains_key("cli"), "read the crates: {code:?}");
    let wrong = differences(&code, &documented(&page));
    assert!(
        wrong.is_empty(),
        "docs/architecture.md's dependency block disagrees with Cargo.toml:\n{}",
        wrong.join("\n")
    );
    for name in code.keys() {
        assert!(
            page.contains(&format!("| `crates/{name}` | {PREFIX}{name} |")),
            "docs/architecture.md's crate table has no row for crates/{name}"
        );
    }
}

#[test]
fn the_check_names_what_to_change() {
    let code: BTreeMap<String, BTreeSet<String>> = [
        ("accuracy".to_owned(), ["scan".to_owned(), "types".to_owned()].into()),
        ("types".to_owned(), BTreeSet::new()),
    ]
    .into();
    let doc = documented("```text\ntypes    → (none)\nold      → types\n```");
    let wrong = differences(&code, &doc);
    assert_eq!(
        wrong,
        vec![
            "crates/accuracy is missing: add `accuracy → scan, types`".to_owned(),
            "crates/old does not exist: remove its line".to_owned(),
        ]
    );
}

#[test]
fn docs_link_only_inside_the_repository() {
    let root = root();
    let mut pages: Vec<PathBuf> = vec![root.join("README.md")];
    for dir in ["docs", "docs/decisions"] {
        for entry in fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    let machine_paths = ["/work/", "/home/", "/root/", "/tmp/", "../shared/"];
    for page in pages {
        let text = fs::read_to_string(&page).unwrap();
        for bad in machine_paths {
            assert!(!text.contains(bad), "{} names `{bad}`, a path outside the repository", page.display());
        }
        // Relative links must resolve inside the repository.
        for (i, _) in text.match_indices("](") {
            let target = &text[i + 2..];
            let target = &target[..target.find(')').unwrap_or(target.len())];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap_or(target);
            let resolved = page.parent().unwrap().join(file);
            let inside = resolved.canonicalize().is_ok_and(|p| p.starts_with(root.canonicalize().unwrap()));
            assert!(inside, "{} links to `{target}`, which is not a file of the repository", page.display());
        }
    }
}
