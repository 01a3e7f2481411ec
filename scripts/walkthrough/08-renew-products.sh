#!/usr/bin/env bash
# Walkthrough: renew products ahead of their expiry, several on one order and one invoice.
#
# A renewal's period starts at the product's current expiry (not today), so renewing early
# loses nothing. The renewals page lists what can be renewed, each period with its price.
. "$(dirname "$0")/lib.sh"

EMAIL="renew.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
org_id="$(an_org "Renew Sàrl")"
card_id="$(a_card "$org_id")"
pay="$(jq -n --arg pm "$card_id" '{method: "payment_method", payment_method_id: $pm}')"
order="$(api POST "/v1/orgs/$org_id/orders" 201 "$(jq -n --argjson pay "$pay" '{items: [
    {offer_id: "ksuite-standard", billing_period: "P1Y"}, {offer_id: "mail-starter", billing_period: "P1Y"}],
    payment: $pay}')" -H "Idempotency-Key: $(uuid)")"
check '.payment.status == "succeeded" and (.products | length) == 2' "$order"

say "1. The renewals page: by default what expires within 2 months (nothing yet, a year ahead)…"
check '.data == []' "$(api GET "/v1/orgs/$org_id/renewals" 200)"

say "…and with ?all=true everything renewable, each period with its price"
renewals="$(api GET "/v1/orgs/$org_id/renewals?all=true" 200)"
check '.data | length == 2' "$renewals"
check 'all(.data[]; (.periods | length) > 0)' "$renewals"

say "2. Renew both, one for two years, paid by card: one order, one invoice"
items="$(jq '[.data[] | {product_id: .product.id, billing_period: (if .product.offer_id == "mail-starter" then "P2Y" else "P1Y" end)}]' <<<"$renewals")"
before="$(jq -c '[.data[] | {id: .product.id, expires_at}] | sort_by(.id)' <<<"$renewals")"
renewal="$(api POST "/v1/orgs/$org_id/renewals" 201 "$(jq -n --argjson items "$items" --argjson pay "$pay" \
    '{items: $items, payment: $pay}')" -H "Idempotency-Key: $(uuid)")"
check '.payment.status == "succeeded" and (.renewals | length) == 2' "$renewal"

say "3. Each product now expires one period later than before"
for product_id in $(jq -r '.[].id' <<<"$before"); do
    product="$(api GET "/v1/orgs/$org_id/products/$product_id" 200)"
    old="$(jq -r --arg id "$product_id" '.[] | select(.id == $id) | .expires_at' <<<"$before")"
    years="$(jq -r --arg id "$product_id" '.[] | select(.product_id == $id) | .billing_period' <<<"$items")"
    python3 - "$old" "$(jq -r .expires_at <<<"$product")" "$years" <<'PY' || fail "product $product_id was not renewed"
import sys
from datetime import datetime
old, new, period = sys.argv[1:]
o, n = datetime.fromisoformat(old.replace("Z", "+00:00")), datetime.fromisoformat(new.replace("Z", "+00:00"))
sys.exit(n.year - o.year != int(period[1:-1]) or (n.month, n.day) != (o.month, o.day))
PY
done
echo "$WALK: done"
