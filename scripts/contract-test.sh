#!/usr/bin/env bash
# Contract check: start the server binary on a free port with a throw-away
# SQLite database, then let schemathesis 4 run every check and every phase
# (examples, coverage, fuzzing, stateful) against it, driven by the COMMITTED
# spec openapi/openapi.json. Any finding fails the script.
#
# Settings live in schemathesis.toml at the repository root (checks, phases,
# example counts, per-operation expected statuses). This script adds only what
# changes per run: the URL, authentication, colours, reports and a time bound.
#
# It never builds: `make` builds the binary first (`make bin`: the debug build, or PROFILE=release).
#
# Environment (all optional):
#   LEMAN_BIN            binary to test                 (target/debug/leman)
#   LEMAN_SPEC           spec to test against           (openapi/openapi.json)
#   CONTRACT_VENV        virtualenv for schemathesis    (.venv-contract)
#   CONTRACT_TIMEOUT     hard bound on all schemathesis runs together, seconds (900)
#   CONTRACT_MAX_TIME    schemathesis --max-time of the main run: after the examples and
#                        coverage phases, fuzzing and stateful testing share what is left of
#                        this many seconds (300; the runs apart make one pass each)
#   CONTRACT_SEED        reproduce a run (schemathesis prints its seed)
#   CONTRACT_REPORT_DIR  keep JUnit + NDJSON reports and server.log there
#   CONTRACT_MIN_LINK_COVERAGE  least percentage of the declared links the main run's
#                        stateful phase must follow (30; issue 14 part 4 aims at 60, which
#                        runs do not reach yet: 35-37 %)
#   CI=true              plain output, no colours
# Before the fuzzing, a CHF invoice's PDF is rendered by the server, rasterised (pdftoppm, from
# Debian's poppler-utils) and its Swiss QR code read back (zbarimg, zbar-tools): the payload must
# pass an independent validator (the `qrbill` package, scripts/check-qrbill.py). The two tools
# are installed with apt-get when missing; without them the step is skipped with a message,
# except in CI, where it fails.
#
# The server is seeded first: `leman demo-data`, then scripts/contract-seed.py (as the demo user:
# two more members, an invitation, a token, a pro forma, a credit note, an export task, two empty
# organisations) prints the real ids, exported as the CONTRACT_* variables schemathesis.toml's
# `[parameters]` read. The main run is the demo user's (peer: bob). Its stateful phase follows the
# spec's declared links; the script prints how many it covered and fails below
# CONTRACT_MIN_LINK_COVERAGE percent of those selected.
#
# Extra arguments are passed to `schemathesis run`, e.g.
#   scripts/contract-test.sh --include-operation-id create_org
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${LEMAN_BIN:-target/debug/leman}"
SPEC="${LEMAN_SPEC:-openapi/openapi.json}"
VENV="${CONTRACT_VENV:-.venv-contract}"
REQUIREMENTS=scripts/requirements-contract.txt
CONFIG=schemathesis.toml
TIMEOUT="${CONTRACT_TIMEOUT:-900}"
MAX_TIME="${CONTRACT_MAX_TIME:-300}"
MIN_LINK_COVERAGE="${CONTRACT_MIN_LINK_COVERAGE:-30}"
READY_TIMEOUT=60
DEADLINE=$(($(date +%s) + TIMEOUT))

