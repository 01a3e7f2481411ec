#!/usr/bin/env bash
# Walkthrough: export the organisation's invoices, as CSV at once or as a file made in the
# background and mailed as a link (CSV or a ZIP of the PDFs).
. "$(dirname "$0")/lib.sh"

EMAIL="export.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
org_id="$(an_org "Export Sàrl")"
card_id="$(a_card "$org_id")"
order="$(api POST "/v1/orgs/$org_id/orders" 201 "$(jq -n --arg pm "$card_id" '{items: [{offer_id: "ksuite-standard",
    billing_period: "P1Y"}], payment: {method: "payment_method", payment_method_id: $pm}}')" -H "Idempotency-Key: $(uuid)")"
number="$(api GET "/v1/orgs/$org_id/invoices/$(jq -r .invoice_id <<<"$order")" 200 | jq -r .number)"

say "1. The paid invoices of this year as CSV, streamed at once"
csv="$(api GET "/v1/orgs/$org_id/invoices/export.csv?status=paid&from=$(date -u +%Y)-01-01" 200)"
head -n 1 <<<"$csv" | grep -q '^number,status,issued_at,' || fail "unexpected CSV header: $(head -n 1 <<<"$csv")"
grep -q "^$number,paid," <<<"$csv" || fail "invoice $number is not in the CSV"
header Content-Type | grep -q '^text/csv' || fail "the CSV is not text/csv"

say "2. The same as a background task: 202 with the task (Location: /v1/tasks/{id})"
task="$(api POST "/v1/orgs/$org_id/invoices/exports" 202 '{"format": "pdf_zip", "status": ["paid"]}' \
    -H "Idempotency-Key: $(uuid)")"
task_id="$(jq -r .id <<<"$task")"
check '.kind == "invoice_export"' "$task"

say "3. Poll the task until it has succeeded"
for _ in $(seq 1 100); do
    task="$(api GET "/v1/tasks/$task_id" 200)"
    [ "$(jq -r .status <<<"$task")" = succeeded ] && break
    jq -e '.status == "failed"' >/dev/null <<<"$task" && fail "the export failed: $task"
    sleep 0.2
done
check '.status == "succeeded" and .result.count == 1 and .result.content_type == "application/zip"' "$task"

say "4. Download the file (signed in; the mailed link carries its own token for a browser)"
api GET "$(jq -r '.result.download_url | sub("^https?://[^/]+"; "")' <<<"$task")" 200 >"$LAST_BODY.zip"
python3 -c "import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(len(names) != 1)" \
    "$LAST_BODY.zip" || fail "the ZIP does not hold one invoice"
rm -f "$LAST_BODY.zip"
mail_text "$EMAIL" "/v1/tasks/$task_id/download?token=" >/dev/null
echo "$WALK: done"
