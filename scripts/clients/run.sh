#!/usr/bin/env bash
# Generated clients, driven against a live server (`make clients`, part of `make test`).
#
# 1. Python: openapi-python-client (pinned in scripts/clients/python/requirements.txt, installed
#    into .venv-clients/) generates the package `leman_client` from the COMMITTED spec
#    openapi/openapi.json into target/clients/python/ (never committed); any generator warning
#    fails the run. scripts/clients/python/flow.py is type-checked against it (mypy --strict).
# 2. TypeScript: openapi-typescript writes scripts/clients/typescript/generated/leman.ts (ignored),
#    and scripts/clients/typescript/flow.ts, which uses it with openapi-fetch, is type-checked
#    by `tsc --strict` (versions pinned in package.json and package-lock.json; node_modules is
#    installed here with `npm ci`).
# 3. A live server is started (scripts/walkthrough/live-server.sh) and each language runs the
#    same partner flow against it as its own verified user: sign in, profile, organisation, an
#    order paid by the sandbox card, invoices filtered by status, one invoice, a prepaid top-up,
#    a personal token used for a read, and a 422 read through the client's types.
#
# It never builds the server: `make clients` builds the binary first (`make bin`: the debug build, or PROFILE=release).
# Needs python3 >= 3.10, node >= 20 and npm; the registries (PyPI, npm) on the first run.
# Environment (optional): LEMAN_BIN (target/debug/leman), CLIENTS_VENV (.venv-clients).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LIVE_NAME=clients
log() { printf 'clients: [%ss] %s\n' "$SECONDS" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

SPEC=openapi/openapi.json
VENV="${CLIENTS_VENV:-.venv-clients}"
REQUIREMENTS=scripts/clients/python/requirements.txt
PY_OUT=target/clients/python
TS_DIR=scripts/clients/typescript
[ -f "$SPEC" ] || die "$SPEC not found (make openapi writes it)"
command -v node >/dev/null || die "node (>= 20) is needed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    die "node >= 20 is needed, found $(node --version)"

# --- Python: the generator in a virtualenv, then the client ----------------------------------
want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/openapi-python-client" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    log "installing $(grep '^openapi-python-client==' "$REQUIREMENTS") into $VENV"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "python3 >= 3.10 is needed"
    python3 -m venv "$VENV"
    printf '*\n' >"$VENV/.gitignore"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    printf '%s\n' "$want" >"$VENV/.requirements.sha256"
fi
VENV="$(cd "$VENV" && pwd)"

rm -rf "$PY_OUT"
mkdir -p "$PY_OUT"
gen_log="$PY_OUT/generate.log"
# The generator formats its output with ruff, found on PATH (it is in the virtualenv).
if ! PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$SPEC" \
    --config scripts/clients/python/generator.yml --meta none --output-path "$PY_OUT/leman_client" \
    --fail-on-warning >"$gen_log" 2>&1; then
    cat "$gen_log" >&2
    die "openapi-python-client failed or warned"
fi
# --fail-on-warning covers the generator's own warnings; anything else it says is one too.
if grep -qiE 'warning|error|cannot|unsupported|skipping' "$gen_log"; then
    cat "$gen_log" >&2
    die "openapi-python-client warned"
fi
log "python client generated ($(find "$PY_OUT/leman_client" -name '*.py' | wc -l) files, no warnings)"
# The partner's script must type-check against what was generated (mypy --strict).
MYPYPATH="$PY_OUT" "$VENV/bin/mypy" --config-file scripts/clients/python/mypy.ini \
    --cache-dir target/clients/mypy-cache scripts/clients/python/flow.py >&2 ||
    die "scripts/clients/python/flow.py does not type-check against the generated client"

# --- TypeScript: pinned tools, generated types, strict type-check ------------------------------
lock_sum="$(sha256sum "$TS_DIR/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$TS_DIR/node_modules" ] || [ "$(cat "$TS_DIR/node_modules/.lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
    log "installing $TS_DIR/node_modules (npm ci)"
    (cd "$TS_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    printf '%s\n' "$lock_sum" >"$TS_DIR/node_modules/.lock.sha256"
fi
rm -rf "$TS_DIR/generated" "$TS_DIR/dist"
(cd "$TS_DIR" && node_modules/.bin/openapi-typescript "../../../$SPEC" --output generated/leman.ts) >"$PY_OUT/openapi-typescript.log" 2>&1 || {
    cat "$PY_OUT/openapi-typescript.log" >&2
    die "openapi-typescript failed"
}
if grep -qiE 'warn|error' "$PY_OUT/openapi-typescript.log"; then
    cat "$PY_OUT/openapi-typescript.log" >&2
    die "openapi-typescript warned"
fi
(cd "$TS_DIR" && node_modules/.bin/tsc --strict -p tsconfig.json) || die "tsc --strict found errors in $TS_DIR/flow.ts"
log "typescript types generated and flow.ts type-checked (tsc --strict)"

# --- a live server, then each flow as its own user -----------------------------------------------
# shellcheck source=scripts/walkthrough/live-server.sh
. scripts/walkthrough/live-server.sh
live_server_start
password="Cl1-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
live_user python-client@example.com "$password"
live_user typescript-client@example.com "$password"

LEMAN_EMAIL=python-client@example.com LEMAN_PASSWORD="$password" PYTHONPATH="$PWD/$PY_OUT" \
    "$VENV/bin/python" scripts/clients/python/flow.py
LEMAN_EMAIL=typescript-client@example.com LEMAN_PASSWORD="$password" node "$TS_DIR/dist/flow.js"
log "both generated clients ran the flow"
