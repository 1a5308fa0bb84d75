#!/usr/bin/env bash
# Installs the system library the build links against when it is missing and we are root:
# ISA-L (Debian's libisal-dev), whose inflate decodes gzip layers 1.4x faster than zlib
# (docs/decisions/0002-gzip-backend.md). Anything else the build needs comes through cargo.
set -euo pipefail

have_isal() { pkg-config --exists libisal 2>/dev/null || compgen -G "/usr/lib/*/libisal.so" >/dev/null; }

have_isal && exit 0
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Debian's libisal-dev (ISA-L, the gzip decoder)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq libisal-dev >&2
else
    echo "hubcensus links ISA-L: install it first (Debian/Ubuntu: apt-get install libisal-dev;" \
        "Fedora: dnf install isa-l-devel; macOS: brew install isa-l)" >&2
    exit 1
fi
