#!/usr/bin/env bash
# Run every curl walkthrough (scripts/walkthrough/NN-*.sh) against one live server
# (`make walkthroughs`, part of `make test`). Each walkthrough makes its own users and
# organisation, so they do not depend on each other; the first failure stops the run.
#
#   scripts/walkthrough/run-all.sh                 # all of them
#   scripts/walkthrough/run-all.sh 05 09           # those whose names start with 05 or 09
#
# It never builds: `make walkthroughs` builds the binary first (`make bin`: the debug build, or PROFILE=release).
# Needs curl, jq (installed with apt-get when missing and allowed) and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
LIVE_NAME=walkthroughs

if ! command -v jq >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }
    else
        echo "walkthroughs: jq is needed (apt-get install jq)" >&2
        exit 1
    fi
fi

# shellcheck source=scripts/walkthrough/live-server.sh
. scripts/walkthrough/live-server.sh
live_server_start
export LEMAN_BIN="$LIVE_BIN"
# The walkthroughs' CLI calls (`leman users create`) must reach the server's database.
unset DATABASE_URL LEMAN_CONFIG
export LEMAN_LOG="${LEMAN_LOG:-warn}"

selected=()
for script in scripts/walkthrough/[0-9][0-9]-*.sh; do
    name="$(basename "$script")"
    if [ $# -eq 0 ]; then
        selected+=("$script")
    else
        for prefix in "$@"; do
            case "$name" in "$prefix"*) selected+=("$script") ;; esac
        done
    fi
done
[ "${#selected[@]}" -gt 0 ] || live_die "no walkthrough matches: $*"

started=$(date +%s)
for script in "${selected[@]}"; do
    t0=$(date +%s%N)
    "$script" >"$LIVE_TMP/walk.log" 2>&1 || {
        cat "$LIVE_TMP/walk.log" >&2
        live_die "$(basename "$script") failed"
    }
    [ -n "${VERBOSE:-}" ] && cat "$LIVE_TMP/walk.log"
    printf 'walkthroughs: ok   %s (%d ms)\n' "$(basename "$script" .sh)" $((($(date +%s%N) - t0) / 1000000))
done
printf 'walkthroughs: %d passed in %d s\n' "${#selected[@]}" $(($(date +%s) - started))
