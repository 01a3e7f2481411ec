#!/usr/bin/env bash
# The breaking-change check of the API description (docs/api.md, "Versioning"), run by
# `make test` (target `spec-diff`):
#
#   scripts/spec-diff.sh                    check openapi/openapi.json against openapi/baseline.json
#   scripts/spec-diff.sh --self-test        also prove the check fails on breaking changes
#   scripts/spec-diff.sh --update-baseline  make the current spec the new baseline (a release)
#
# The baseline is the description partners last received (committed, so a clean clone in CI has
# it without any git history). A breaking difference from it fails the check unless its
# operation is listed under "## Unreleased" in docs/api-changes.md. Adding a value to an enum of a
# response is not breaking here: our response enums are open (docs/api.md).
#
# The differ is api-smart-diff (npm, pinned with its lock file in scripts/spec-diff/), installed
# by this script into scripts/spec-diff/node_modules on first use (`npm ci`, ~5 s); a run then
# takes 5 to 15 s, the self-test as long again.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=scripts/spec-diff
baseline=openapi/baseline.json
current=openapi/openapi.json
changes=docs/api-changes.md

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "spec-diff: node and npm are needed (apt-get install nodejs npm)" >&2
    exit 1
fi
# (Re)install when missing or when the lock file changed since the last install.
stamp=$dir/node_modules/.lock-installed
if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
fi

case "${1:-}" in
    --update-baseline)
        cp "$current" "$baseline"
        echo "spec-diff: $baseline is now the current spec; move the Unreleased entries of $changes under a dated heading"
        exit 0
        ;;
    --self-test)
        node "$dir/check.cjs" --self-test "$current"
        ;;
    "") ;;
    *)
        echo "usage: $0 [--self-test | --update-baseline]" >&2
        exit 2
        ;;
esac
node "$dir/check.cjs" "$baseline" "$current" "$changes"
