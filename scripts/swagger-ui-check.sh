#!/usr/bin/env bash
# Swagger UI works for a person (`make swagger-ui-check`, part of `make test`): headless
# Chromium opens /docs of a live server with every outside request refused (the UI is
# vendored), clicks "Authorize" and gives a bearer token, then "Try it out" and "Execute" on
# GET /v1/me, which must show 200. The screenshot is kept as a CI artefact:
# target/swagger-ui.png (SWAGGER_UI_SCREENSHOT to change it), also when the check fails.
#
# Chromium is Debian's (/usr/bin/chromium, CHROMIUM to change it), installed with apt-get when
# missing (as root, as CI runs; otherwise the script says what to install). playwright-core
# (pinned in scripts/swagger-ui-check/package.json and its lockfile) drives it; its
# node_modules is installed here with `npm ci`. It never builds: make builds the binary first (make bin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LIVE_NAME=swagger-ui-check
DIR=scripts/swagger-ui-check
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
SCREENSHOT="${SWAGGER_UI_SCREENSHOT:-target/swagger-ui.png}"
log() { printf 'swagger-ui-check: [%ss] %s\n' "$SECONDS" "$*" >&2; }

if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing Debian's chromium with apt-get"
        apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
            { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
    else
        log "error: $CHROMIUM is missing: apt-get install chromium (as root), or set CHROMIUM"
        exit 1
    fi
fi
log "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

lock_sum="$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$DIR/node_modules" ] || [ "$(cat "$DIR/node_modules/.lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
    log "installing $DIR/node_modules (npm ci)"
    (cd "$DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    printf '%s\n' "$lock_sum" >"$DIR/node_modules/.lock.sha256"
fi

# shellcheck source=scripts/walkthrough/live-server.sh
. scripts/walkthrough/live-server.sh
live_server_start
email=swagger-ui@example.com
password="Sw1-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
live_user "$email" "$password"
token="$(curl -fsS "$LEMAN_URL/v1/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"email\": \"$email\", \"password\": \"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

mkdir -p "$(dirname "$SCREENSHOT")"
rm -f "$SCREENSHOT"
LEMAN_TOKEN="$token" LEMAN_EMAIL="$email" CHROMIUM="$CHROMIUM" SCREENSHOT="$SCREENSHOT" \
    node "$DIR/check.mjs"
[ -s "$SCREENSHOT" ] || { log "error: no screenshot in $SCREENSHOT"; exit 1; }
log "passed; screenshot: $SCREENSHOT"
