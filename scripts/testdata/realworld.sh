#!/usr/bin/env bash
# Fetch (once) the real-world accuracy corpus: a few hundred real, pinned packages from PyPI,
# npm and Debian bookworm, listed in testdata/realworld/{pypi,npm,debian}.txt, into a cache
# outside git. It only downloads: nothing is built, installed, imported or executed (pip
# download --only-binary, npm pack --ignore-scripts, apt-get download).
#
# Why: a scanner's false positives only show on real software nobody here wrote. Wheels,
# tarballs and .debs of boto3, twisted, node-forge, openssh, openjdk (which carries the Public
# Suffix List in its jars), tor or nmap are full of example keys, test certificates, mail
# fixtures, crypto constants, proxy code and domains; the census must classify them the way the
# study did, and tell the benign from the offensive tools by what they are.
#
# Layout (CACHE defaults to <repo>/target/cache/realworld, or $HUBCENSUS_REALWORLD_CACHE):
#   CACHE/pypi/*.whl      one wheel per listed package (CPython 3.11, linux x86_64 or any)
#   CACHE/npm/*.tgz       one `npm pack` tarball per package (@scope/pkg -> scope-pkg-VER.tgz)
#   CACHE/debian/*.deb    one .deb per package (amd64 or all)
#   CACHE/<eco>/index.tsv one line per list entry, in list order, tab-separated:
#                         NAME  LISTED_VERSION  FETCHED_VERSION  FILE   (FILE: name in CACHE/<eco>/)
#                         Written only when every entry of the list is present.
# The Rust side (`make accuracy`) reads the three index.tsv files, assembles the files as
# image layers and scans them.
#
# Cached and idempotent: what the index (and CACHE/<eco>/.fetched.tsv, the running record)
# already holds is not fetched again, so a re-run makes no network call and an edited list
# fetches only its new lines. Safe with concurrent callers (flock). A package that cannot be
# fetched is an error naming it (exit 1) — except a Debian version gone from the archive
# (security updates replace versions): then the current bookworm version is fetched with a
# warning, and FETCHED_VERSION says which.
#
# Usage: scripts/testdata/realworld.sh [CACHE_DIR]     Prints CACHE_DIR on stdout at the end.
# Needs: python3 with pip, npm, apt-get (pip and npm are installed from Debian when missing and
# we are root). Downloads about 525 MB the first time (1-2 minutes); then about 0.3 s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
lists="$root/testdata/realworld"
cache="${1:-${HUBCENSUS_REALWORLD_CACHE:-$root/target/cache/realworld}}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
JOBS="${HUBCENSUS_REALWORLD_JOBS:-4}"

