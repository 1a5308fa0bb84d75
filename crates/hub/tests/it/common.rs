//! Shared helpers: a loopback gate, a client for a simulator, and a small task queue that runs
//! discovery to completion the way the pipeline's Postgres queue does (dedup by key).

use std::{
    collections::{BTreeMap, HashSet, VecDeque},
    sync::Arc,
    time::Duration,
};

use hubcensus_hub::{DiscoveryTask, ExclusionPolicy, Frame, HubClient, HubConfig};
use hubcensus_hubsim::{Sim, SimConfig, Truth};
use hubcensus_net::{Gate, GateConfig, OriginLimit};
use hubcensus_types::ExclusionReason;
use tokio::task::JoinSet;
use url::Url;

pub(crate) const SEED: u64 = 5;

pub(crate) async fn start(repos: u32, tweak: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut cfg = SimConfig::for_tests(SEED, repos);
    tweak(&mut cfg);
    Sim::start(cfg).await.unwrap()
}

/// A gate that may talk to loopback, fast retries, no pacing to speak of.
pub(crate) fn gate(tweak: impl FnOnce(&mut GateConfig)) -> Arc<Gate> {
    let mut cfg = GateConfig {
        allow_private_addresses: true,
        retry_base_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(50),
        max_retries: 4,
        max_rate_limit_wait: Duration::from_secs(2),
        default_limit: OriginLimit {
            requests_per_minute: 6_000_000,
            concurrency: 32,
            ..GateConfig::default().default_limit
        },
        ..GateConfig::default()
    };
    tweak(&mut cfg);
    Arc::new(Gate::new(cfg).unwrap())
}

pub(crate) fn client_for(base: &str, tweak: impl FnOnce(&mut HubConfig)) -> HubClient {
    let mut config = HubConfig::with_base_url(Url::parse(base).unwrap());
    tweak(&mut config);
    HubClient::new(gate(|_| {}), config)
}

/// What running every task to completion produced.
pub(crate) struct Drained {
    pub(crate) frame: Frame,
    pub(crate) notes: Vec<String>,
    pub(crate) tasks: usize,
}

/// Runs `seeds` and every follow-up (each key once), eight at a time.
pub(crate) async fn drain(client: &HubClient, seeds: Vec<DiscoveryTask>) -> Drained {
    let mut keys: HashSet<String> = seeds.iter().map(DiscoveryTask::key).collect();
    let mut queue: VecDeque<DiscoveryTask> = seeds.into();
    let mut running = JoinSet::new();
    let (mut frame, mut notes, mut tasks) = (Frame::new(), Vec::new(), 0);
    loop {
        while running.len() < 8 {
            let Some(task) = queue.pop_front() else { break };
            let client = client.clone();
            running.spawn(async move {
                let outcome = client.run(&task).await;
                (task, outcome)
            });
        }
        let Some(done) = running.join_next().await else { break };
        let (task, outcome) = done.unwrap();
        let outcome = outcome.unwrap_or_else(|e| panic!("{}: {e}", task.key()));
        tasks += 1;
        for repo in outcome.repositories {
            assert_eq!(
                repo.exclusion,
                hubcensus_hub::classify(&repo.reference, &repo.summary, &client.config().exclude)
            );
            frame.add(repo);
        }
        notes.extend(outcome.notes);
        queue.extend(outcome.follow_ups.into_iter().filter(|t| keys.insert(t.key())));
    }
    Drained { frame, notes, tasks }
}

/// The frame as `repository -> exclusion`.
pub(crate) fn frame_map(frame: &Frame) -> BTreeMap<String, Option<ExclusionReason>> {
    frame.classified(&ExclusionPolicy::default()).into_iter().map(|(r, e)| (r.to_string(), e)).collect()
}

/// The truth's repositories as `repository -> exclusion`, private ones left out when
/// `with_private` is false (nothing public shows them).
pub(crate) fn truth_map(truth: &Truth, with_private: bool) -> BTreeMap<String, Option<ExclusionReason>> {
    truth
        .repositories
        .iter()
        .filter(|r| with_private || !r.private)
        .map(|r| (r.repository.clone(), r.exclusion))
        .collect()
}

pub(crate) fn truth(sim: &Sim) -> Truth {
    tokio::task::block_in_place(|| sim.truth())
}

/// Counts of each exclusion, for messages.
pub(crate) fn tally(map: &BTreeMap<String, Option<ExclusionReason>>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in map.values() {
        *out.entry(e.map_or("kept".to_owned(), |e| e.to_string())).or_default() += 1;
    }
    out
}

/// Asserts two frames are equal, printing the first differences rather than two huge maps.
pub(crate) fn assert_same(
    got: &BTreeMap<String, Option<ExclusionReason>>,
    want: &BTreeMap<String, Option<ExclusionReason>>,
) {
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).take(10).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).take(10).collect();
    let wrong: Vec<_> =
        want.iter().filter_map(|(k, e)| got.get(k).filter(|g| *g != e).map(|g| (k, e, g))).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && wrong.is_empty(),
        "missing {missing:?}\nextra {extra:?}\nwrong (want, got) {wrong:?}\nwant {:?}\ngot {:?}",
        tally(want),
        tally(got)
    );
}

/// Prints what a run cost (visible with `--nocapture`).
pub(crate) fn figures(
    label: &str,
    want: &BTreeMap<String, Option<ExclusionReason>>,
    run: &Drained,
    client: &HubClient,
) {
    eprintln!(
        "{label}: {} repositories {:?} from {} tasks, {} requests ({:.2} per repository)",
        want.len(),
        tally(want),
        run.tasks,
        client.requests(),
        client.requests() as f64 / want.len() as f64
    );
}
