//! Namespace crawls: `/v2/namespaces/{ns}/repositories`, past the anonymous paging limit.
//!
//! A logged-in crawl reads any namespace whole. An anonymous one gets 403 at offset ~1000, so a
//! bigger namespace is read by name from both ends (`ordering=name`, then `ordering=-name`),
//! which covers up to twice the limit — checking that each end really came sorted the way it
//! was asked, since Hub's orderings have been seen inverted or ignored. Past twice the limit, or
//! when an ordering is not honoured, the namespace is sliced with the `name=` filter: one slice
//! per character, and a slice still over the limit into longer ones on both sides (`name=` is a
//! partial match, so `q` splits into `q`+c and c+`q`; a name equal to `q` is looked up directly).

use hubcensus_types::{Badge, RepoRef};

use crate::{
    DiscoveredRepo, DiscoveryTask, HubClient, HubError, NamespacePart, SHARD_ALPHABET, Source, TaskOutcome,
    classify,
    paging::{Direction, ListEnd, direction, read_listing},
    task::{OutcomeBuilder, valid_namespace},
    wire,
};

/// Runs one namespace task.
pub(crate) async fn run(
    client: &HubClient,
    task: &DiscoveryTask,
    namespace: &str,
    badge: Option<Badge>,
    part: &NamespacePart,
) -> Result<TaskOutcome, HubError> {
    valid_namespace(task, namespace)?;
    let config = client.config();
    let (ordering, filter) = match part {
        NamespacePart::Whole => ("name", None),
        NamespacePart::FromEnd { .. } => ("-name", None),
        NamespacePart::NameContains(q) => ("name", Some(q.as_str())),
    };
    let mut url = client.url(&format!("/v2/namespaces/{namespace}/repositories"));
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("page_size", &config.page_size().to_string()).append_pair("ordering", ordering);
        if let Some(name) = filter {
            q.append_pair("name", name);
        }
    }
    let listing = read_listing(client, url, None).await?;
    let mut out = OutcomeBuilder::default();
    out.reported(listing.count);
    let mut names: Vec<String> = Vec::with_capacity(listing.entries.len());
    for value in listing.entries {
        match wire::repo_entry(value) {
            Ok((reference, _)) if reference.namespace() != namespace => {
                out.note(format!(
                    "namespace {namespace}: listing holds {reference} of another namespace; skipped"
                ));
            }
            Ok((reference, mut summary)) => {
                summary.badge = summary.badge.or(badge);
                names.push(reference.name().to_owned());
                let exclusion = classify(&reference, &summary, &config.exclude);
                out.push_repo(DiscoveredRepo { reference, summary, exclusion, source: Source::Namespace });
            }
            Err(e) => out.note(format!("namespace {namespace}: {e}")),
        }
    }
    if listing.count == Some(0) && *part == NamespacePart::Whole {
        out.note(format!("namespace {namespace} is empty or does not exist (200, count 0)"));
    }
    match listing.end {
        ListEnd::Capped => capped(client, &mut out, namespace, badge, part, &names, listing.count).await?,
        ListEnd::PastEnd => {
            out.note(format!("namespace {namespace}: a later page was gone (the listing shrank)"));
        }
        ListEnd::Complete | ListEnd::Enough => {}
    }
    Ok(out.finish())
}

/// Plans what covers the rest of a listing that stopped at the anonymous limit.
async fn capped(
    client: &HubClient,
    out: &mut OutcomeBuilder,
    namespace: &str,
    badge: Option<Badge>,
    part: &NamespacePart,
    names: &[String],
    count: Option<u64>,
) -> Result<(), HubError> {
    let read = names.len() as u64;
    // Byte order, or — Hub's database collation may ignore punctuation — alphanumerics only.
    let stripped: Vec<String> =
        names.iter().map(|n| n.chars().filter(char::is_ascii_alphanumeric).collect()).collect();
    let order = match (direction(names), direction(&stripped)) {
        (raw @ (Direction::Ascending | Direction::Descending), _) => raw,
        (_, loose) => loose,
    };
    let count_text = count.map_or("unknown".into(), |c| c.to_string());
    out.note(format!(
        "namespace {namespace} ({}): anonymous paging stopped after {read} of {count_text} repositories",
        describe(part)
    ));
    let slices = |out: &mut OutcomeBuilder| {
        for c in SHARD_ALPHABET.chars() {
            out.push_follow_up(contains(namespace, badge, c.to_string()));
        }
    };
    match part {
        NamespacePart::Whole if matches!(order, Direction::Ascending | Direction::Unknown) => {
            out.push_follow_up(DiscoveryTask::Namespace {
                namespace: namespace.to_owned(),
                badge,
                part: NamespacePart::FromEnd { already_read: read },
            });
        }
        NamespacePart::Whole => {
            out.note(format!(
                "namespace {namespace}: ordering=name was not honoured ({order:?}); slicing by name"
            ));
            slices(out);
        }
        NamespacePart::FromEnd { already_read } => {
            if !matches!(order, Direction::Descending | Direction::Unknown) {
                out.note(format!(
                    "namespace {namespace}: ordering=-name was not honoured ({order:?}); slicing by name"
                ));
                slices(out);
            } else if count.is_none_or(|c| already_read + read < c) {
                out.note(format!("namespace {namespace}: both ends leave a middle unread; slicing by name"));
                slices(out);
            }
        }
        NamespacePart::NameContains(q) => {
            if q.chars().count() >= client.config().max_query_len {
                out.note(format!(
                    "namespace {namespace}: slice {q:?} is still over the limit; not split further"
                ));
                return Ok(());
            }
            for c in SHARD_ALPHABET.chars() {
                out.push_follow_up(contains(namespace, badge, format!("{q}{c}")));
                out.push_follow_up(contains(namespace, badge, format!("{c}{q}")));
            }
            // A name equal to the slice is in neither longer slice.
            if let Ok(reference) = RepoRef::new(namespace, q) {
                match client.repository(&reference).await {
                    Ok(mut summary) => {
                        summary.badge = summary.badge.or(badge);
                        let exclusion = classify(&reference, &summary, &client.config().exclude);
                        out.push_repo(DiscoveredRepo {
                            reference,
                            summary,
                            exclusion,
                            source: Source::Namespace,
                        });
                    }
                    Err(HubError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

fn contains(namespace: &str, badge: Option<Badge>, q: String) -> DiscoveryTask {
    DiscoveryTask::Namespace { namespace: namespace.to_owned(), badge, part: NamespacePart::NameContains(q) }
}

fn describe(part: &NamespacePart) -> String {
    match part {
        NamespacePart::Whole => "by name".into(),
        NamespacePart::FromEnd { .. } => "from the end".into(),
        NamespacePart::NameContains(q) => format!("names containing {q:?}"),
    }
}
