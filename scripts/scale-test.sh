#!/usr/bin/env bash
# Scale check (issue 15): three `leman serve` (jobs off) and one `leman worker` on one fresh
# PostgreSQL database behind a round-robin proxy on loopback, a scripted customer day through it,
# compared with the same day on one instance; then every job once, sessions and tokens ended on
# one instance refused by the others, sign-in rate limits shared, signing keys agreeing.
# The driver is scripts/scale_test.py (Python 3.11 standard library only); it prints a PASS/FAIL
# table and the run's figures. docs/scale.md says what it proves.
#
# It never builds: `make scale-test` builds the binary first (`make bin`: the debug build, or PROFILE=release).
# Without a PostgreSQL server (scripts/ensure-postgres.sh fails) it skips and exits 0, except on
# CI (CI=true), where it must run.
#
# Environment (all optional):
#   LEMAN_BIN          binary to test                                (target/debug/leman)
#   TEST_DATABASE_URL  PostgreSQL base URL (else scripts/ensure-postgres.sh finds or starts one)
#   SCALE_KEEP=DIR     keep the processes' logs in DIR
#   CI=true            a missing PostgreSQL is a failure, not a skip
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${LEMAN_BIN:-target/debug/leman}"
PY="${PYTHON:-python3}"

log() { printf 'scale-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing or not executable (build it first: make bin)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "the driver needs Python >= 3.11 (set PYTHON=...)"
command -v psql >/dev/null 2>&1 || {
    if [ "${CI:-}" = true ]; then die "psql not found"; fi
    log "SKIPPED: psql not found (install postgresql-client, or run with CI=true to make this an error)"
    exit 0
}

if ! pg_base="$(scripts/ensure-postgres.sh | tail -n 1)" || [ -z "$pg_base" ]; then
    if [ "${CI:-}" = true ]; then die "scripts/ensure-postgres.sh could not provide a PostgreSQL server"; fi
    log "SKIPPED: no PostgreSQL server (scripts/ensure-postgres.sh failed); the scale check needs one"
    exit 0
fi

# The maintenance database of that server (the URL may name another database).
admin_url="$("$PY" -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit((p.scheme, p.netloc, "/postgres", p.query, "")))' "$pg_base")"
# TEST_DATABASE_URL is passed through unchecked by ensure-postgres: make sure it answers.
if ! PGCONNECT_TIMEOUT=5 psql -w -X -Atq "$admin_url" -c 'SELECT 1' >/dev/null; then
    if [ "${CI:-}" = true ]; then die "cannot connect to $pg_base"; fi
    log "SKIPPED: cannot connect to PostgreSQL at $pg_base; the scale check needs one"
    exit 0
fi

state="$(mktemp -d "${TMPDIR:-/tmp}/leman-scale.XXXXXX")"
driver_pid=""
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
    local rc=$?
    if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
        kill -TERM "$driver_pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$driver_pid" 2>/dev/null || break; sleep 1; done
        kill -KILL "$driver_pid" 2>/dev/null || true
    fi
    # Whatever the driver left behind: the leman processes it started, the databases it made.
    if [ -f "$state/pids" ]; then
        while read -r pid; do
            kill -0 "$pid" 2>/dev/null || continue
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$pid" 2>/dev/null || true
        done <"$state/pids"
    fi
    if [ -f "$state/dbs" ]; then
        while read -r db; do
            PGCONNECT_TIMEOUT=5 psql -w -X -Atq "$admin_url" \
                -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
        done <"$state/dbs"
    fi
    if [ -n "${SCALE_KEEP:-}" ]; then
        mkdir -p "$SCALE_KEEP"
        cp "$state"/*.log "$SCALE_KEEP"/ 2>/dev/null || true
    fi
    rm -rf "$state"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "binary $BIN; PostgreSQL $pg_base"
"$PY" scripts/scale_test.py "$BIN" "$pg_base" "$state" &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
exit "$rc"
