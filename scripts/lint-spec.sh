#!/usr/bin/env bash
# Lints the committed spec (openapi/openapi.json) with pinned tools: Redocly CLI's
# `recommended` rules (redocly.yaml) and Spectral's `spectral:oas` ruleset (.spectral.yaml),
# both with no error and no warning. Run by `make spec-lint`, part of `make test`.
#
# The tools are npm packages pinned in scripts/spec-lint/package-lock.json, installed on first
# use (and when the lock file changes) into scripts/spec-lint/node_modules. Needs Node >= 20.19.
#
# Environment:
#   LEMAN_SPEC   the document to lint (openapi/openapi.json)
set -euo pipefail

cd "$(dirname "$0")/.."
SPEC="${LEMAN_SPEC:-openapi/openapi.json}"
TOOLS=scripts/spec-lint
log() { printf 'lint-spec: %s\n' "$*" >&2; }

command -v node >/dev/null || { log "node not found (Node >= 20.19 is needed)"; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' ||
    { log "Node $(node --version) is too old: Redocly CLI needs >= 20.19"; exit 1; }

stamp="$TOOLS/node_modules/.leman-lock"
want="$(sha256sum "$TOOLS/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing the pinned linters into $TOOLS/node_modules"
    (cd "$TOOLS" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    echo "$want" >"$stamp"
fi

# No telemetry, no update check, no banner.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

log "redocly lint (recommended, redocly.yaml)"
status=0
out="$("$TOOLS/node_modules/.bin/redocly" lint --config redocly.yaml --max-problems 50 "$SPEC" 2>&1)" || status=$?
# Without its banner (Node 20 deprecation) and blank lines.
grep -v -e '[║╔╚]' -e '^[[:space:]]*$' <<<"$out" >&2 || true
# Redocly fails on errors only: warnings fail here too.
if [ "$status" -ne 0 ] || grep -q -E '[0-9]+ warnings?' <<<"$out"; then
    log "redocly found problems (above)"
    exit 1
fi

log "spectral lint (spectral:oas, .spectral.yaml)"
"$TOOLS/node_modules/.bin/spectral" lint --ruleset .spectral.yaml --fail-severity warn \
    --format text "$SPEC" >&2 ||
    { log "spectral found problems (above)"; exit 1; }
log "ok"