say() { echo "realworld.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

exec 9>"$cache/.lock"
flock 9

rm -rf "$cache"/.tmp.* # left by a killed run; we hold the lock, so no other run owns one
tmp="$(mktemp -d "$cache/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# read_list FILE: prints "NAME<TAB>VERSION" per entry; comments, blanks and duplicates dropped.
read_list() {
  local file="$1" n=0 line name ver extra
  local -A seen=()
  [[ -f "$file" ]] || die "missing list $file"
  while IFS= read -r line || [[ -n "$line" ]]; do
    n=$((n + 1))
    line="${line%%#*}"
    read -r name ver extra <<<"$line" || true
    [[ -z "$name" ]] && continue
    [[ -n "$ver" && -z "$extra" ]] || die "$file:$n: expected 'NAME VERSION', got '$line'"
    [[ "$name" =~ ^@?[A-Za-z0-9][A-Za-z0-9._+/-]*$ ]] || die "$file:$n: bad name '$name'"
    [[ "$ver" =~ ^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$ ]] || die "$file:$n: bad version '$ver'"
    if [[ -n "${seen[$name]:-}" ]]; then
      say "warning: $file:$n: $name listed twice; keeping the first"
      continue
    fi
    seen[$name]=1
    printf '%s\t%s\n' "$name" "$ver"
  done <"$file"
}

# plan ECO: loads the list and the record of what is already fetched; sets
#   entries (NAME<TAB>VERSION, list order), have[NAME<TAB>VERSION]=index line, missing (entries)
plan() {
  local eco="$1" dir="$cache/$1" name listed fetched file
  mkdir -p "$dir"
  read_list "$lists/$eco.txt" >"$tmp/$eco.list" # not in a subshell: its die must end the run
  mapfile -t entries <"$tmp/$eco.list"
  ((${#entries[@]})) || die "$lists/$eco.txt lists nothing"
  have=()
  missing=()
  for rec in "$dir/index.tsv" "$dir/.fetched.tsv"; do
    [[ -f "$rec" ]] || continue
    while IFS=$'\t' read -r name listed fetched file; do
      [[ -n "$file" && -f "$dir/$file" ]] && have["$name"$'\t'"$listed"]="$name"$'\t'"$listed"$'\t'"$fetched"$'\t'"$file"
    done <"$rec"
  done
  local e
  for e in "${entries[@]}"; do
    [[ -n "${have[$e]:-}" ]] || missing+=("$e")
  done
}

# finish ECO: records new results, writes index.tsv in list order, prunes stale files.
finish() {
  local eco="$1" dir="$cache/$1" e name listed fetched file
  if [[ -f "$tmp/$eco.results" ]]; then
    while IFS=$'\t' read -r name listed fetched file; do
      [[ -f "$dir/$file" ]] && have["$name"$'\t'"$listed"]="$name"$'\t'"$listed"$'\t'"$fetched"$'\t'"$file"
    done <"$tmp/$eco.results"
  fi
  local -a lines=() absent=()
  for e in "${entries[@]}"; do
    if [[ -n "${have[$e]:-}" ]]; then lines+=("${have[$e]}"); else absent+=("${e/$'\t'/ }"); fi
  done
  # The running record keeps everything fetched so far, so a failed run loses no progress.
  if [[ -f "$tmp/$eco.results" ]]; then
    local -A keep=()
    for e in "${!have[@]}"; do keep["${have[$e]}"]=1; done
    printf '%s\n' "${!keep[@]}" | sort >"$dir/.fetched.tsv.new"
    mv "$dir/.fetched.tsv.new" "$dir/.fetched.tsv"
  fi
  if ((${#absent[@]})); then
    rm -f "$dir/index.tsv"
    failed+=("${absent[@]/#/$eco: }")
    return
  fi
  printf '%s\n' "${lines[@]}" >"$dir/index.tsv.new"
  if ! cmp -s "$dir/index.tsv.new" "$dir/index.tsv" 2>/dev/null; then
    mv "$dir/index.tsv.new" "$dir/index.tsv"
    # Drop files no list entry refers to any more (an edited list), and their records.
    local -A used=()
    for e in "${lines[@]}"; do used["${e##*$'\t'}"]=1; done
    local f
    for f in "$dir"/*.whl "$dir"/*.tgz "$dir"/*.deb; do
      [[ -f "$f" && -z "${used[${f##*/}]:-}" ]] && rm -f "$f"
    done
    cp "$dir/index.tsv" "$dir/.fetched.tsv"
  else
    rm -f "$dir/index.tsv.new"
  fi
  local bytes
  bytes=$(cd "$dir" && cut -f4 index.tsv | xargs -d '\n' stat -c %s | awk '{s += $1} END {print s + 0}')
  summary+=("$eco ${#lines[@]} ($((bytes / 1000000)) MB)")
  total=$((total + bytes))
}

apt_install() {
  [[ $EUID -eq 0 ]] || die "$1 is missing and we are not root to install it (apt-get install $*)"
  say "installing $* from Debian"
  apt-get install -y --no-install-recommends "$@" >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends "$@" >&2; }
}

# ---------- PyPI and npm ----------
# Both are fetched in batches (one pip / npm process for up to 25 packages: a process per
# package costs several times more, mostly start-up and new connections), $JOBS batches at a
# time. A batch with one bad pin fails whole, so whatever a batch did not yield is retried one
# package at a time, which names the package that cannot be fetched.

# The flags select the wheel pip would install on CPython 3.11, glibc linux x86_64: cp311 or
# abi3 manylinux up to 2_28, or pure (py3-none-any, which matches whatever the platform). pip
# does not widen an explicit manylinux platform to the older ones, so each is named.
pip_download() {
  python3 -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
    --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux2010_x86_64 \
    --platform manylinux1_x86_64 --platform any "$@"
}

# canon NAME: PEP 503 normalised name (lower case, runs of - _ . as one -).
canon() {
  local s="${1,,}"
  s="${s//[._]/-}"
  while [[ "$s" == *--* ]]; do s="${s//--/-}"; done
  printf '%s' "$s"
}

# take_wheel DIR NAME VERSION: moves the wheel of NAME out of DIR into the cache and records it.
take_wheel() {
  local d="$1" name="$2" ver="$3" f want
  want="$(canon "$name")"
  for f in "$d"/*.whl; do
    [[ -f "$f" ]] || continue
    f="${f##*/}"
    # Wheel file name: DIST-VERSION-(BUILD-)PYTAG-ABITAG-PLATFORM.whl, no dash inside DIST.
    [[ "$(canon "${f%%-*}")" == "$want" ]] || continue
    mv "$d/$f" "$cache/pypi/$f"
    printf '%s\t%s\t%s\t%s\n' "$name" "$ver" "$(cut -d- -f2 <<<"$f")" "$f" >>"$tmp/pypi.results"
    say "pypi: $f"
    return 0
  done
  return 1
}

pypi_batch() { # NAME VERSION NAME VERSION ...
  local d pairs=("$@") args=() i
  d="$(mktemp -d "$tmp/pypi.XXXXXX")"
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do args+=("${pairs[i]}==${pairs[i + 1]}"); done
  pip_download -d "$d" "${args[@]}" >"$d.log" 2>&1 || true
  while (($#)); do
    take_wheel "$d" "$1" "$2" || true
    shift 2
  done
  rm -rf "$d" "$d.log"
}

pypi_one() {
  local name="$1" ver="$2" d
  d="$(mktemp -d "$tmp/pypi.XXXXXX")"
  if pip_download -d "$d" "$name==$ver" >"$d.log" 2>&1; then
    take_wheel "$d" "$name" "$ver" \
      || say "error: pypi: $name==$ver gave no wheel named for it: $(ls "$d")"
  else
    say "error: pypi: cannot fetch $name==$ver:"
    grep -v '^$' "$d.log" | tail -n 3 | cut -c1-300 >&2 || true
  fi
  rm -rf "$d" "$d.log"
}

# npm pack names the tarball of @scope/pkg@VER scope-pkg-VER.tgz, of pkg@VER pkg-VER.tgz.
# --ignore-scripts: packing a registry spec runs none anyway; make sure none ever runs.
npm_pack() {
  local d="$1"
  shift
  (cd "$d" && npm pack --ignore-scripts --loglevel=error --pack-destination "$d" "$@")
}

# take_tgz DIR NAME VERSION: moves the tarball of NAME@VERSION into the cache and records it.
take_tgz() {
  local d="$1" name="$2" ver="$3" slug f
  slug="${name#@}"
  slug="${slug//\//-}"
  f="$slug-$ver.tgz"
  [[ -f "$d/$f" ]] || return 1
  mv "$d/$f" "$cache/npm/$f"
  printf '%s\t%s\t%s\t%s\n' "$name" "$ver" "$ver" "$f" >>"$tmp/npm.results"
  say "npm: $f"
}

npm_batch() { # NAME VERSION NAME VERSION ...
  local d pairs=("$@") args=() i
  d="$(mktemp -d "$tmp/npm.XXXXXX")"
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do args+=("${pairs[i]}@${pairs[i + 1]}"); done
  npm_pack "$d" "${args[@]}" >"$d.log" 2>&1 || true
  while (($#)); do
    take_tgz "$d" "$1" "$2" || true
    shift 2
  done
  rm -rf "$d" "$d.log"
}

npm_one() {
  local name="$1" ver="$2" d
  d="$(mktemp -d "$tmp/npm.XXXXXX")"
  if npm_pack "$d" "$name@$ver" >"$d.log" 2>&1; then
    take_tgz "$d" "$name" "$ver" \
      || say "error: npm: $name@$ver gave no tarball named for it: $(ls "$d")"
  else
    say "error: npm: cannot fetch $name@$ver:"
    grep -v -e '^$' -e 'complete log' "$d.log" | head -n 3 >&2 || true
  fi
  rm -rf "$d" "$d.log"
}

export -f pip_download canon take_wheel pypi_batch pypi_one npm_pack take_tgz npm_batch npm_one say
export cache tmp

# fetch_parallel ECO: fetches the missing entries in batches, then retries the rest one by one.
fetch_parallel() {
  local eco="$1" n=${#missing[@]} per e
  say "$eco: fetching $n package(s) into $cache/$eco"
  : >"$tmp/$eco.results"
  per=$(((n + JOBS - 1) / JOBS))
  ((per <= 25)) || per=25
  printf '%s\n' "${missing[@]}" | tr '\t' '\n' \
    | xargs -d '\n' -n $((2 * per)) -P "$JOBS" bash -c "${eco}_batch \"\$@\"" _ || true
  local -A got=()
  local name listed fetched file
  while IFS=$'\t' read -r name listed fetched file; do
    got["$name"$'\t'"$listed"]=1
  done <"$tmp/$eco.results"
  local -a rest=()
  for e in "${missing[@]}"; do [[ -n "${got[$e]:-}" ]] || rest+=("$e"); done
  ((${#rest[@]})) || return 0
  say "$eco: ${#rest[@]} package(s) not in a batch's output; retrying one at a time"
  printf '%s\n' "${rest[@]}" | tr '\t' '\n' \
    | xargs -d '\n' -n 2 -P "$JOBS" bash -c "${eco}_one \"\$1\" \"\$2\"" _ || true
}

# ---------- Debian ----------
# deb_resolve NAME...: one apt-cache madison for all names; sets avail[NAME<TAB>VERSION]=1 and
# newest[NAME]=the first version madison lists from a bookworm suite (the archive's current one).
deb_resolve() {
  avail=()
  newest=()
  local pkg ver src
  while IFS='|' read -r pkg ver src; do
    pkg="${pkg// /}"
    ver="${ver// /}"
    [[ -n "$pkg" && -n "$ver" && "$src" != *Sources* ]] || continue
    avail["$pkg"$'\t'"$ver"]=1
    if [[ -z "${newest[$pkg]:-}" && "$src" =~ \ bookworm(-security|-updates)?/ ]]; then
      newest[$pkg]="$ver"
    fi
  done < <(apt-cache madison "$@" 2>/dev/null)
}

debian_fetch() {
  local dir="$cache/debian" e name ver updated=0 attempt
  local -a names=()
  local -A avail=() newest=()
  for e in "${missing[@]}"; do names+=("${e%%$'\t'*}"); done
  for attempt in 1 2; do
    deb_resolve "${names[@]}"
    local -a want=() targets=()
    local stale=0
    for e in "${missing[@]}"; do
      name="${e%%$'\t'*}"
      ver="${e#*$'\t'}"
      if [[ -n "${avail[$e]:-}" ]]; then
        want+=("$name"$'\t'"$ver"$'\t'"$ver")
      else
        stale=1
        if [[ -n "${newest[$name]:-}" ]]; then
          want+=("$name"$'\t'"$ver"$'\t'"${newest[$name]}")
        else
          want+=("$name"$'\t'"$ver"$'\t')
        fi
      fi
    done
    # Lists empty (fresh machine) or older than the list file: update once, resolve again.
    if ((stale && !updated)) && [[ $EUID -eq 0 ]]; then
      say "debian: some listed versions are unknown to apt; running apt-get update"
      apt-get update >&2 && updated=1 && continue
    fi
    local w fetched
    for w in "${want[@]}"; do
      IFS=$'\t' read -r name ver fetched <<<"$w"
      if [[ -z "$fetched" ]]; then
        say "error: debian: $name is not in the archive at all (apt-cache madison $name)"
        continue
      fi
      if [[ "$fetched" != "$ver" ]]; then
        say "WARNING: debian: $name $ver is gone from the archive; fetching $fetched instead"
        say "WARNING: update testdata/realworld/debian.txt: $name $fetched"
      fi
      targets+=("$name=$fetched")
    done
    ((${#targets[@]})) || return 0
    local d="$tmp/debian.dl"
    rm -rf "$d"
    mkdir -p "$d"
    say "debian: apt-get download ${#targets[@]} package(s) into $dir"
    # Sandbox user root: the cache is usually not reachable for _apt; silences its warning.
    if (cd "$d" && apt-get download -o APT::Sandbox::User=root "${targets[@]}") >"$tmp/apt.log" 2>&1; then
      : >"$tmp/debian.results"
      for w in "${want[@]}"; do
        IFS=$'\t' read -r name ver fetched <<<"$w"
        [[ -n "$fetched" ]] || continue
        # apt-get download writes NAME_VERSION_ARCH.deb with the epoch colon as %3a.
        local f=("$d/${name}_${fetched//:/%3a}_"*.deb)
        if [[ -f "${f[0]}" ]]; then
          mv "${f[0]}" "$dir/"
          printf '%s\t%s\t%s\t%s\n' "$name" "$ver" "$fetched" "${f[0]##*/}" >>"$tmp/debian.results"
        else
          say "error: debian: apt-get download left no file for $name=$fetched"
        fi
      done
      grep -E '^(Get|Fetched)' "$tmp/apt.log" | tail -n 1 >&2 || true
      return 0
    fi
    # A 404 means the lists are stale (a version left the archive since the last update).
    if ((!updated)) && [[ $EUID -eq 0 ]]; then
      say "debian: apt-get download failed; running apt-get update and retrying"
      grep -E '^(E|W):' "$tmp/apt.log" | head -n 5 >&2 || true
      apt-get update >&2 && updated=1 && continue
    fi
    say "error: debian: apt-get download failed:"
    grep -E '^(E|W):' "$tmp/apt.log" | head -n 20 >&2 || tail -n 20 "$tmp/apt.log" >&2
    return 0
  done
}

# ---------- main ----------
declare -a entries=() missing=() failed=() summary=()
declare -A have=()
total=0

plan pypi
if ((${#missing[@]})); then
  t0=$SECONDS
  if ! python3 -m pip --version >/dev/null 2>&1; then apt_install python3-pip; fi
  fetch_parallel pypi
  say "pypi: done in $((SECONDS - t0)) s"
fi
finish pypi

plan npm
if ((${#missing[@]})); then
  t0=$SECONDS
  command -v npm >/dev/null 2>&1 || apt_install npm
  fetch_parallel npm
  say "npm: done in $((SECONDS - t0)) s"
fi
finish npm

plan debian
if ((${#missing[@]})); then
  t0=$SECONDS
  command -v apt-get >/dev/null 2>&1 || die "apt-get is needed for the Debian packages"
  debian_fetch
  say "debian: done in $((SECONDS - t0)) s"
fi
finish debian
# Say so every run: the list pins a version the archive no longer has.
if [[ -f "$cache/debian/index.tsv" ]]; then
  awk -F'\t' '$2 != $3 { printf "realworld.sh: note: debian: %s listed %s, cached %s\n", $1, $2, $3 }' \
    "$cache/debian/index.tsv" >&2
fi

if ((${#failed[@]})); then
  say "error: ${#failed[@]} package(s) could not be fetched:"
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi

say "$(IFS=,; echo "${summary[*]}" | sed 's/,/, /g'); $((total / 1000000)) MB in $cache"
echo "$cache"
