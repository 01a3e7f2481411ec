#!/usr/bin/env bash
# Walkthrough: invite someone to your organisation with the `accounting` permission.
#
# The invitation is mailed; its link works once, for 7 days, for the account whose login is the
# invited address. `accounting` opens invoices, payments and the prepaid account, not products.
. "$(dirname "$0")/lib.sh"

OWNER="owner.$STAMP@example.com"
ACCOUNTANT="ana.$STAMP@example.es"
PASSWORD="granite lantern breezy orchard"
new_user "$OWNER" "$PASSWORD"
new_user "$ACCOUNTANT" "$PASSWORD"
TOKEN="$(sign_in "$OWNER" "$PASSWORD")"
org_id="$(an_org "Books Sàrl")"

say "1. Invite by email, as a member with the accounting permission"
invitation="$(api POST "/v1/orgs/$org_id/invitations" 201 "$(jq -n --arg e "$ACCOUNTANT" \
    '{email: $e, role: "member", permissions: ["accounting"]}')")"
check ".email == \"$ACCOUNTANT\" and .role == \"member\" and .permissions == [\"accounting\"]" "$invitation"

say "2. It is pending in the organisation's list"
check "[.data[].email] | index(\"$ACCOUNTANT\") != null" "$(api GET "/v1/orgs/$org_id/invitations" 200)"

say "3. The invitee follows the mailed link <LEMAN_APP_URL>/accept-invitation?token=… signed in"
link_token="$(mail_link "$ACCOUNTANT" /accept-invitation)"
TOKEN="$(sign_in "$ACCOUNTANT" "$PASSWORD")"
org="$(api POST /v1/invitations/accept 200 "$(jq -n --arg t "$link_token" '{token: $t}')")"
check ".id == \"$org_id\"" "$org"

say "4. The accountant reads the invoices, but not the products"
check '.data | type == "array"' "$(api GET "/v1/orgs/$org_id/invoices" 200)"
answer="$(api GET "/v1/orgs/$org_id/products" 403)"
check '.code == "permission_denied"' "$answer"

say "5. The owner sees the new member with their permission"
TOKEN="$(sign_in "$OWNER" "$PASSWORD")"
members="$(api GET "/v1/orgs/$org_id/members" 200)"
check "[.data[] | select(.email == \"$ACCOUNTANT\") | .permissions] == [[\"accounting\"]]" "$members"
echo "$WALK: done"
