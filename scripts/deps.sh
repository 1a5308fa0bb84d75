#!/usr/bin/env bash
# ISA-L (Debian's libisal-dev), whose inflate decodes gzip layers 1.4x faster than zlib
# (docs/decisions/0002-gzip-backend.md). It is optional: without it the build uses zlib-rs.
#   scripts/deps.sh           install it when missing and we are root (else say how, and go on)
#   scripts/deps.sh --probe   exit 0 when it is installed, 1 when not (the Makefile's switch)
# Anything else the build needs comes through cargo.
set -euo pipefail

have_isal() { pkg-config --exists libisal 2>/dev/null || compgen -G "/usr/lib/*/libisal.so" >/dev/null; }

if [[ ${1:-} == --probe ]]; then
    have_isal
    exit
fi
have_isal && exit 0
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Debian's libisal-dev (ISA-L, the fast gzip decoder)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq libisal-dev >&2
else
    echo "ISA-L is not installed: building with zlib-rs, ~1.4x slower on gzip layers (for ISA-L:" \
        "apt-get install libisal-dev; Fedora: dnf install isa-l-devel; macOS: brew install isa-l)" >&2
fi