log() { printf 'contract-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing or not executable (build it first: make bin)"
[ -f "$SPEC" ] || die "$SPEC not found (make openapi writes it)"
[ -f "$CONFIG" ] || die "$CONFIG not found"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

# --- (a) virtualenv with the pinned schemathesis --------------------------------
# Reinstall only when the pinned list changed since the last install.
want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
stamp="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing $(grep '^schemathesis==' "$REQUIREMENTS") into $VENV"
    "${PYTHON:-python3}" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "schemathesis 4 needs Python >= 3.11 (set PYTHON=...)"
    "${PYTHON:-python3}" -m venv "$VENV"
    printf '*\n' >"$VENV/.gitignore" # never committed, even without a .gitignore entry
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    printf '%s\n' "$want" >"$stamp"
fi
VENV="$(cd "$VENV" && pwd)"
PY="$VENV/bin/python"
ST="$VENV/bin/schemathesis"
# Hypothesis keeps caches (unicode tables, constants) in ./.hypothesis by default;
# keep them inside the (ignored) venv instead of the working tree.
export HYPOTHESIS_STORAGE_DIRECTORY="$VENV/hypothesis"
log "$("$ST" --version)"

# --- (c) start the server on a free port with a temporary data dir ------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/leman-contract.XXXXXX")"
server_pid=""
# shellcheck disable=SC2329 # invoked by the EXIT trap
cleanup() {
    local rc=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        # actix shuts down gracefully; do not wait for it forever.
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
mkdir -p "$tmp/data"
# Default engine (SQLite in the data dir); an inherited DATABASE_URL must not
# point the server elsewhere. `env` execs the binary, so $! below is the
# server's own pid (a shell function run with & would leave the server behind
# when killed).
# Sign-in rate limits are lifted: the fuzzer signs in far more often than a person.
leman=(env -u DATABASE_URL LEMAN_BIND="127.0.0.1:$port" LEMAN_DATA_DIR="$tmp/data"
    LEMAN_APP_URL="$base" LEMAN_AUTH_RATE_PER_IP=1000000 LEMAN_AUTH_RATE_PER_ACCOUNT=1000000
    LEMAN_WEBHOOKS_ALLOW_LOOPBACK=true "$BIN")
server_log() { log "server log (last ${1:-200} lines):"; tail -n "${1:-200}" "$tmp/server.log" >&2 || true; }

log "starting $BIN serve on $base"
"${leman[@]}" serve >"$tmp/server.log" 2>&1 &
server_pid=$!

# --- (d) wait for /readyz -----------------------------------------------------
http_status() { # prints the HTTP status of GET $1, or 000
    "$PY" - "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}
for ((i = 0; ; i++)); do
    kill -0 "$server_pid" 2>/dev/null || { server_log; die "the server exited during start-up"; }
    [ "$(http_status "$base/readyz")" = 200 ] && break
    [ "$i" -lt "$READY_TIMEOUT" ] || { server_log; die "GET /readyz not 200 after ${READY_TIMEOUT}s"; }
    sleep 1
done
log "server ready"

# --- schemathesis arguments -----------------------------------------------------
args=(--url "$base")
if [ "${CI:-}" = true ]; then args+=(--no-color); fi
if [ -n "${CONTRACT_SEED:-}" ]; then args+=(--seed "$CONTRACT_SEED"); fi
if [ -n "${CONTRACT_REPORT_DIR:-}" ]; then
    mkdir -p "$CONTRACT_REPORT_DIR"
    # shellcheck disable=SC2054 # "junit,ndjson" is one argument
    args+=(--report junit,ndjson --report-dir "$CONTRACT_REPORT_DIR")
fi

# --- authentication ---------------------------------------------------------------
# Verified users made with `leman users create`. alice is the identity of the main run; bob
# exists so the object_level_authorization check can replay alice's reads as someone else.
# Operations that end the caller's session or account, or that check the caller's password
# (each wrong guess counts towards the lock threshold), run apart, each with a fresh user.
login() { # email password -> access token on stdout
    EMAIL="$1" PASSWORD="$2" "$PY" - "$base/v1/auth/login" <<'EOF'
import json, os, sys, urllib.error, urllib.request
body = json.dumps({"email": os.environ["EMAIL"], "password": os.environ["PASSWORD"]}).encode()
req = urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=30) as resp:
        print(json.load(resp)["access_token"])
except urllib.error.HTTPError as e:
    sys.exit(f"login as {os.environ['EMAIL']}: HTTP {e.code}: {e.read()[:500]!r}")
EOF
}
declare -A token_of
make_user() { # name: creates contract-<name>@example.com, logs in, records it in users.tsv
    local name="$1" email="contract-$1@example.com" password token
    password="$("$PY" -c 'import secrets; print("Ct1-" + secrets.token_urlsafe(24))')"
    "${leman[@]}" users create --email "$email" --password "$password" --verified >>"$tmp/server.log" 2>&1 ||
        { server_log 50; die "leman users create --email $email failed"; }
    token="$(login "$email" "$password")" || { server_log 50; die "login as $email failed"; }
    add_user "$name" "$email" "$password" "$token"
}
add_user() { # name email password token: a signed-in user the runs may use (users.tsv)
    local name="$1" email="$2" password="$3" token="$4"
    # The highest lock threshold a user may choose, and no alert mail for each fuzzed login.
    TOKEN="$token" "$PY" - "$base" <<'EOF' || { server_log 50; die "configuring $email failed"; }
import json, os, sys, urllib.request
body = json.dumps({"notify_on_login_success": False, "notify_on_login_failure": False, "lock_after_failed_logins": 100}).encode()
req = urllib.request.Request(sys.argv[1] + "/v1/me/security-settings", data=body, method="PUT",
                             headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["TOKEN"]})
urllib.request.urlopen(req, timeout=30).read()
EOF
    printf '%s\t%s\t%s\n' "$name" "$email" "$password" >>"$tmp/users.tsv"
    token_of[$name]="$token"
}
wfc_config() { # out-config user [peers...]: the repository config + login-based auth
    local out="$1" user="$2"
    shift 2
    "$PY" - "$tmp/users.tsv" "$out.wfc.json" <<'EOF'
import json, sys
users = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
entries = [{
    "name": name,
    "loginEndpointAuth": {
        "endpoint": "/v1/auth/login", "verb": "POST", "contentType": "application/json",
        "payloadUserPwd": {"username": email, "usernameField": "email",
                           "password": password, "passwordField": "password"},
        "token": {"extractFrom": "body", "extractSelector": "/access_token",
                  "sendIn": "header", "sendName": "Authorization", "sendTemplate": "Bearer {token}"},
    },
} for name, email, password in users]
json.dump({"auth": entries}, open(sys.argv[2], "w"), indent=2)
EOF
    local peers=""
    if [ "$#" -gt 0 ]; then
        peers="$(printf '"%s", ' "$user" "$@")"
        peers="peers = [${peers%, }]"
    fi
    cp "$CONFIG" "$out"
    cat >>"$out" <<EOF

# --- appended by scripts/contract-test.sh ---
[auth.wfc]
path = "$out.wfc.json"
user = "$user"
$peers
refresh_interval = 300
EOF
}
st() { # config [args...]: one schemathesis run, bounded by what is left of the budget
    local config="$1" rc left
    shift
    left=$((DEADLINE - $(date +%s)))
    [ "$left" -gt 0 ] || { log "the ${TIMEOUT}s budget is spent"; return 124; }
    log "schemathesis run $SPEC ${args[*]} $(sed -E 's/Bearer [^ ]+/Bearer ***/g' <<<"$*")"
    set +e
    # SIGINT on timeout lets schemathesis print its summary before it stops.
    timeout --foreground --signal=INT --kill-after=60 "$left" \
        "$ST" --config-file "$config" run "$SPEC" "${args[@]}" "$@" 2>&1 | tee "$tmp/last-run.log"
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -ne 124 ] || log "schemathesis did not finish within the ${TIMEOUT}s budget"
    return "$rc"
}

