#!/usr/bin/env bash
# Make sure a PostgreSQL server is reachable for the test suite and print, as
# the LAST line of stdout, a base URL the tests can use, for example
#     postgres://postgres@127.0.0.1:5432
# The tests create a fresh database per test under that server, so the role in
# the URL must be allowed to CREATE DATABASE.
#
# Order of preference:
#   1. $TEST_DATABASE_URL, when set, is printed as is (nothing is started).
#   2. A server already accepting connections on 127.0.0.1:$PG_PORT (default 5432).
#   3. An installed Debian cluster (/etc/postgresql/<ver>/main), started with
#      pg_ctlcluster.
#   4. Otherwise `apt-get install postgresql`, start it, and let 127.0.0.1 / ::1
#      connect as `postgres` without a password (trust; only for a cluster this
#      script installed itself).
# Every diagnostic goes to stderr; stdout carries only the URL.
set -euo pipefail

# Keep the real stdout on fd 3 for the URL; everything else (including the
# output of apt-get, pg_ctlcluster, ...) goes to stderr.
exec 3>&1 1>&2

PG_HOST=127.0.0.1
PG_PORT="${PG_PORT:-5432}"
PG_USER=postgres
WAIT_SECONDS=30

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Root runs commands directly; anyone else goes through sudo (non-interactive).
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi

url() { printf 'postgres://%s@%s:%s' "$PG_USER" "$PG_HOST" "$PG_PORT"; }

is_ready() {
    command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
}

wait_ready() {
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        is_ready && return 0
        sleep 1
    done
    die "PostgreSQL on $PG_HOST:$PG_PORT not ready after ${WAIT_SECONDS}s"
}

# Newest configured Debian cluster version (e.g. "15"); failing that, the newest
# installed server binaries (a package installed with create_main_cluster=false);
# else nothing.
# shellcheck disable=SC2012 # version directory names are plain
cluster_version() {
    local ver
    ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$ver" ]; then
        ver="$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null |
            awk -F/ '{ print $5 }' | sort -V | tail -n 1)"
    fi
    printf '%s' "$ver"
}

# Port a cluster is configured on (pg_lsclusters knows; default 5432).
cluster_port() {
    local port
    port="$(pg_lsclusters -h 2>/dev/null | awk -v v="$1" '$1 == v && $2 == "main" { print $3 }')"
    printf '%s' "${port:-5432}"
}

start_cluster() {
    local ver="$1"
    if [ ! -d "/etc/postgresql/$ver/main" ]; then
        log "creating cluster $ver/main"
        "${SUDO[@]}" pg_createcluster "$ver" main
    fi
    PG_PORT="$(cluster_port "$ver")"
    log "starting cluster $ver/main on port $PG_PORT"
    # "Already running" also fails here; readiness is what counts, checked next.
    if ! "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" main start; then
        log "pg_ctlcluster start reported a failure; waiting for readiness anyway"
    fi
}

# Trust local TCP connections for the postgres role (first matching line wins,
# so the rules go on top of pg_hba.conf), then reload.
trust_local_tcp() {
    local ver="$1" hba="/etc/postgresql/$1/main/pg_hba.conf"
    log "allowing passwordless TCP login for $PG_USER from 127.0.0.1 and ::1 ($hba)"
    "${SUDO[@]}" sed -i \
        -e "1i host    all    $PG_USER    127.0.0.1/32    trust  # added by scripts/ensure-postgres.sh" \
        -e "1i host    all    $PG_USER    ::1/128         trust  # added by scripts/ensure-postgres.sh" \
        "$hba"
    "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
}

install_postgres() {
    log "PostgreSQL not installed: installing it with apt-get"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
}

# Prove the URL works and the role can create databases.
verify() {
    local u="$1" can_create
    if ! command -v psql >/dev/null 2>&1; then
        log "psql not found; skipping the SELECT 1 check"
        return 0
    fi
    PGCONNECT_TIMEOUT=5 psql -w -X -Atq "$u" -c 'SELECT 1' >/dev/null ||
        die "cannot run SELECT 1 with $u (password auth? set TEST_DATABASE_URL with credentials)"
    can_create="$(PGCONNECT_TIMEOUT=5 psql -w -X -Atq "$u" \
        -c 'SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user')"
    [ "$can_create" = t ] || die "the role in $u may not CREATE DATABASE"
    log "ok: $u"
}

main() {
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
        log "using TEST_DATABASE_URL from the environment"
        printf '%s\n' "$TEST_DATABASE_URL" >&3
        return 0
    fi

    if is_ready; then
        log "a server is already accepting connections on $PG_HOST:$PG_PORT"
    else
        local ver installed_here=false
        ver="$(cluster_version)"
        if [ -z "$ver" ]; then
            install_postgres
            installed_here=true
            ver="$(cluster_version)"
            [ -n "$ver" ] || die "apt-get installed postgresql but no server version was found"
        fi
        start_cluster "$ver"
        wait_ready
        if [ "$installed_here" = true ]; then
            trust_local_tcp "$ver"
            wait_ready
        fi
    fi

    verify "$(url)"
    url >&3
    printf '\n' >&3
}

main "$@"
