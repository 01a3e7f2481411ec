# shellcheck shell=bash
# What every walkthrough uses. Sourced by scripts/walkthrough/NN-*.sh; not run on its own.
#
# Each walkthrough talks to the API at LEMAN_URL with curl and reads the answers with jq. To
# make its users it runs the `leman` CLI on the server's database (LEMAN_BIN, with
# LEMAN_DATA_DIR), and it reads mails (verification links, invitations, codes) from the file
# transport's directory LEMAN_MAIL_DIR: a server started without LEMAN_SMTP_URL writes each mail
# there as an .eml file. scripts/walkthrough/run-all.sh starts such a server and sets all three.
set -euo pipefail

: "${LEMAN_URL:?set LEMAN_URL (scripts/walkthrough/run-all.sh does)}"
: "${LEMAN_MAIL_DIR:?set LEMAN_MAIL_DIR to the mail directory of the server}"
LEMAN_BIN="${LEMAN_BIN:-target/debug/leman}"
command -v jq >/dev/null || {
    echo "jq is needed (apt-get install jq)" >&2
    exit 1
}
WALK="$(basename "$0" .sh)"
TOKEN="${TOKEN:-}"
# A suffix that makes this run's addresses and names unique.
STAMP="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"

# say TEXT: what the next request does, printed as the walkthrough runs.
say() { printf '\n%s: # %s\n' "$WALK" "$*"; }

# fail TEXT: stop the walkthrough.
fail() {
    printf '%s: FAILED: %s\n' "$WALK" "$*" >&2
    exit 1
}

# api METHOD PATH EXPECTED_STATUS [JSON_BODY] [CURL_ARGS...]
#   curl -X METHOD "$LEMAN_URL$PATH" -H "Authorization: Bearer $TOKEN" -d JSON_BODY
# prints the answer's body, and stops the walkthrough unless the status is EXPECTED_STATUS.
# The answer's headers are kept in $LAST_HEADERS (a file) for the checks that need them.
LAST_HEADERS="$(mktemp)"
LAST_BODY="$(mktemp)"
trap 'rm -f "$LAST_HEADERS" "$LAST_BODY"' EXIT
api() {
    local method="$1" path="$2" expected="$3" body="${4:-}"
    shift 3
    if [ $# -gt 0 ]; then shift; fi
    local args=(-sS -X "$method" "$LEMAN_URL$path" -D "$LAST_HEADERS" -o "$LAST_BODY" -w '%{http_code}')
    if [ -n "$TOKEN" ]; then args+=(-H "Authorization: Bearer $TOKEN"); fi
    if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
    printf '%s: > %s %s\n' "$WALK" "$method" "$path" >&2
    local status
    status="$(curl "${args[@]}" "$@")"
    if [ "$status" != "$expected" ]; then
        fail "$method $path answered $status, expected $expected: $(head -c 800 "$LAST_BODY")"
    fi
    cat "$LAST_BODY"
}

# check JQ_FILTER JSON: stop unless the filter is true of the JSON.
check() {
    jq -e "$1" >/dev/null <<<"$2" || fail "check failed: $1 on ${2:0:800}"
}

# header NAME: a header of the last answer.
header() { grep -i "^$1:" "$LAST_HEADERS" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

# new_user EMAIL PASSWORD: a verified account, made with the CLI (walkthrough 01 shows the
# sign-up a person goes through instead).
new_user() {
    "$LEMAN_BIN" users create --email "$1" --password "$2" --verified >/dev/null
}

# sign_in EMAIL PASSWORD: an access token for an account without two-factor authentication.
sign_in() {
    local answer
    answer="$(TOKEN='' api POST /v1/auth/login 200 "$(jq -n --arg e "$1" --arg p "$2" '{email: $e, password: $p}')")"
    check '.token_type == "Bearer"' "$answer"
    jq -r .access_token <<<"$answer"
}

# mail_link TO PATH: the token of the newest mailed link `…PATH?token=…` to TO (waits up to 10 s
# for the mail: some are sent by a background job).
mail_link() {
    python3 - "$LEMAN_MAIL_DIR" "$1" "$2" <<'EOF'
import email, email.policy, pathlib, re, sys, time
mail_dir, to, path = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
deadline = time.monotonic() + 10
while True:
    found = None
    for f in sorted(mail_dir.glob("*.eml"), key=lambda f: f.stat().st_mtime):
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        m = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", text)
        if to in str(msg["To"]) and m:
            found = m.group(1)
    if found:
        print(found)
        break
    if time.monotonic() > deadline:
        sys.exit(f"no mail to {to} with a link to {path}")
    time.sleep(0.1)
EOF
}

# mail_text TO NEEDLE: the plain text of the newest mail to TO containing NEEDLE (waits 10 s).
mail_text() {
    python3 - "$LEMAN_MAIL_DIR" "$1" "$2" <<'EOF'
import email, email.policy, pathlib, sys, time
mail_dir, to, needle = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
deadline = time.monotonic() + 10
while True:
    found = None
    for f in sorted(mail_dir.glob("*.eml"), key=lambda f: f.stat().st_mtime):
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if to in str(msg["To"]) and needle in text:
            found = text
    if found:
        print(found)
        break
    if time.monotonic() > deadline:
        sys.exit(f"no mail to {to} containing {needle!r}")
    time.sleep(0.1)
EOF
}

# totp SECRET: the current code of an authenticator app (RFC 6238: HMAC-SHA1, 30 s, 6 digits)
# for a base32 secret, computed with Python's standard library (`oathtool --totp -b SECRET`
# gives the same).
totp() {
    python3 - "$1" <<'EOF'
import base64, hashlib, hmac, struct, sys, time
secret = sys.argv[1].upper().replace(" ", "")
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = digest[-1] & 0x0F
print(f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}")
EOF
}

# uuid: a fresh Idempotency-Key.
uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }

# an_org NAME: a new organisation in Switzerland billed in CHF, owned by the caller; its id.
an_org() {
    local org
    org="$(api POST /v1/orgs 201 "$(jq -n --arg n "$1" '{name: $n, country: "CH", currency: "CHF",
        billing_address: {line1: "Rue du Rhône 12", postal_code: "1204", city: "Genève"}}')")"
    check '.id | startswith("org_")' "$org"
    jq -r .id <<<"$org"
}

# a_card ORG_ID: a card saved from the sandbox provider's test token `tok_visa`; its id.
a_card() {
    local card
    card="$(api POST "/v1/orgs/$1/payment-methods" 201 '{"type": "card", "token": "tok_visa"}')"
    check '.card.last4 == "4242"' "$card"
    jq -r .id <<<"$card"
}
