#!/usr/bin/env bash
# Walkthrough: put money on the organisation's prepaid account, then pay from it.
#
# Top-ups are charged to a saved method, within the limits the account shows (in the
# organisation's currency); the balance pays orders, renewals and open invoices.
. "$(dirname "$0")/lib.sh"

EMAIL="prepaid.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
org_id="$(an_org "Prepaid Sàrl")"
card_id="$(a_card "$org_id")"

say "1. The account: its balance and the limits of a top-up"
account="$(api GET "/v1/orgs/$org_id/prepaid-account" 200)"
check '.balance.amount == "0.00" and .balance.currency == "CHF" and .top_up_min.amount != null' "$account"

say "2. Below the smallest top-up is refused (422 amount_out_of_range)"
answer="$(api POST "/v1/orgs/$org_id/prepaid-account/top-ups" 422 "$(jq -n --arg pm "$card_id" \
    '{amount: {amount: "1.00", currency: "CHF"}, payment_method_id: $pm}')" -H "Idempotency-Key: $(uuid)")"
check '.code == "amount_out_of_range"' "$answer"

say "3. Top up 100.00 CHF by card"
payment="$(api POST "/v1/orgs/$org_id/prepaid-account/top-ups" 201 "$(jq -n --arg pm "$card_id" \
    '{amount: {amount: "100.00", currency: "CHF"}, payment_method_id: $pm}')" -H "Idempotency-Key: $(uuid)")"
check '.status == "succeeded" and .amount.amount == "100.00"' "$payment"
check '.balance.amount == "100.00"' "$(api GET "/v1/orgs/$org_id/prepaid-account" 200)"

say "4. Pay an order from the balance"
order="$(api POST "/v1/orgs/$org_id/orders" 201 '{"items": [{"offer_id": "ksuite-standard", "billing_period": "P1M"}],
    "payment": {"method": "prepaid"}}' -H "Idempotency-Key: $(uuid)")"
check '.payment.status == "succeeded" and .payment.method == "prepaid"' "$order"

say "5. The account's transactions: the top-up in, the order out"
transactions="$(api GET "/v1/orgs/$org_id/prepaid-account/transactions" 200)"
check '.data | length == 2' "$transactions"
balance="$(api GET "/v1/orgs/$org_id/prepaid-account" 200 | jq -r .balance.amount)"
total="$(jq -r .total.amount <<<"$order")"
python3 -c "from decimal import Decimal as D; import sys; sys.exit(D('$balance') != D('100.00') - D('$total'))" ||
    fail "balance $balance is not 100.00 - $total"
echo "$WALK: done"