# --- (e) demo data, the demo user signed in ---------------------------------------
demo="$("${leman[@]}" demo-data 2>>"$tmp/server.log" | sed -n 's/^demo login: //p')"
[ -n "$demo" ] || { server_log 50; die "leman demo-data printed no login"; }
demo_token="$(login "${demo%% / *}" "${demo#* / }")" || { server_log 50; die "login as the demo user failed"; }

# --- (f) the Swiss QR-bill of a rendered invoice, read back from the page --------
qrbill_tools() { command -v pdftoppm >/dev/null && command -v zbarimg >/dev/null; }
if ! qrbill_tools; then
    log "installing poppler-utils and zbar-tools (pdftoppm, zbarimg) for the QR-bill check"
    apt=(apt-get)
    [ "$(id -u)" = 0 ] || apt=(sudo -n apt-get)
    { "${apt[@]}" install -y -q poppler-utils zbar-tools ||
        { "${apt[@]}" update -q && "${apt[@]}" install -y -q poppler-utils zbar-tools; }; } >"$tmp/apt.log" 2>&1 || true
fi
if ! qrbill_tools; then
    if [ "${CI:-}" = true ]; then
        tail -n 20 "$tmp/apt.log" >&2 || true
        die "pdftoppm and zbarimg are needed for the QR-bill check and could not be installed"
    fi
    log "SKIPPED the QR-bill check: pdftoppm and zbarimg are missing and could not be installed (apt-get install poppler-utils zbar-tools)"
else
    # The demo organisation (CHF, in Geneva) and its latest paid invoice, as a PDF in German.
    TOKEN="$demo_token" "$PY" - "$base" "$tmp/invoice.pdf" >"$tmp/amount" <<'EOF' || { server_log 50; die "could not fetch a paid invoice's PDF"; }
import json, os, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
def get(path, raw=False):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200, (path, resp.status)
        return resp.read() if raw else json.load(resp)
org = get("/v1/me/organizations")["data"][0]
invoices = get(f"/v1/orgs/{org['id']}/invoices?status=paid&limit=1")["data"]
assert invoices, "the demo organisation has no paid invoice"
invoice = invoices[0]
assert invoice["total"]["currency"] == "CHF", invoice
pdf = get(f"/v1/orgs/{org['id']}/invoices/{invoice['id']}/pdf?lang=de", raw=True)
assert pdf.startswith(b"%PDF-"), pdf[:20]
open(out, "wb").write(pdf)
print(invoice["total"]["amount"])
EOF
    pdftoppm -r 300 -png "$tmp/invoice.pdf" "$tmp/invoice-page"
    found=""
    for page in "$tmp"/invoice-page*.png; do
        if zbarimg --quiet --raw -Sdisable -Sqrcode.enable -Sbinary "$page" >"$tmp/qr.txt" 2>>"$tmp/zbar.log"; then
            found="$page"
            break
        fi
    done
    [ -n "$found" ] || die "zbarimg found no QR code on the rendered invoice"
    "$PY" scripts/check-qrbill.py "$tmp/qr.txt" "$(cat "$tmp/amount")" >&2 ||
        die "the invoice's QR-bill did not pass the qrbill validator (payload: $(tr '\r\n' '|~' <"$tmp/qr.txt"))"
    log "QR-bill read back from the rendered invoice ($(basename "$found")) and validated"
fi

# --- (g) real ids for path parameters (schemathesis.toml's [parameters]) ----------
"$PY" scripts/contract-seed.py "$base" "$demo_token" "$tmp/data/mail" -- "${leman[@]}" >"$tmp/ids.env" 2>>"$tmp/server.log" ||
    { server_log 50; die "seeding the contract data failed (scripts/contract-seed.py)"; }
while IFS='=' read -r name value; do
    [[ "$name" =~ ^CONTRACT_[A-Z_]+$ ]] || die "scripts/contract-seed.py printed '$name=$value'"
    export "$name=$value"
done <"$tmp/ids.env"
log "seeded: $(sed 's/^CONTRACT_//; s/=.*//' "$tmp/ids.env" | tr '\n' ' ')"

# --- (h) the runs -------------------------------------------------------------------
SEPARATE=(logout end_session end_other_sessions reauthenticate change_password change_login_email delete_me)
add_user demo "${demo%% / *}" "${demo#* / }" "$demo_token"
make_user bob
log "main run as ${demo%% / *} (peer: contract-bob@example.com)"
wfc_config "$tmp/main.toml" demo bob
exclude=()
for op in "${SEPARATE[@]}"; do exclude+=(--exclude-operation-id "$op"); done
rc=0
main_started=$(date +%s)
# Bounded by time, not by a number of cases: the stateful phase's link coverage grows with the
# scenarios it runs, which a count of examples leaves to chance.
st "$tmp/main.toml" --max-time "$MAX_TIME" "${exclude[@]}" "$@" || rc=$?
log "main run: $(($(date +%s) - main_started))s"

# The stateful phase's link coverage: "<covered> covered / <selected> selected / <total> total"
# (links are declared only, see [phases.stateful] in schemathesis.toml). Without a stateful
# phase (filtered out by extra arguments) there is nothing to judge.
links="$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/last-run.log" | grep -oE '[0-9]+ covered / [0-9]+ selected / [0-9]+ total' | tail -n 1 || true)"
if [ -n "$links" ]; then
    read -r covered _ _ selected _ _ total _ <<<"$links"
    percent=$((selected > 0 ? covered * 100 / selected : 0))
    log "links: $covered of $selected selected followed ($percent %; $total declared)"
    if [ "$rc" -eq 0 ] && [ "$percent" -lt "$MIN_LINK_COVERAGE" ]; then
        log "the stateful phase followed $percent % of the declared links, below $MIN_LINK_COVERAGE %"
        rc=1
    fi
