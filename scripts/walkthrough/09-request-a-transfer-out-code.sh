#!/usr/bin/env bash
# Walkthrough: get the code to transfer a domain to another registrar.
#
# The code is mailed only to the domain owner's address as the registry's WHOIS has it — never
# shown in an answer. A locked domain or one with WHOIS privacy on is refused (409 naming it)
# unless the request asks to unlock and turn privacy off first. Needs a session that signed in
# within the last 5 minutes (a token cannot).
. "$(dirname "$0")/lib.sh"

EMAIL="domains.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
org_id="$(an_org "Domains Sàrl")"
card_id="$(a_card "$org_id")"
domain="walk-$STAMP.ch"

say "1. Register $domain (paid by card); the registry confirms it in the background"
api POST "/v1/orgs/$org_id/orders" 201 "$(jq -n --arg d "$domain" --arg pm "$card_id" '{items: [{offer_id: "domain-ch",
    billing_period: "P1Y", domain_name: $d}], payment: {method: "payment_method", payment_method_id: $pm}}')" \
    -H "Idempotency-Key: $(uuid)" >/dev/null
for _ in $(seq 1 150); do
    domains="$(api GET "/v1/orgs/$org_id/domains" 200)"
    jq -e '.data[0].status == "active"' >/dev/null <<<"$domains" && break
    sleep 0.2
done
check ".data[0].status == \"active\" and .data[0].name == \"$domain\"" "$domains"
domain_id="$(jq -r '.data[0].id' <<<"$domains")"

say "2. Lock it, as many owners do; a code is then refused with 409 domain_locked"
api PUT "/v1/orgs/$org_id/domains/$domain_id/lock" 200 '{"locked": true}' >/dev/null
answer="$(api POST "/v1/orgs/$org_id/domains/$domain_id/transfer-out" 409 '{}')"
check '.code == "domain_locked"' "$answer"

say "3. Ask again, unlocking first (and turning WHOIS privacy off, were it on)"
started="$(api POST "/v1/orgs/$org_id/domains/$domain_id/transfer-out" 202 '{"unlock": true, "disable_privacy": true}')"
check '.state == "code_sent" and (.recipient | contains("•"))' "$started"
check '(tostring | test("code\"\\s*:"; "i")) | not' "$started"

say "4. The code went by mail to the owner's address in the WHOIS (here the account's own)"
owner="$(api GET "/v1/orgs/$org_id/domains/$domain_id" 200 | jq -r .owner.email)"
code="$(mail_text "$owner" "Transfer code: " | sed -n 's/^Transfer code: //p' | tr -d '\r' | head -n 1)"
[ -n "$code" ] || fail "no transfer code in the owner's mail"
grep -qF "$code" <<<"$started" && fail "the code is in the API answer"

say "5. The transfer out as it stands: code sent, never the code itself"
state="$(api GET "/v1/orgs/$org_id/domains/$domain_id/transfer-out" 200)"
check '.state == "code_sent" and .code_expires_at != null' "$state"
check '.locked == false' "$(api GET "/v1/orgs/$org_id/domains/$domain_id" 200)"

say "6. Changed your mind? Cancel the code: the registry voids it"
api DELETE "/v1/orgs/$org_id/domains/$domain_id/transfer-out" 204 >/dev/null
check '.state == "cancelled"' "$(api GET "/v1/orgs/$org_id/domains/$domain_id/transfer-out" 200)"

say "7. A registrar presenting the cancelled code is refused (the sandbox registry plays it here)"
if "$LEMAN_BIN" registry simulate transfer-request "$domain" "$code" >/dev/null 2>&1; then
    fail "the registry accepted a cancelled code"
fi
echo "$WALK: done"
