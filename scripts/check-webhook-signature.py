#!/usr/bin/env python3
"""A real outgoing webhook verified with the Standard Webhooks reference library (issue 14).

Usage: check-webhook-signature.py BASE_URL ACCESS_TOKEN [JOB_COMMAND...]

Starts a local receiver on a free loopback port, creates an organisation and a webhook endpoint
for `invoice.issued` pointing at the receiver (the server must run with
LEMAN_WEBHOOKS_ALLOW_LOOPBACK=true), places an order (which issues an invoice), runs
JOB_COMMAND (e.g. `leman jobs run deliver_webhooks`) if given, waits for the delivery and checks
it with `standardwebhooks.Webhook.verify` (the PyPI package, not our code): the signature
verifies with the secret the API showed, and a tampered body does not."""
import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

base, token, job = sys.argv[1], sys.argv[2], sys.argv[3:]
received = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
hook_url = f"http://127.0.0.1:{server.server_address[1]}/leman-hooks"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}")


_, org = call("POST", "/v1/orgs", {"name": "Webhook check SA", "country": "CH", "currency": "CHF",
    "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}})
status, endpoint = call("POST", f"/v1/orgs/{org['id']}/webhook-endpoints",
    {"url": hook_url, "event_types": ["invoice.issued"], "description": "contract check"})
assert status == 201 and endpoint["secret"].startswith("whsec_"), endpoint
status, order = call("POST", f"/v1/orgs/{org['id']}/orders",
    {"items": [{"offer_id": "ksuite-pro", "billing_period": "P1Y"}]})
assert status == 201, order
if job:
    subprocess.run(job, check=True, stdout=subprocess.DEVNULL)
deadline = time.monotonic() + 30
while not received and time.monotonic() < deadline:
    time.sleep(0.2)
assert received, "no delivery reached the receiver within 30 s"
headers, body = received[0]
payload = Webhook(endpoint["secret"]).verify(body, headers)
assert payload["type"] == "invoice.issued", payload
assert payload["data"]["organization_id"] == org["id"], payload
assert payload["data"]["id"] == order["invoice_id"], (payload, order)
try:
    Webhook(endpoint["secret"]).verify(body + b" ", headers)
    sys.exit("a tampered body verified")
except WebhookVerificationError:
    pass
print(f"webhook {headers['webhook-id']} ({payload['type']}) verified by standardwebhooks")