elif [ "$#" -eq 0 ]; then
    log "no link coverage in schemathesis's output (did the stateful phase run?)"
    [ "$rc" -ne 0 ] || rc=1
fi

# One operation alone follows no link: no stateful phase (schemathesis would call the spec's
# links missing).
# shellcheck disable=SC2054 # one argument
apart=(--phases examples,coverage,fuzzing)
for op in "${SEPARATE[@]}"; do
    [ "$rc" -eq 0 ] || break
    name="${op//_/-}"
    make_user "$name"
    # end_session ends a session of the caller's: the one `make_user` signed in (the run signs in
    # again, so it is not the one in use).
    CONTRACT_SESSION_ID="$(TOKEN="${token_of[$name]}" "$PY" - "$base" <<'EOF'
import json, os, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v1/me/sessions", headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
print(json.load(urllib.request.urlopen(req, timeout=30))["data"][0]["id"])
EOF
)" || die "listing the sessions of contract-$name@example.com failed"
    export CONTRACT_SESSION_ID
    if [ "$op" = delete_me ]; then
        # The first success deletes the caller: no login can follow, so a fixed token, and the
        # answers after it are the 401s of a deleted account.
        cp "$CONFIG" "$tmp/$op.toml"
        st "$tmp/$op.toml" --include-operation-id "$op" "${apart[@]}" -H "Authorization: Bearer ${token_of[$name]}" "$@" || rc=$?
    else
        wfc_config "$tmp/$op.toml" "$name"
        st "$tmp/$op.toml" --include-operation-id "$op" "${apart[@]}" "$@" || rc=$?
    fi
done

# Outgoing webhooks (issue 14): a real delivery to a local receiver, verified with the Standard
# Webhooks library (the server allows loopback endpoints: LEMAN_WEBHOOKS_ALLOW_LOOPBACK above).
if [ "$rc" -eq 0 ]; then
    make_user webhooks
    "$PY" scripts/check-webhook-signature.py "$base" "${token_of[webhooks]}" \
        "${leman[@]}" jobs run deliver_webhooks >&2 || { server_log 50; rc=1; log "webhook signature check failed"; }
fi

[ -z "${CONTRACT_REPORT_DIR:-}" ] || cp "$tmp/server.log" "$CONTRACT_REPORT_DIR/server.log"
if [ "$rc" -ne 0 ]; then
    server_log 100
    log "FAILED (exit $rc)"
else
    log "passed"
fi
exit "$rc"
