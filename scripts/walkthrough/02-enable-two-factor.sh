#!/usr/bin/env bash
# Walkthrough: turn on two-factor authentication with an authenticator app (TOTP).
#
# Setting it up needs a session that signed in within the last 5 minutes (a token cannot).
# The app's codes are computed here the way an app does (see totp in lib.sh).
. "$(dirname "$0")/lib.sh"

EMAIL="totp.$STAMP@example.com"
PASSWORD="granite lantern breezy orchard"
new_user "$EMAIL" "$PASSWORD"
TOKEN="$(sign_in "$EMAIL" "$PASSWORD")"

say "1. Start the enrolment: a new secret, its otpauth:// URI and a QR code to scan"
enrolment="$(api POST /v1/me/two-factor/totp 200)"
check '(.secret | length) >= 16 and (.otpauth_uri | startswith("otpauth://totp/"))' "$enrolment"
secret="$(jq -r .secret <<<"$enrolment")"

say "2. A wrong code does not turn it on (422 invalid_code)"
answer="$(api POST /v1/me/two-factor/totp/confirm 422 '{"code": "000000"}')"
check '.code == "invalid_code"' "$answer"

say "3. Confirm with the code the app shows now: ten recovery codes, shown this once"
codes="$(api POST /v1/me/two-factor/totp/confirm 200 "$(jq -n --arg c "$(totp "$secret")" '{code: $c}')")"
check '.recovery_codes | length == 10' "$codes"
me="$(api GET /v1/me 200)"
check '.two_factor_enabled == true' "$me"

say "4. Signing in now asks for the second factor"
outcome="$(TOKEN='' api POST /v1/auth/login 200 "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')")"
check '.mfa_required == true and (.mfa_token | length) > 0' "$outcome"

say "5. …given with a recovery code (the current TOTP code was just used; each works once)"
tokens="$(TOKEN='' api POST /v1/auth/login/mfa 200 "$(jq -n --arg t "$(jq -r .mfa_token <<<"$outcome")" \
    --arg r "$(jq -r '.recovery_codes[0]' <<<"$codes")" '{mfa_token: $t, recovery_code: $r}')")"
check '.token_type == "Bearer"' "$tokens"
echo "$WALK: done"
