#!/usr/bin/env bash
# Walkthrough: cancel a product.
#
# Asking changes nothing yet: the requester gets a link by mail (single use, 24 hours) that
# confirms it. `end_of_term` keeps the product until its expiry; `now` ends it at once.
# Automatic renewal is turned off; invoices already issued stay due.
. "$(dirname "$0")/lib.sh"

EMAIL="cancel.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
org_id="$(an_org "Cancel Sàrl")"
card_id="$(a_card "$org_id")"
order="$(api POST "/v1/orgs/$org_id/orders" 201 "$(jq -n --arg pm "$card_id" '{items: [{offer_id: "ksuite-standard",
    billing_period: "P1Y"}], payment: {method: "payment_method", payment_method_id: $pm}}')" -H "Idempotency-Key: $(uuid)")"
product_id="$(jq -r '.products[0].id' <<<"$order")"
check '.status == "active"' "$(api GET "/v1/orgs/$org_id/products/$product_id" 200)"

say "1. Ask to cancel at the end of the term: 202, awaiting the mailed confirmation"
request="$(api POST "/v1/orgs/$org_id/products/$product_id/cancellation" 202 \
    '{"when": "end_of_term", "reason": "We moved our mail elsewhere."}')"
check '.status == "requested" and .when == "end_of_term" and .confirmed_at == null' "$request"
check '.status == "active"' "$(api GET "/v1/orgs/$org_id/products/$product_id" 200)"

say "2. Confirm with the token of <LEMAN_APP_URL>/confirm-cancellation?token=… (no sign-in needed)"
link_token="$(mail_link "$EMAIL" /confirm-cancellation)"
confirmed="$(TOKEN='' api POST /v1/cancellations/confirm 200 "$(jq -n --arg t "$link_token" '{token: $t}')")"
check '.status == "confirmed" and .product_status == "cancellation_pending"' "$confirmed"

say "3. The product runs until its expiry, without automatic renewal"
product="$(api GET "/v1/orgs/$org_id/products/$product_id" 200)"
check '.status == "cancellation_pending" and .auto_renew == false' "$product"

say "4. Changed your mind before the end of the term? Withdraw it"
api DELETE "/v1/orgs/$org_id/products/$product_id/cancellation" 204 >/dev/null
check '.status == "active"' "$(api GET "/v1/orgs/$org_id/products/$product_id" 200)"
echo "$WALK: done"
