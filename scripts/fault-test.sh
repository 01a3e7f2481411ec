#!/usr/bin/env bash
# kill -9, repeated (issue 15, part 4): `leman serve` with its job runner on is killed with
# SIGKILL at random moments while clients pay invoices (sandbox card, prepaid account), top the
# prepaid account up and withdraw, `leman billing refund` refunds, and the jobs deliver mails and
# webhooks (to a receiver on loopback) and renew products made due; restarted after each kill.
# FAULT_KILLS kills on SQLite, then as many on a fresh PostgreSQL database.
#
# When the invariants are checked: the database ones (paid at most once, the sandbox's charge
# log, each Idempotency-Key acting at most once, ledger = balance, gapless numbers, nothing
# half-written, no outbox row lost) after EVERY restart; `leman audit verify` every
# FAULT_AUDIT_EVERY kills (5) and at the end; at the end, once the clients stopped and the queues
# drained, the API's balances and "every mail and webhook delivered at least once".
# docs/faults.md says what each proves.
# The driver is scripts/fault_test.py (Python 3.11 standard library only); it prints a
# PASS/FAIL table per invariant and engine, and the run's figures; exit 1 on any failure.
#
# It never builds: `make fault-test` builds the binary first (`make bin`: the debug build, or PROFILE=release).
# Without a PostgreSQL server (scripts/ensure-postgres.sh fails) the PostgreSQL half is skipped
# with a message, except on CI (CI=true), where that is a failure.
#
# Environment (all optional):
#   FAULT_KILLS=50        kills per engine (make fault-test-short: 5)
#   FAULT_MIN_UP/MAX_UP   a kill comes uniformly 0.3–2.5 s after the server answered /readyz
#   FAULT_AUDIT_EVERY=5   `leman audit verify` every N kills
#   FAULT_CLIENTS=4       client threads (two per organisation)
#   FAULT_SEED            the random seed (printed; set it to replay a run's choices)
#   FAULT_GIVE_UP=5       seconds a client retries one key before giving it up (counted)
#   FAULT_AWAIT_RECONCILE 1: at the end, wait for charges a kill left unanswered to be
#                         reconciled (2 min after them); default 1 from 20 kills, else 0
#   FAULT_ENGINES         `sqlite postgres` (default) or one of them
#   LEMAN_BIN             binary to test (target/debug/leman)
#   TEST_DATABASE_URL     PostgreSQL base URL (else scripts/ensure-postgres.sh finds or starts one)
#   FAULT_KEEP=DIR        keep the logs, databases (SQLite) and mails in DIR
#   CI=true               a missing PostgreSQL is a failure, not a skip
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${LEMAN_BIN:-target/debug/leman}"
PY="${PYTHON:-python3}"
ENGINES="${FAULT_ENGINES:-sqlite postgres}"

log() { printf 'fault-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing or not executable (build it first: make bin)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "the driver needs Python >= 3.11 (set PYTHON=...)"

pg_base=""
admin_url=""
skip_pg() {
    if [ "${CI:-}" = true ]; then die "$1"; fi
    log "PostgreSQL SKIPPED: $1 (run with CI=true to make this an error)"
    pg_base=""
}
case " $ENGINES " in
*" postgres "*)
    if ! command -v psql >/dev/null 2>&1; then
        skip_pg "psql not found (install postgresql-client)"
    elif ! pg_base="$(scripts/ensure-postgres.sh | tail -n 1)" || [ -z "$pg_base" ]; then
        skip_pg "no PostgreSQL server (scripts/ensure-postgres.sh failed)"
    else
        admin_url="$("$PY" -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit((p.scheme, p.netloc, "/postgres", p.query, "")))' "$pg_base")"
        if ! PGCONNECT_TIMEOUT=5 psql -w -X -Atq "$admin_url" -c 'SELECT 1' >/dev/null; then
            skip_pg "cannot connect to PostgreSQL at $pg_base"
        fi
    fi
    ;;
esac
case " $ENGINES " in
*" sqlite "*) ;;
*) export FAULT_NO_SQLITE=1 ;;
esac

state="$(mktemp -d "${TMPDIR:-/tmp}/leman-fault.XXXXXX")"
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
            kill -KILL "$pid" 2>/dev/null || true
        done <"$state/pids"
    fi
    if [ -n "${FAULT_KEEP:-}" ]; then
        mkdir -p "$FAULT_KEEP"
        cp -r "$state"/. "$FAULT_KEEP"/ 2>/dev/null || true
    fi
    if [ -f "$state/dbs" ] && [ -n "$admin_url" ]; then
        while read -r db; do
            PGCONNECT_TIMEOUT=5 psql -w -X -Atq "$admin_url" \
                -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
        done <"$state/dbs"
    fi
    rm -rf "$state"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "binary $BIN; kills per engine ${FAULT_KILLS:-50}; PostgreSQL ${pg_base:-none}"
"$PY" scripts/fault_test.py "$BIN" "$state" "$pg_base" &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
exit "$rc"
