#!/usr/bin/env bash
# The census bench: one table of figures measured in one run of `hubcensus census` against a
# hubsim population on loopback (default: config/hubsim/bench.toml, 20,000 repositories).
#
#   images/min, layers/min      analysed images and unique layers scanned per minute of census
#   MB/s scanned                uncompressed layer bytes through the scanner per second
#   pulls per new image         manifest GETs counted against the quota ÷ images resolved
#   downloaded ÷ unique bytes   compressed bytes fetched for scans ÷ bytes of the unique layers
#                               (each recorded scan fetched its layer once; target 1.0)
#   findings/s                  findings written per second
#   peak RSS                    of the census process (GNU time)
#   DB bytes per image          database size ÷ analysed images
#   crawl cost                  Hub API requests per repository, token requests per repository,
#                               manifest HEADs/GETs, blob GETs, 429s (hubcensus's own counters)
#
# The politeness runs (one and three workers under one shared budget) are
# scripts/bench/politeness.sh.
#
# Usage: scripts/bench/census.sh   (needs target/release; `make bench` builds it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=target/release
sim_config=config/hubsim/bench.toml
work=target/bench/census
mkdir -p "$work"
[[ -x /usr/bin/time ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2

DATABASE_URL=$(scripts/pg.sh hubcensus_bench)
export DATABASE_URL
psql "$DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' 2>/dev/null

# shellcheck source=../lib/hubsim.sh
source scripts/lib/hubsim.sh
start_hubsim "$sim_config" "$work"
export HUBCENSUS_HUB__REQUESTS_PER_MINUTE=600000 HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE=600000 HUBCENSUS_NET__REQUESTS_PER_MINUTE=600000
export HUBCENSUS_LOG__LEVEL=warn

"$bin/hubcensus" db migrate >/dev/null
/usr/bin/time -f '%e %M' -o "$work/time" "$bin/hubcensus" census 2>"$work/census.log"
read -r secs rss_kib <"$work/time"

psql "$DATABASE_URL" -At -F ' ' -v secs="$secs" -v rss="$rss_kib" <<'SQL'
WITH t AS (
  SELECT (SELECT count(*) FROM analysed_images) AS images,
         (SELECT count(*) FROM layers WHERE scan_state = 'scanned') AS layers,
         (SELECT coalesce(sum(bytes_scanned), 0) FROM layers) AS scanned_bytes,
         (SELECT coalesce(sum(compressed_size), 0) FROM layers WHERE scan_count > 0) AS unique_bytes,
         (SELECT coalesce(sum(compressed_size::numeric * scan_count), 0) FROM layers) AS fetched_bytes,
         (SELECT count(*) FROM findings) AS findings,
         (SELECT coalesce(sum(pulls_spent), 0) FROM worker_quota) AS pulls,
         (SELECT count(*) FROM images) AS resolved,
         pg_database_size(current_database()) AS db_bytes
)
SELECT format(E'%-28s %s\n', 'census wall time', :'secs' || ' s')
    || format(E'%-28s %s\n', 'images analysed', images)
    || format(E'%-28s %s\n', 'images/min', round(images * 60 / :'secs'::numeric))
    || format(E'%-28s %s\n', 'layers/min', round(layers * 60 / :'secs'::numeric))
    || format(E'%-28s %s\n', 'MB/s scanned', round(scanned_bytes / 1e6 / :'secs'::numeric, 1))
    || format(E'%-28s %s\n', 'pulls per new image', round(pulls::numeric / greatest(resolved, 1), 3))
    || format(E'%-28s %s\n', 'downloaded / unique bytes', round(fetched_bytes / greatest(unique_bytes, 1), 3))
    || format(E'%-28s %s\n', 'findings/s', round(findings / :'secs'::numeric, 1))
    || format(E'%-28s %s\n', 'peak RSS (census process)', round(:'rss'::numeric / 1024) || ' MiB')
    || format(E'%-28s %s', 'DB bytes per analysed image', pg_size_pretty(db_bytes / greatest(images, 1)))
FROM t;
SQL
grep -o 'crawl cost: .*' "$work/census.log" | sed 's/^/census /'
