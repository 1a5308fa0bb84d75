#!/usr/bin/env bash
# Scanner throughput and memory, as ratios measured in one run on one core (taskset -c 0).
#
# Builds layers from real Debian package contents (the files of this machine's installed
# Debian packages under /usr, ~400 MB uncompressed), compresses them with gzip and zstd, and
# times, on the same file:
#   hubcensus scan layer:FILE          (decompress + tar + every rule + indicator extraction)
#   pigz -dc -p1 FILE                  (zlib's single-threaded inflate: target ratio >= 1.0)
#   libdeflate-gunzip -c FILE          (the fastest DEFLATE decoder: our physical limit, >= 0.6)
#   zstd -dc FILE                      (for the zstd layer: target >= 0.45)
#   hubcensus scan --yara config/rules/yara layer:FILE.gz
#                                      (the starter YARA set beside the built-in rules: its
#                                       throughput >= 0.8 x the scan's without YARA)
# Each command runs 5 times, in interleaved rounds; the best time counts. Time is CPU time
# (user + system), which on a dedicated core is the wall time, and on a shared one leaves out
# the slices other processes took from core 0. Peak RSS comes from GNU time. A 2 GiB layer
# checks the memory bound (<= 256 MiB RSS), scanned with the starter YARA set.
#
# Usage: scripts/bench/scan.sh [--quick]   (--quick: 1 run each, no 2 GiB layer)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=5; big=1
[[ ${1:-} == --quick ]] && { runs=1; big=0; }

need=()
command -v pigz >/dev/null || need+=(pigz)
command -v libdeflate-gunzip >/dev/null || need+=(libdeflate-tools)
command -v zstd >/dev/null || need+=(zstd)
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then
    echo "installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# The gzip decoder is the build's: ISA-L when `make bench` found it (CARGO_FEATURES), zlib-rs
# otherwise; the ratios below measure that build, and the first line says which it is.
# shellcheck disable=SC2086
cargo build --release --locked --bin hubcensus ${CARGO_FEATURES:-} >&2
bin=target/release/hubcensus
if [[ ${CARGO_FEATURES:-} == *isal* ]]; then
    echo "gzip decoder: ISA-L (feature isal)"
else
    echo "gzip decoder: zlib-rs (pure Rust; ISA-L not installed or not asked for)"
fi
dir=target/bench
mkdir -p "$dir"

# Real Debian package contents: the regular files dpkg says its installed packages own, in a
# stable (sorted, deterministic sample) order, up to the wanted size.
debian_files() { # MAX_BYTES -> paths (without leading /) of regular files dpkg owns, up to MAX_BYTES
    python3 - "$1" <<'PY'
import glob, hashlib, os, stat, sys
budget, used, seen = int(sys.argv[1]), 0, set()
paths = set()
for listing in glob.glob("/var/lib/dpkg/info/*.list"):
    with open(listing, errors="replace") as f:
        paths.update(line.rstrip("\n") for line in f)
# A deterministic mix of every package's files (not just the first directories alphabetically).
for path in sorted(paths, key=lambda p: hashlib.sha1(p.encode()).digest()):
    real = os.path.realpath(path)
    try:
        st = os.lstat(real)
    except OSError:
        continue
    if not stat.S_ISREG(st.st_mode) or real in seen or used + st.st_size > budget:
        continue
    seen.add(real); used += st.st_size
    print(real.lstrip("/"))
PY
}

if [[ ! -f $dir/layer.tar ]]; then
    echo "building $dir/layer.tar: 400 MiB of files owned by installed Debian packages" >&2
    debian_files $((400 * 1024 * 1024)) > "$dir/layer.files"
    tar -C / -cf "$dir/layer.tar" -T "$dir/layer.files"
fi
[[ -f $dir/layer.tar.gz ]] || pigz -6 -c "$dir/layer.tar" > "$dir/layer.tar.gz"
[[ -f $dir/layer.tar.zst ]] || zstd -q -3 -c "$dir/layer.tar" > "$dir/layer.tar.zst"

declare -A best rss
# measure KEY CMD...: one run on core 0; keeps KEY's fastest time and largest peak RSS (KiB).
measure() {
    local key=$1 user sys t m
    shift
    # `|| true`: hubcensus scan exits 1 when it finds something, which is not a failure here.
    /usr/bin/time -f "%U %S %M" -o "$dir/.time" taskset -c 0 "$@" >/dev/null 2>&1 || true
    read -r user sys m < <(tail -1 "$dir/.time")
    t=$(awk "BEGIN{printf \"%.2f\", $user + $sys}")
    if [[ -z ${best[$key]:-} ]] || awk "BEGIN{exit !($t < ${best[$key]})}"; then best[$key]=$t; fi
    ((m > ${rss[$key]:-0})) && rss[$key]=$m
    return 0
}

