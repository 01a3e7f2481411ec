#!/usr/bin/env bash
# Walkthrough: sign up and confirm your email address.
#
# A new account works once its address is confirmed through the link mailed at sign-up. Until
# then, signing in is refused with 403 `email_not_verified`.
# Run by scripts/walkthrough/run-all.sh (or with LEMAN_URL and LEMAN_MAIL_DIR set by hand).
. "$(dirname "$0")/lib.sh"

EMAIL="zoe.$STAMP@example.ch"
PASSWORD="tangerine orbit quietly sailing"

say "1. Sign up: the answer is 202 whether or not the address already has an account"
answer="$(api POST /v1/users 202 "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p,
    first_name: "Zoë", last_name: "Müller", language: "fr", timezone: "Europe/Zurich"}')")"
check '.message | type == "string"' "$answer"

say "2. Signing in before the address is confirmed is refused"
answer="$(api POST /v1/auth/login 403 "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')")"
check '.code == "email_not_verified"' "$answer"

say "3. The mail links to <LEMAN_APP_URL>/verify-email?token=…; the front end posts that token"
token="$(mail_link "$EMAIL" /verify-email)"
api POST /v1/users/verify-email 204 "$(jq -n --arg t "$token" '{token: $t}')" >/dev/null

say "4. The link works once"
answer="$(api POST /v1/users/verify-email 400 "$(jq -n --arg t "$token" '{token: $t}')")"
check '.code == "invalid_token"' "$answer"

say "5. Now signing in gives an access token (15 minutes) and a refresh token"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"
me="$(api GET /v1/me 200)"
check ".email == \"$EMAIL\" and .first_name == \"Zoë\" and .language == \"fr\"" "$me"
echo "$WALK: done"
