#!/usr/bin/env bash
# The database goes away (issue 15, part 5): PostgreSQL stopped for OUTAGE_SECONDS under load and
# started again; on SQLite the database made read-only, then its disk full. Every answer meanwhile
# a bounded 503/507 problem+json, no 500, /readyz 503 then 200, recovery without a restart, jobs
# resuming, nothing acknowledged lost, nothing applied twice, no corruption.
# The driver is scripts/outage_test.py (Python 3.11 standard library only); it prints a table of
# checks and figures. docs/outage.md says what it proves.
#
# PostgreSQL: a throwaway cluster of its own (initdb into a temp directory, pg_ctl on a free port,
# run as the `postgres` OS user when this runs as root). The machine's shared server is never
# stopped. Without PostgreSQL's server binaries that leg is skipped (a failure when CI=true).
#
# It never builds: `make outage-test` builds the binary first (`make bin`: the debug build, or PROFILE=release).
#
# Environment (all optional):
#   LEMAN_BIN         binary to test                                    (target/debug/leman)
#   OUTAGE_SECONDS    how long PostgreSQL stays down                    (20)
#   OUTAGE_STOP_MODE  pg_ctl stop mode: fast or immediate               (fast)
#   OUTAGE_LEGS       a subset, comma-separated: postgres,read-only,full (all)
#   OUTAGE_KEEP=DIR   keep the logs in DIR
#   CI=true           missing PostgreSQL binaries are a failure, not a skip
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${LEMAN_BIN:-target/debug/leman}"
PY="${PYTHON:-python3}"

log() { printf 'outage-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing or not executable (build it first: make bin)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "the driver needs Python >= 3.11 (set PYTHON=...)"

# PostgreSQL's server binaries, found like scripts/ensure-postgres.sh does: the newest Debian
# version directory, else whatever initdb is on the PATH.
# shellcheck disable=SC2012 # version directory names are plain
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    pg_bin="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
fi
if [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
    if [ "${CI:-}" = true ]; then die "PostgreSQL server binaries (initdb, pg_ctl) not found"; fi
    log "PostgreSQL server binaries (initdb, pg_ctl) not found: the PostgreSQL leg is SKIPPED"
    export OUTAGE_LEGS="${OUTAGE_LEGS:-read-only,full}"
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    die "running as root needs a \`postgres\` OS user to run the throwaway cluster"
fi

state="$(mktemp -d "${TMPDIR:-/tmp}/leman-outage.XXXXXX")"
chmod 755 "$state"
driver_pid=""
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
    local rc=$?
    if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
        kill -TERM "$driver_pid" 2>/dev/null || true
        for _ in 1 2 3 4 5; do kill -0 "$driver_pid" 2>/dev/null || break; sleep 1; done
        kill -KILL "$driver_pid" 2>/dev/null || true
    fi
    # What the driver left behind: its leman processes, its cluster, its mounts, immutable files.
    if [ -f "$state/pids" ]; then
        while read -r pid; do
            kill -0 "$pid" 2>/dev/null || continue
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$pid" 2>/dev/null || true
        done <"$state/pids"
    fi
    if [ -f "$state/clusters" ]; then
        while read -r dir; do
            [ -f "$dir/postmaster.pid" ] || continue
            if [ "$(id -u)" -eq 0 ]; then
                runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
            else
                "$pg_bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
            fi
        done <"$state/clusters"
    fi
    if [ -f "$state/immutable" ]; then
        # shellcheck disable=SC2046 # one line of paths
        while read -r files; do chattr -i $files 2>/dev/null || true; done <"$state/immutable"
    fi
    if [ -f "$state/mounts" ]; then
        while read -r dir; do umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true; done <"$state/mounts"
    fi
    if [ -n "${OUTAGE_KEEP:-}" ]; then
        mkdir -p "$OUTAGE_KEEP"
        cp "$state"/*.log "$OUTAGE_KEEP"/ 2>/dev/null || true
    fi
    rm -rf "$state"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "binary $BIN; PostgreSQL binaries ${pg_bin}; outage ${OUTAGE_SECONDS:-20} s"
"$PY" scripts/outage_test.py "$BIN" "$pg_bin" "$state" openapi/openapi.json &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
exit "$rc"
