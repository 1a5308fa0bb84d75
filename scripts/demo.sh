#!/usr/bin/env bash
# `make demo`: a census of the built-in Docker Hub simulator into a local Postgres, then the
# report. Everything talks to loopback: hubsim serves the Hub API, token service, registry and
# CDN on ephemeral ports; the census is pointed at them through HUBCENSUS_* variables (the
# defaults in config/default.toml still target the real Docker Hub).
#
#   scripts/demo.sh [HUBSIM_CONFIG]     default config/hubsim/demo.toml
#   SAMPLE=N [SEED=S] scripts/demo.sh    a sampled census of N repositories instead (`make
#                                       demo-sample`): the report shows 95% intervals
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=target/release
sim_config=${1:-config/hubsim/demo.toml}
work=target/demo
census_args=()
if [[ -n ${SAMPLE:-} ]]; then
    census_args=(--sample "$SAMPLE" --seed "${SEED:-2022}")
    work=target/demo-sample
fi
mkdir -p "$work"

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

DATABASE_URL=$(scripts/pg.sh hubcensus_demo)
export DATABASE_URL
log "database: $DATABASE_URL (emptied for the demo)"
psql "$DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null

log "hubsim: $sim_config"
# shellcheck source=lib/hubsim.sh
source scripts/lib/hubsim.sh
start_hubsim "$sim_config" "$work"
export HUBCENSUS_HUB__REQUESTS_PER_MINUTE=60000 HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE=60000 HUBCENSUS_NET__REQUESTS_PER_MINUTE=60000
echo "hub $HUBCENSUS_HUB__URL  registry $HUBCENSUS_REGISTRY__URL" >&2

log "feeds: the simulator's threat feeds (URLhaus CSV, newly registered domains, dynamic DNS)"
"$bin/hubsim" feeds --config "$sim_config" --out "$work/feeds" >/dev/null
"$bin/hubcensus" db migrate
"$bin/hubcensus" feeds import --kind urlhaus "$work/feeds/urlhaus.csv"
"$bin/hubcensus" feeds import --kind nrd "$work/feeds/nrd.txt"
"$bin/hubcensus" feeds import --kind domains --category dynamic_dns "$work/feeds/dyndns.txt"

log "census"
start=$(date +%s)
"$bin/hubcensus" census "${census_args[@]}"
log "census took $(( $(date +%s) - start )) s"

log "report"
"$bin/hubcensus" report
"$bin/hubcensus" report --format html --output "$work/report.html"
echo "HTML report: $work/report.html" >&2
