#!/usr/bin/env bash
# The politeness bench: `hubcensus discover` workers against a hubsim that enforces a Hub API
# limit of 600 requests a minute (config/hubsim/bench-politeness.toml), with the census
# configured for the same 600 and its budgets shared through Postgres ([budgets] shared, the
# default). Run once with one worker and once with three on the same account:
#
#   achieved ÷ configured   Hub API requests of all workers (their own "crawl cost" counters)
#                           per minute of wall time, first start to last exit, ÷ 600
#   429s                    responses 429 all workers received (target: zero)
#
# Three workers must reach the same rate as one, not three times it. With
# `HUBCENSUS_BUDGETS__SHARED=false` each process paces itself alone and three collect 429s.
#
# Usage: scripts/bench/politeness.sh   (needs target/release, which `make bench` builds, or
# BIN=target/debug)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${BIN:-target/release}   # BIN=target/debug: the pace is the budget, not the CPU
work=target/bench/politeness
mkdir -p "$work"
configured=600

DATABASE_URL=$(scripts/pg.sh hubcensus_bench)
export DATABASE_URL
# shellcheck source=../lib/hubsim.sh
source scripts/lib/hubsim.sh
export HUBCENSUS_LOG__LEVEL=warn HUBCENSUS_HUB__REQUESTS_PER_MINUTE=$configured
export HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE=600000 HUBCENSUS_NET__REQUESTS_PER_MINUTE=600000

run() { # WORKERS
    local workers=$1 pids=() i
    psql "$DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' 2>/dev/null
    start_hubsim config/hubsim/bench-politeness.toml "$work"
    "$bin/hubcensus" db migrate >/dev/null
    local start
    start=$(date +%s.%N)
    for i in $(seq "$workers"); do
        "$bin/hubcensus" discover >/dev/null 2>"$work/discover-$workers-$i.log" &
        pids+=($!)
        # The first opens the run; the others join it.
        if [[ $i == 1 ]]; then
            until [[ $(psql "$DATABASE_URL" -Atc 'SELECT count(*) FROM census_runs' 2>/dev/null) == 1 ]]; do
                sleep 0.1
            done
        fi
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    local secs requests too_many
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    requests=$(cat "$work"/discover-"$workers"-*.log | sed -n 's/.*crawl cost: \([0-9]*\) Hub API requests.*/\1/p' |
        awk '{ n += $1 } END { print n }')
    too_many=$(cat "$work"/discover-"$workers"-*.log | sed -n 's/.* \([0-9]*\) responses 429.*/\1/p' |
        awk '{ n += $1 } END { print n }')
    printf '%-28s %s\n' "politeness: $workers worker(s)" "$(awk -v r="$requests" -v s="$secs" -v c="$configured" \
        'BEGIN { printf "%d Hub API requests in %.0f s: %d/min achieved vs %d/min configured (ratio %.3f)", r, s, r * 60 / s, c, r * 60 / s / c }'), $too_many responses 429"
}

run 1
run 3