mb() { awk "BEGIN{printf \"%.0f\", $(stat -c %s "$dir/layer.tar") / 1048576 / $1}"; }

# Rounds go through every command in turn, so a burst of load from elsewhere on the machine
# slows one round of each rather than all runs of one command: the ratios stay fair.
scan=("$bin" scan --format json --min-confidence low)
yara=(--yara config/rules/yara)
for _ in $(seq "$runs"); do
    measure scan_gz "${scan[@]}" "layer:$dir/layer.tar.gz"
    measure scan_gz_yara "${scan[@]}" "${yara[@]}" "layer:$dir/layer.tar.gz"
    measure pigz pigz -dc -p1 "$dir/layer.tar.gz"
    measure libd libdeflate-gunzip -c "$dir/layer.tar.gz"
    measure scan_zst "${scan[@]}" "layer:$dir/layer.tar.zst"
    measure zstd zstd -dc "$dir/layer.tar.zst"
done
t_scan_gz=${best[scan_gz]} m_scan_gz=${rss[scan_gz]} t_pigz=${best[pigz]} t_libd=${best[libd]}
t_scan_zst=${best[scan_zst]} m_scan_zst=${rss[scan_zst]} t_zstd=${best[zstd]}
t_yara=${best[scan_gz_yara]} m_yara=${rss[scan_gz_yara]}

ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }
printf '\nscan benchmark: %s MiB tar of Debian package contents, one core, best of %s\n\n' \
    "$(( $(stat -c %s "$dir/layer.tar") / 1048576 ))" "$runs"
printf '%-34s %8s %9s %10s\n' "command" "cpu s" "MB/s out" "peak RSS"
printf '%-34s %8s %9s %8s MiB\n' "hubcensus scan layer.tar.gz" "$t_scan_gz" "$(mb "$t_scan_gz")" "$((m_scan_gz / 1024))"
printf '%-34s %8s %9s\n' "pigz -dc -p1 layer.tar.gz" "$t_pigz" "$(mb "$t_pigz")"
printf '%-34s %8s %9s\n' "libdeflate-gunzip -c layer.tar.gz" "$t_libd" "$(mb "$t_libd")"
printf '%-34s %8s %9s %8s MiB\n' "hubcensus scan layer.tar.zst" "$t_scan_zst" "$(mb "$t_scan_zst")" "$((m_scan_zst / 1024))"
printf '%-34s %8s %9s\n' "zstd -dc layer.tar.zst" "$t_zstd" "$(mb "$t_zstd")"
printf '%-34s %8s %9s %8s MiB\n' "hubcensus scan --yara layer.tar.gz" "$t_yara" "$(mb "$t_yara")" "$((m_yara / 1024))"
printf '\nratios (scan throughput / reference throughput; higher is better)\n'
printf '  gzip: scan / pigz -p1          %s   (target >= 1.0)\n' "$(ratio "$t_pigz" "$t_scan_gz")"
printf '  gzip: scan / libdeflate-gunzip %s   (target >= 0.6)\n' "$(ratio "$t_libd" "$t_scan_gz")"
printf '  zstd: scan / zstd -dc          %s   (target >= 0.45)\n' "$(ratio "$t_zstd" "$t_scan_zst")"
printf '  yara: scan with / without YARA %s   (target >= 0.8; the starter set, config/rules/yara)\n' "$(ratio "$t_scan_gz" "$t_yara")"

if ((big)); then
    if [[ ! -f $dir/big.tar.gz ]]; then
        echo "building a 2 GiB layer" >&2
        # Five copies of the tree under different prefixes: distinct paths, real contents.
        { for i in 1 2 3 4 5; do tar -b 1 -C / --transform "s,^,copy$i/," -cf - -T "$dir/layer.files" |
            head -c -1024; done; head -c 1024 /dev/zero; } | pigz -1 > "$dir/big.tar.gz"
    fi
    measure big "${scan[@]}" "${yara[@]}" "layer:$dir/big.tar.gz"
    t_big=${best[big]} m_big=${rss[big]}
    printf '\nmemory: 2 GiB-class layer (%s MiB compressed) scanned with YARA in %s s of CPU, peak RSS %s MiB (target <= 256)\n' \
        "$(( $(stat -c %s "$dir/big.tar.gz") / 1048576 ))" "$t_big" "$((m_big / 1024))"
fi
