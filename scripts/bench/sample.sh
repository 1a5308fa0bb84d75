#!/usr/bin/env bash
# The sampled-census bench: does `hubcensus plan` predict how long a sample takes when the
# pull quota binds? (issue #16; target: within ±20%)
#
# hubsim serves the demo's population with a pull quota of 40 per 15-second window
# (config/hubsim/bench-sample.toml). A pilot census of 30 sampled repositories builds the frame
# and measures pulls per image and the quota the registry reports; after one window, `plan
# --sample 300` predicts how long extending the sample to 300 takes, and `census --sample 300`
# extends it (keeping the pilot's draw) while the clock runs. Hub API and manifest pacing are
# set far above the quota so that the quota is what binds.
#
# Usage: scripts/bench/sample.sh   (needs target/release; `make bench` builds it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${BIN:-target/release}
work=target/bench/sample
pilot=${PILOT:-30}
size=${SIZE:-300}
mkdir -p "$work"

DATABASE_URL=$(scripts/pg.sh hubcensus_bench_sample)
export DATABASE_URL
psql "$DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' 2>/dev/null

# shellcheck source=../lib/hubsim.sh
source scripts/lib/hubsim.sh
start_hubsim config/hubsim/bench-sample.toml "$work"
export HUBCENSUS_HUB__REQUESTS_PER_MINUTE=60000 HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE=60000 HUBCENSUS_NET__REQUESTS_PER_MINUTE=60000
export HUBCENSUS_LOG__LEVEL=warn

"$bin/hubcensus" db migrate >/dev/null
"$bin/hubcensus" census --sample "$pilot" --seed 1 2>"$work/pilot.log"
sleep 16 # one window: the extension starts with a full quota, as the plan assumes

"$bin/hubcensus" plan --sample "$size" >"$work/plan.txt"
"$bin/hubcensus" plan --sample "$size" --format json >"$work/plan.json"
predicted=$(sed -n 's/.*"total_secs": \([0-9.e+-]*\).*/\1/p' "$work/plan.json" | tail -1)

start=$(date +%s.%N)
"$bin/hubcensus" census --sample "$size" --seed 1 2>"$work/census.log"
actual=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

sed 's/^/plan: /' "$work/plan.txt"
pulls=$(psql "$DATABASE_URL" -At -c 'SELECT coalesce(sum(pull_cost), 0) FROM images')
awk -v p="$predicted" -v a="$actual" -v n="$size" -v k="$pilot" -v pulls="$pulls" 'BEGIN {
    r = a / p
    printf "%-34s %d -> %d repositories, %d pulls in all\n", "sampled census: extension", k, n, pulls
    printf "%-34s %.1f s\n", "sampled census: planned", p
    printf "%-34s %.1f s\n", "sampled census: took", a
    printf "%-34s %.3f (target 0.8-1.2): %s\n", "sampled census: took / planned", r, (r >= 0.8 && r <= 1.2) ? "within" : "OUTSIDE"
    exit (r >= 0.8 && r <= 1.2) ? 0 : 1
}'
"$bin/hubcensus" report | sed -n '/^category *sample/,/^$/p'
