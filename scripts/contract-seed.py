#!/usr/bin/env python3
"""Real ids for the contract run (scripts/contract-test.sh), from a server seeded by `leman demo-data`.

Signed in as the demo user, looks up the demo organisation's invoice, order, product, payment
methods and domain through the API, and makes what the demo data lacks: two more members (invited,
their accounts made with `leman users create`, the invitation's token read from the mail file),
a pending invitation, a personal token, a pro forma invoice, a credit note (`leman billing refund`
of 1.00 to the prepaid account), a finished export task, and two empty organisations (one to
leave, one to delete). Prints one `NAME=value` line each; schemathesis.toml reads them as
`${NAME}` (path parameters of every operation, see its `[parameters]` table). The token and the
invitation are not pinned there (links give those ids); they are made so their lists are not
empty when a link takes the first item.

Usage: contract-seed.py BASE_URL TOKEN MAIL_DIR -- LEMAN_COMMAND...
"""

import email
import email.policy
import json
import pathlib
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

base, token, mail_dir = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
assert sys.argv[4] == "--", "usage: contract-seed.py BASE_URL TOKEN MAIL_DIR -- LEMAN_COMMAND..."
leman = sys.argv[5:]


def call(method, path, body=None, bearer=None, ok=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + (bearer or token))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    if status not in ok:
        sys.exit(f"contract-seed: {method} {path}: HTTP {status}: {raw[:500]!r}")
    return json.loads(raw) if raw else None


def first(path, what):
    items = call("GET", path)["data"]
    if not items:
        sys.exit(f"contract-seed: the demo organisation has no {what} ({path})")
    return items[0]


