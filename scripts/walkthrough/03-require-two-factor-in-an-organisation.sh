#!/usr/bin/env bash
# Walkthrough: require two-factor authentication of every member of an organisation.
#
# Only an admin or legal representative who has 2FA on may require it. From then on, members
# without 2FA are refused in that organisation (403 `two_factor_required`) until they turn it on.
. "$(dirname "$0")/lib.sh"

ADMIN="admin.$STAMP@example.com"
MEMBER="member.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$ADMIN" "$PASSWORD"
new_user "$MEMBER" "$PASSWORD"
TOKEN="$(sign_in "$ADMIN" "$PASSWORD")"
org_id="$(an_org "Policy Sàrl")"

say "1. Without 2FA of your own, the requirement is refused (409 two_factor_not_enabled)"
answer="$(api PUT "/v1/orgs/$org_id/security-policy" 409 '{"require_two_factor": true}')"
check '.code == "two_factor_not_enabled"' "$answer"

say "2. So turn 2FA on first (walkthrough 02 explains these two calls)"
secret="$(api POST /v1/me/two-factor/totp 200 | jq -r .secret)"
api POST /v1/me/two-factor/totp/confirm 200 "$(jq -n --arg c "$(totp "$secret")" '{code: $c}')" >/dev/null

say "3. A member joins (invited, as walkthrough 04 shows)"
api POST "/v1/orgs/$org_id/invitations" 201 "$(jq -n --arg e "$MEMBER" '{email: $e, role: "member", permissions: []}')" >/dev/null
invitation="$(mail_link "$MEMBER" /accept-invitation)"
member_token="$(sign_in "$MEMBER" "$PASSWORD")"
TOKEN="$member_token" api POST /v1/invitations/accept 200 "$(jq -n --arg t "$invitation" '{token: $t}')" >/dev/null

say "4. Require 2FA of every member; members without it are told by mail"
policy="$(api PUT "/v1/orgs/$org_id/security-policy" 200 '{"require_two_factor": true}')"
check '.require_two_factor == true' "$policy"
check '.require_two_factor == true' "$(api GET "/v1/orgs/$org_id/security-policy" 200)"

say "5. The member without 2FA is now refused in the organisation"
answer="$(TOKEN="$member_token" api GET "/v1/orgs/$org_id" 403)"
check '.code == "two_factor_required"' "$answer"

say "6. The admin's list of members shows who has 2FA"
members="$(api GET "/v1/orgs/$org_id/members" 200)"
check "[.data[] | select(.email == \"$MEMBER\") | .two_factor_enabled] == [false]" "$members"
echo "$WALK: done"
