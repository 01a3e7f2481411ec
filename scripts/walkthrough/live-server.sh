# shellcheck shell=bash
# A live server for the scripts that talk to one over HTTP: the walkthroughs
# (scripts/walkthrough/run-all.sh), the generated clients (scripts/clients/run.sh) and the
# Swagger UI check (scripts/swagger-ui-check.sh). Sourced, from the repository root:
#
#   . scripts/walkthrough/live-server.sh
#   live_server_start            # LEMAN_URL, LEMAN_DATA_DIR, LEMAN_MAIL_DIR, LIVE_TMP are set
#   live_user EMAIL PASSWORD     # a verified account, made with `leman users create`
#   live_leman ARGS...           # the CLI on the server's database (jobs, registry simulation)
#
# The server runs `target/debug/leman serve` (LEMAN_BIN to change it) on a free port with a
# throw-away SQLite database and the file mail transport (.eml files in LEMAN_MAIL_DIR); the
# sign-in rate limits are lifted (these scripts sign in more often than a person). It is stopped
# and its directory removed when the sourcing script exits (KEEP_LIVE_TMP=1 keeps the directory).
# Nothing here builds: `make` builds the binary first (`make bin`: the debug build, or PROFILE=release).

LIVE_NAME="${LIVE_NAME:-live-server}"
live_log() { printf '%s: %s\n' "$LIVE_NAME" "$*" >&2; }
live_die() {
    live_log "error: $*"
    exit 1
}

LIVE_BIN="${LEMAN_BIN:-target/debug/leman}"
[ -x "$LIVE_BIN" ] || live_die "$LIVE_BIN is missing (build it first: make bin)"
LIVE_BIN="$(cd "$(dirname "$LIVE_BIN")" && pwd)/$(basename "$LIVE_BIN")"
LIVE_PID=""
LIVE_TMP=""

# shellcheck disable=SC2329 # invoked by the EXIT trap
live_cleanup() {
    local rc=$?
    if [ -n "$LIVE_PID" ] && kill -0 "$LIVE_PID" 2>/dev/null; then
        kill -TERM "$LIVE_PID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 1; done
        kill -KILL "$LIVE_PID" 2>/dev/null || true
        wait "$LIVE_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$LIVE_TMP/server.log" ]; then
        live_log "server log (last 40 lines):"
        tail -n 40 "$LIVE_TMP/server.log" >&2 || true
    fi
    if [ -n "$LIVE_TMP" ] && [ "${KEEP_LIVE_TMP:-}" != 1 ]; then rm -rf "$LIVE_TMP"; fi
    exit "$rc"
}

live_env() { # the environment of the server and of the CLI on its database
    ${LIVE_EXEC:-} env -u DATABASE_URL -u LEMAN_CONFIG -u LEMAN_SMTP_URL \
        LEMAN_BIND="127.0.0.1:$LIVE_PORT" LEMAN_DATA_DIR="$LEMAN_DATA_DIR" \
        LEMAN_APP_URL="$LEMAN_URL" LEMAN_PUBLIC_API_URL="$LEMAN_URL" \
        LEMAN_AUTH_RATE_PER_IP=100000 LEMAN_AUTH_RATE_PER_ACCOUNT=100000 \
        LEMAN_LOG="${LEMAN_LOG:-warn}" "$@"
}

live_leman() { live_env "$LIVE_BIN" "$@"; }

live_server_start() {
    LIVE_TMP="$(mktemp -d "${TMPDIR:-/tmp}/leman-live.XXXXXX")"
    trap live_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    LIVE_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    export LEMAN_URL="http://127.0.0.1:$LIVE_PORT"
    export LEMAN_DATA_DIR="$LIVE_TMP/data"
    export LEMAN_MAIL_DIR="$LEMAN_DATA_DIR/mail"
    mkdir -p "$LEMAN_DATA_DIR"
    # `exec`: the background job is the server itself, so LIVE_PID is its pid and the cleanup
    # stops it (a function run in the background is a subshell, whose kill left the server).
    (LIVE_EXEC=exec live_env "$LIVE_BIN" serve) >"$LIVE_TMP/server.log" 2>&1 &
    LIVE_PID=$!
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$LIVE_PID" 2>/dev/null || live_die "the server exited during start-up"
        if curl -fsS -o /dev/null "$LEMAN_URL/readyz" 2>/dev/null; then
            live_log "server ready on $LEMAN_URL"
            return 0
        fi
        sleep 0.1
    done
    live_die "GET /readyz not 200 after 60 s"
}

live_user() { # EMAIL PASSWORD: a verified account
    live_leman users create --email "$1" --password "$2" --verified >>"$LIVE_TMP/server.log" 2>&1 ||
        live_die "leman users create --email $1 failed"
}
