#!/usr/bin/env bash
# Fetch (once) the real software the scan tests build their images from, into a cache outside
# git: Debian packages (apt-get download → target/cache/debs) and a Python site-packages tree
# (pip install --target → target/cache/site-packages). Reused when present; safe to run from
# several test processes at once (flock). Prints the cache directory on stdout.
#
# Why real packages: a scanner that is quiet on a toy image proves nothing. A Debian base with
# coreutils, openssl, curl, ssh and ca-certificates, plus requests/cryptography/paramiko/boto3,
# is full of the near misses (example keys, crypto constants, URLs, domains) real images carry.
#
# Usage: scripts/testdata/fetch.sh [CACHE_DIR]    (default: <repo>/target/cache)
# Needs: apt-get (Debian), python3 (pip is installed from Debian when missing). Downloads about
# 25 MB the first time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${1:-${HUBCENSUS_TESTDATA_CACHE:-$root/target/cache}}"
mkdir -p "$cache"
debs="$cache/debs"
site="$cache/site-packages"

# The Debian base: a minimal bookworm-like userland plus the packages the brief names.
DEB_PACKAGES=(
  base-files base-passwd bash coreutils dash debianutils diffutils findutils grep gzip hostname
  login mawk ncurses-base ncurses-bin sed tar util-linux sensible-utils gpgv procps
  libc6 libc-bin libgcc-s1 libstdc++6 zlib1g libzstd1 liblzma5 libbz2-1.0 libselinux1 libacl1
  libattr1 libpcre2-8-0 libtinfo6 libncursesw6 libmd0 libbsd0 libcap2 libgmp10 libffi8 libexpat1
  openssl libssl3 ca-certificates python3.11-minimal libpython3.11-minimal openssh-client
  libedit2 curl libcurl4 libnghttp2-14 libidn2-0 libpsl5 librtmp1 libssh2-1 libbrotli1
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 wget
)
PY_PACKAGES=(requests cryptography paramiko boto3 urllib3)

exec 9>"$cache/.fetch.lock"
flock 9

if [[ ! -f "$debs/.complete" ]]; then
  mkdir -p "$debs"
  (
    cd "$debs"
    missing=()
    for p in "${DEB_PACKAGES[@]}"; do
      compgen -G "${p}_*.deb" >/dev/null || missing+=("$p")
    done
    if ((${#missing[@]})); then
      echo "fetch.sh: apt-get download ${#missing[@]} package(s) into $debs" >&2
      if ! apt-get download "${missing[@]}" >&2; then
        # A fresh machine may have empty or stale package lists.
        echo "fetch.sh: apt-get download failed; running apt-get update and retrying" >&2
        apt-get update >&2
        apt-get download "${missing[@]}" >&2
      fi
    fi
  )
  touch "$debs/.complete"
fi

if [[ ! -f "$site/.complete" ]]; then
  rm -rf "$site"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    # A bare Debian machine has python3 without pip; Debian's package brings it.
    echo "fetch.sh: python3 has no pip; installing python3-pip" >&2
    apt-get install -y --no-install-recommends python3-pip >&2 \
      || { apt-get update >&2 && apt-get install -y --no-install-recommends python3-pip >&2; }
  fi
  echo "fetch.sh: pip install ${PY_PACKAGES[*]} into $site" >&2
  python3 -m pip install --quiet --disable-pip-version-check --no-compile --only-binary=:all: \
    --target "$site" "${PY_PACKAGES[@]}" >&2
  touch "$site/.complete"
fi

echo "$cache"