def login(email_address, password):
    req = urllib.request.Request(
        base + "/v1/auth/login",
        data=json.dumps({"email": email_address, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["access_token"]


def invitation_token(address, timeout=60):
    """The token of the newest invitation mailed to `address` (the outbox writes .eml files)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        for path in mail_dir.glob("*.eml") if mail_dir.is_dir() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address not in str(msg.get("To", "")):
                continue
            text = msg.get_body(preferencelist=("plain", "html"))
            match = re.search(r"accept-invitation\?token=([A-Za-z0-9_-]+)", text.get_content() if text else "")
            if match:
                found.append((path.stat().st_mtime, match.group(1)))
        if found:
            return max(found)[1]
        time.sleep(0.5)
    sys.exit(f"contract-seed: no invitation mail to {address} in {mail_dir} after {timeout}s")


def member(org, address, role, permissions):
    """Invites `address`, makes its verified account, accepts as it: the new member's user id."""
    call("POST", f"/v1/orgs/{org}/invitations", {"email": address, "role": role, "permissions": permissions})
    password = "Ct1-" + secrets.token_urlsafe(24)
    subprocess.run(
        leman + ["users", "create", "--email", address, "--password", password, "--verified"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    bearer = login(address, password)
    call("POST", "/v1/invitations/accept", {"token": invitation_token(address)}, bearer=bearer)
    return call("GET", "/v1/me", bearer=bearer)["id"]


out = {}
org = first("/v1/me/organizations", "organisation")["id"]
out["CONTRACT_ORG_ID"] = org
out["CONTRACT_OWNER_ID"] = call("GET", "/v1/me")["id"]

paid = first(f"/v1/orgs/{org}/invoices?status=paid", "paid invoice")
out["CONTRACT_INVOICE_ID"] = paid["id"]
open_invoices = call("GET", f"/v1/orgs/{org}/invoices?status=open")["data"]
out["CONTRACT_OPEN_INVOICE_ID"] = (open_invoices[0] if open_invoices else paid)["id"]
orders = call("GET", f"/v1/orgs/{org}/orders")["data"]
unpaid = [o for o in orders if o.get("paid_at") is None]
out["CONTRACT_ORDER_ID"] = (unpaid[0] if unpaid else orders[0])["id"]
products = call("GET", f"/v1/orgs/{org}/products?status=active")["data"]
if not products:
    sys.exit("contract-seed: the demo organisation has no active product")
# A product of its own (not a domain, not in a bundle), so cancelling and moving it can be tried.
plain = [p for p in products if p.get("bundle_id") is None and not str(p.get("offer_id", "")).startswith("domain-")]
out["CONTRACT_PRODUCT_ID"] = (plain[0] if plain else products[0])["id"]
# Products of their own for a move (it takes the product away from this organisation) and for
# withdrawing a scheduled change, so neither spoils the shared one nor meets one moved away.
pool = plain or products
out["CONTRACT_MOVABLE_PRODUCT_ID"] = pool[-1]["id"]
out["CONTRACT_CHANGE_PRODUCT_ID"] = pool[1 % len(pool)]["id"]
methods = call("GET", f"/v1/orgs/{org}/payment-methods")["data"]
default = [m for m in methods if m.get("is_default")]
others = [m for m in methods if not m.get("is_default")]
if not default or not others:
    sys.exit(f"contract-seed: expected a default and another payment method, got {methods!r}")
out["CONTRACT_PAYMENT_METHOD_ID"] = default[0]["id"]
out["CONTRACT_SPARE_PAYMENT_METHOD_ID"] = others[0]["id"]
out["CONTRACT_DOMAIN_ID"] = first(f"/v1/orgs/{org}/domains", "domain")["id"]

# Webhook endpoints (the contract server allows loopback targets): one kept, one to delete. The
# kept one hears member.joined, so the members made below queue deliveries to list and retry.
def webhook_endpoint(description):
    return call(
        "POST", f"/v1/orgs/{org}/webhook-endpoints",
        {"url": "http://127.0.0.1:9/leman-contract", "event_types": ["member.joined"], "description": description},
    )["id"]


out["CONTRACT_WEBHOOK_ENDPOINT_ID"] = webhook_endpoint("contract run")
out["CONTRACT_SPARE_WEBHOOK_ENDPOINT_ID"] = webhook_endpoint("contract run, to delete")

# Members: one to remove, one to change and unlock.
out["CONTRACT_REMOVABLE_MEMBER_ID"] = member(org, "contract-member-a@example.com", "member", ["accounting"])
out["CONTRACT_MEMBER_ID"] = member(org, "contract-member-b@example.com", "member", ["products"])
out["CONTRACT_WEBHOOK_DELIVERY_ID"] = first(
    f"/v1/orgs/{org}/webhook-endpoints/{out['CONTRACT_WEBHOOK_ENDPOINT_ID']}/deliveries", "webhook delivery"
)["id"]
out["CONTRACT_INVITATION_ID"] = call(
    "POST", f"/v1/orgs/{org}/invitations",
    {"email": "contract-invitee@example.com", "role": "member", "permissions": ["domains"]},
)["id"]
out["CONTRACT_TOKEN_ID"] = call(
    "POST", "/v1/me/tokens", {"name": "contract run", "kind": "personal", "scopes": ["account:read"]}
)["id"]
out["CONTRACT_PRO_FORMA_ID"] = call(
    "POST", f"/v1/orgs/{org}/pro-forma-invoices", {"items": [{"product_id": out["CONTRACT_PRODUCT_ID"]}]}
)["id"]

# A credit note: an operator refunds 1.00 of the paid invoice to the prepaid account.
subprocess.run(
    leman + ["billing", "refund", paid["number"], "--amount", "1.00", "--to", "prepaid"],
    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
out["CONTRACT_CREDIT_NOTE_ID"] = first(f"/v1/orgs/{org}/credit-notes", "credit note")["id"]

# An export task, finished (its file can be downloaded).
task = call("POST", f"/v1/orgs/{org}/invoices/exports", {"format": "csv"})
deadline = time.monotonic() + 60
while task["status"] in ("queued", "running"):
    if time.monotonic() > deadline:
        sys.exit(f"contract-seed: the export task is still {task['status']} after 60s")
    time.sleep(0.5)
    task = call("GET", f"/v1/tasks/{task['id']}")
if task["status"] != "succeeded":
    sys.exit(f"contract-seed: the export task ended {task['status']}: {task!r}")
out["CONTRACT_TASK_ID"] = task["id"]

# Two empty organisations: one to leave (its only legal representative cannot: 409), one to delete.
address = {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}
for name, var in (("Contract leave Sàrl", "CONTRACT_LEAVE_ORG_ID"), ("Contract delete Sàrl", "CONTRACT_DELETE_ORG_ID")):
    out[var] = call(
        "POST", "/v1/orgs", {"name": name, "country": "CH", "currency": "CHF", "billing_address": address}
    )["id"]

# The demo user's sessions (end_session runs apart, as another user: see the script).
out["CONTRACT_SESSION_ID"] = first("/v1/me/sessions", "session")["id"]

for name, value in out.items():
    assert re.fullmatch(r"[A-Za-z0-9_-]+", value), (name, value)
    print(f"{name}={value}")
