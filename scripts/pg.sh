#!/usr/bin/env bash
# Prints the URL of a Postgres server that answers, starting one if needed.
#
#   scripts/pg.sh [DBNAME]      print a URL (creating database DBNAME on it if given)
#   scripts/pg.sh --stop        stop the throwaway cluster, if this script started one
#
# 1. $DATABASE_URL, when set and answering, is used as is (with DBNAME, the same server with
#    that database, created if missing).
# 2. Otherwise a throwaway cluster under target/pg (initdb + pg_ctl from the installed
#    PostgreSQL) is started on a free loopback port, or reused if it already runs. Debian's
#    postgresql is installed with apt-get when missing and we are root.
#
# Only the URL goes to stdout; everything else goes to stderr, so callers can write
# DATABASE_URL=$(scripts/pg.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "pg.sh: $*" >&2; }

answers() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

with_db() { # URL DBNAME -> URL naming DBNAME (keeps query parameters)
    local url=$1 db=$2 base query=""
    [[ $url == *\?* ]] && query="?${url#*\?}" && url=${url%%\?*}
    base=${url%/*}
    [[ $base == *:/ || $base == *:// ]] && base=$url   # URL had no database part
    echo "$base/$db$query"
}

ensure_db() { # URL DBNAME -> URL of DBNAME, created if missing
    local url=$1 db=$2
    [[ -z $db ]] && { echo "$url"; return; }
    if ! psql "$url" -Atqc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
        log "creating database $db"
        psql "$url" -qc "create database \"$db\"" >/dev/null
    fi
    with_db "$url" "$db"
}

pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x $d/initdb && -x $d/pg_ctl ]] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

install_postgres() {
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL is not installed and we are not root: install it (apt-get install postgresql) or set DATABASE_URL"
        exit 1
    fi
    log "installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql postgresql-client >&2
}

# Ports below the kernel's ephemeral range (32768+ on Linux): a port there can be held by an
# outgoing connection's local end, which a connect test does not see but bind() does.
free_port() { # AFTER -> the first port after AFTER, up to 15531, that nothing answers on
    local p
    for p in $(seq $(($1 + 1)) 15531); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    log "no free port in 15432-15531"; exit 1
}

# Runs a command as the cluster's owner: postgres refuses to run as root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cluster_dir() {
    local dir="$here/target/pg"
    mkdir -p "$here/target"
    if [[ $(id -u) -eq 0 ]]; then
        mkdir -p "$dir"
        chown postgres: "$dir"
        # The owner must reach the directory through every parent; otherwise use /tmp.
        if ! runuser -u postgres -- test -w "$dir"; then
            dir="/tmp/hubcensus-pg-$(echo "$here" | cksum | cut -d' ' -f1)"
            mkdir -p "$dir" && chown postgres: "$dir"
            log "target/ is not reachable by user postgres; using $dir"
        fi
    fi
    echo "$dir"
}

start_cluster() {
    local bindir dir port
    bindir=$(pg_bindir) || { install_postgres; bindir=$(pg_bindir); }
    command -v psql >/dev/null 2>&1 || install_postgres
    dir=$(cluster_dir)
    if [[ ! -f $dir/data/PG_VERSION ]]; then
        log "initdb $dir/data"
        as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
            || as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >&2
    fi
    if [[ -f $dir/port ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        port=$(cat "$dir/port")
    else
        # A port can still be taken between the check and the bind: try the next ones.
        local tries
        port=15431
        for tries in 1 2 3 4 5; do
            port=$(free_port "$port")
            echo "$port" > "$dir/port"
            log "starting throwaway cluster on 127.0.0.1:$port"
            # Throwaway data: durability off for speed; many connections for parallel tests.
            as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
                "-h 127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
                </dev/null >&2 9>&- && break
            ((tries < 5)) || { log "the cluster did not start: see $dir/server.log"; exit 1; }
        done
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop_cluster() {
    local bindir dir
    bindir=$(pg_bindir) || exit 0
    for dir in "$here/target/pg" "/tmp/hubcensus-pg-$(echo "$here" | cksum | cut -d' ' -f1)"; do
        [[ -f $dir/data/PG_VERSION ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
    done
}

main() {
    if [[ ${1:-} == --stop ]]; then stop_cluster; return; fi
    local db=${1:-} url
    command -v psql >/dev/null 2>&1 || install_postgres
    if [[ -n ${DATABASE_URL:-} ]]; then
        if answers "$DATABASE_URL"; then
            ensure_db "$DATABASE_URL" "$db"
            return
        fi
        log "DATABASE_URL does not answer; starting a throwaway cluster instead"
    fi
    mkdir -p "$here/target"
    exec 9>"$here/target/.pg.lock"
    flock 9
    url=$(start_cluster)
    for _ in $(seq 1 50); do answers "$url" && break; sleep 0.2; done
    answers "$url" || { log "the cluster started but does not answer: see target/pg/server.log"; exit 1; }
    ensure_db "$url" "$db"
}

main "$@"
