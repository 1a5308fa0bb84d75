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
#
# Usage: scripts/bench/census.sh [HUBSIM_CONFIG]   (needs target/release; `make bench` builds it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=target/release
sim_config=${1:-config/hubsim/bench.toml}
work=target/bench/census
mkdir -p "$work"
[[ -x /usr/bin/time ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2

DATABASE_URL=$(scripts/pg.sh hubcensus_bench)
export DATABASE_URL
psql "$DATABASE_URL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' 2>/dev/null

"$bin/hubsim" serve --config "$sim_config" >"$work/hubsim.json" 2>"$work/hubsim.log" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do [[ -s $work/hubsim.json ]] && break; sleep 0.1; done
url() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/hubsim.json"; }   # one flat JSON line
export HUBCENSUS_HUB__URL=$(url hub) HUBCENSUS_REGISTRY__URL=$(url registry) HUBCENSUS_REGISTRY__AUTH_URL=$(url realm)
export HUBCENSUS_HUB__REQUESTS_PER_MINUTE=600000 HUBCENSUS_REGISTRY__MANIFEST_REQUESTS_PER_MINUTE=600000
export HUBCENSUS_NET__ALLOW_PRIVATE_ADDRESSES=true HUBCENSUS_LOG__LEVEL=warn

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
