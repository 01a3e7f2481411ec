#!/usr/bin/env bash
# Walkthrough: pay an open invoice with a saved card.
#
# An order placed without `payment` leaves its invoice open (numbered at once). Paying it later
# provisions what was ordered. Money requests carry an Idempotency-Key: a retry with the same
# key is answered with the first answer and never charges twice.
. "$(dirname "$0")/lib.sh"

EMAIL="payer.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
org_id="$(an_org "Payer Sàrl")"

say "1. Save a card (the sandbox provider's test token tok_visa; never a card number)"
card_id="$(a_card "$org_id")"

say "2. Order without paying: the invoice is issued and open"
order="$(api POST "/v1/orgs/$org_id/orders" 201 '{"items": [{"offer_id": "ksuite-standard", "billing_period": "P1Y"}]}' \
    -H "Idempotency-Key: $(uuid)")"
check '.status == "open" and .payment == null and .products[0].status == "pending_payment"' "$order"
invoice_id="$(jq -r .invoice_id <<<"$order")"

say "3. The open invoices: filter the list with ?status=open"
open="$(api GET "/v1/orgs/$org_id/invoices?status=open" 200)"
check "[.data[].id] == [\"$invoice_id\"]" "$open"

say "4. Pay it with the card, with an Idempotency-Key"
key="$(uuid)"
body="$(jq -n --arg pm "$card_id" '{method: "payment_method", payment_method_id: $pm}')"
payment="$(api POST "/v1/orgs/$org_id/invoices/$invoice_id/payments" 201 "$body" -H "Idempotency-Key: $key")"
check '.status == "succeeded" and .method == "payment_method"' "$payment"

say "5. A retry with the same key gets the same payment back (Idempotent-Replayed: true)"
again="$(api POST "/v1/orgs/$org_id/invoices/$invoice_id/payments" 201 "$body" -H "Idempotency-Key: $key")"
check ".id == \"$(jq -r .id <<<"$payment")\"" "$again"
[ "$(header Idempotent-Replayed)" = true ] || fail "no Idempotent-Replayed header on the replay"

say "6. The invoice is paid, and its PDF can be downloaded"
invoice="$(api GET "/v1/orgs/$org_id/invoices/$invoice_id" 200)"
check '.status == "paid" and .paid_at != null' "$invoice"
api GET "/v1/orgs/$org_id/invoices/$invoice_id/pdf" 200 >"$LAST_BODY.pdf"
[ "$(head -c 5 "$LAST_BODY.pdf")" = "%PDF-" ] || fail "the invoice PDF is not a PDF"
rm -f "$LAST_BODY.pdf"

say "7. Paying it again is refused"
answer="$(api POST "/v1/orgs/$org_id/invoices/$invoice_id/payments" 409 "$body" -H "Idempotency-Key: $(uuid)")"
check '.code == "invoice_not_open"' "$answer"
echo "$WALK: done"
