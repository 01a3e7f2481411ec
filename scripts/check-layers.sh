#!/usr/bin/env bash
# The layers of docs/architecture.md: a lower layer never imports a higher one. Run by `make lint`.
# Each rule: a folder (or file) and the modules it must not name.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# An optional third argument: imports allowed there although the second names them (a line
# naming an allowed import is not reported). An optional fourth: a file name to skip.
rule() {
    local where=$1 forbidden=$2 allowed=${3:-} skip=${4:-}
    local hits
    hits=$(grep -rnE "crate::($forbidden)\b" $where --include='*.rs' ${skip:+--exclude=$skip} || true)
    if [ -n "$allowed" ] && [ -n "$hits" ]; then
        hits=$(echo "$hits" | grep -vE "crate::($allowed)\b" || true)
    fi
    if [ -n "$hits" ]; then
        echo "layer violation: $where must not import crate::{${forbidden//|/,}}:"
        echo "$hits" | sed 's/^/  /'
        status=1
    fi
}
rule api/domain   "db|models|services|jobs|mail|gateway|auth|http|routes|views|context|startup"
rule api/error.rs "models|services|jobs|mail|auth|http|routes|views|context|startup"
rule api/models   "services|jobs|mail|gateway|auth::(caller|jwt|keys|ratelimit|two_factor_gate|password)|http|routes|views|context|startup"
rule api/db       "models|services|jobs|mail|gateway|auth|http|routes|views|context|startup"
rule api/gateway  "db|models|services|jobs|mail|auth|http|routes|views|context|startup" "" sandbox.rs
# The sandbox provider keeps its own charge log by idempotency key (as a real provider keeps its
# records), so a repeated key answers the first charge: api/gateway/sandbox.rs alone may name
# crate::db (its pool) and crate::models::sandbox_charges (the log), nothing else below.
rule api/gateway/sandbox.rs "db|models|services|jobs|mail|auth|http|routes|views|context|startup" "db|models::sandbox_charges"
# The registry adapter likewise: the sandbox registry keeps its state (registrations, codes' hashes,
# the poll queue, its clock) through crate::models::registry_sandbox and nothing else below; the
# trait's module may name crate::error (its refusals as problems) and crate::db (the sandbox's pool
# type, for `from_config`).
rule api/registry "db|models|services|jobs|mail|auth|http|routes|views|context|startup" "db::Pool" sandbox.rs
rule api/registry/sandbox.rs "db|models|services|jobs|mail|auth|http|routes|views|context|startup" "db|models::registry_sandbox|auth::secrets"
rule api/mail     "services|jobs|auth|http|routes|views|context|startup"
# The outbox renders a webhook's `data` with the API's own views, in the change's transaction
# (issue 14): services may name that one function of crate::views, nothing else there.
rule api/services "http|routes|views|startup" "views::webhooks::(event_data|Resource)"
rule api/jobs     "http|routes|views|startup"
rule api/context.rs "http|routes|views|startup"
rule api/views    "routes|startup"
if [ $status -eq 0 ]; then echo "layers: ok"; fi
exit $status
