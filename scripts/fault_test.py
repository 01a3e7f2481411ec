#!/usr/bin/env python3
"""kill -9, repeated (issue 15, part 4): the driver of scripts/fault-test.sh.

Python 3.11 standard library only. For each engine (SQLite, then PostgreSQL when a base URL is
given) it makes a fresh database and data directory, starts `leman serve` with its job runner
on, and while client threads pay invoices (sandbox card and prepaid account), top the prepaid
account up, withdraw from it, enable auto-renewal, a refund thread runs `leman billing refund`,
and a clock thread makes auto-renewing products due and the periodic jobs due at once (so the
job runner renews products, charging their cards, and delivers mails and webhooks all the
time), it kills the server with SIGKILL at a random moment (uniform in FAULT_MIN_UP..FAULT_MAX_UP
seconds after it answered /readyz), FAULT_KILLS times, restarting it each time.

Clients treat a refused or cut connection, and a 5xx or 409 `idempotency_key_in_use`, as an
unknown outcome and retry with the SAME Idempotency-Key until the answer is definite.

Checks: after EVERY restart, the database invariants (paid at most once, sandbox charges,
ledger = balance, gapless numbers, nothing half-written, outbox rows not lost, files and
webhook receipts matching committed rows); every FAULT_AUDIT_EVERY kills and at the end,
`leman audit verify`; at the end, after the queues drained, the API's view of each prepaid
account, and every mail and every webhook delivered at least once.

Before each restart the harness expires the leases the killed process held (jobs.locked_until,
webhook_deliveries.claimed_until): the runner is dead and the harness knows it, so this only
shortens the lease wait (300 s, 120 s) that a restart would otherwise sit through.

Usage: fault_test.py LEMAN_BIN STATE_DIR [POSTGRES_BASE_URL]
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

KILLS = int(os.environ.get("FAULT_KILLS", "50"))
MIN_UP = float(os.environ.get("FAULT_MIN_UP", "0.3"))
MAX_UP = float(os.environ.get("FAULT_MAX_UP", "2.5"))
AUDIT_EVERY = int(os.environ.get("FAULT_AUDIT_EVERY", "5"))
CLIENTS = int(os.environ.get("FAULT_CLIENTS", "4"))
SEED = int(os.environ.get("FAULT_SEED", str(random.SystemRandom().randrange(1 << 30))))
READY_TIMEOUT = 60
SETTLE_TIMEOUT = float(os.environ.get("FAULT_SETTLE_TIMEOUT", "60"))
# A client gives an unknown outcome up after this long (the key stays unresolved, counted).
# A key in flight when the server was killed answers 409 `idempotency_key_in_use` for 300 s
# (models::idempotency_keys::ABANDONED_AFTER_SECS): see docs/faults.md, "left open".
GIVE_UP = float(os.environ.get("FAULT_GIVE_UP", "5"))
# Wait at the end for the charges a kill left unanswered to be reconciled (2 minutes after
# them): on by default for a long run, off for the short one (they are then counted).
AWAIT_RECONCILE = os.environ.get("FAULT_AWAIT_RECONCILE", "1" if KILLS >= 20 else "0") == "1"
PASSWORD = "correct horse battery staple"
IBAN = "CH93 0076 2011 6238 5295 7"
# A charge left pending by a killed request may stay so until reconciled; the renewal
# scheduler reconciles its own after 2 minutes (services::renewal_scheduler::RECONCILE_AFTER).
RECONCILE_AFTER = timedelta(minutes=2)
PAST = "2000-01-01 00:00:00"
# Not payment.succeeded: one more delivery per payment doubled the queue beyond what the short
# form's drain wait delivers on 2 cores (its delivery is proven by tests/api/webhooks.rs).
WEBHOOK_TYPES = ["invoice.issued", "invoice.paid", "invoice.refunded",
                 "payment.failed", "prepaid.credited", "prepaid.debited", "product.created",
                 "product.renewed"]
# Activity kinds and the webhook each publishes (domain::webhooks::of_activity), for the
# "no delivery row lost" count.
ACTIVITY_WEBHOOK = {"invoice.paid": "invoice.paid", "invoice.refunded": "invoice.refunded",
                    "prepaid.topped_up": "prepaid.credited", "prepaid.withdrawn": "prepaid.debited"}

T0 = time.monotonic()
rng = random.Random(SEED)


def log(msg: str) -> None:
    print(f"fault-test: [{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the database, read (and for the harness's clock, written) directly ------------------------


class Db:
    """SQLite through the sqlite3 module, PostgreSQL through psql; rows as tuples of strings."""

    def __init__(self, url: str, sqlite_path: Path | None):
        self.url = url
        self.path = sqlite_path
        # PostgreSQL: one psql session for all the harness's queries (a psql per query costs
        # a second under load), one query at a time.
        self.lock = threading.Lock()
        self.session: subprocess.Popen | None = None

    def _psql(self, sql: str) -> list[tuple]:
        with self.lock:
            if self.session is None or self.session.poll() is not None:
                self.session = subprocess.Popen(
                    ["psql", "-w", "-X", "-Atq", "-F", "\x1f", "-v", "ON_ERROR_STOP=0", self.url],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                    env={**os.environ, "PGCONNECT_TIMEOUT": "5"}, bufsize=1)
            end = f"__end_{secrets.token_hex(4)}__"
            self.session.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + end + "\n")
            self.session.stdin.flush()
            lines = []
            while True:
                line = self.session.stdout.readline()
                if line == "":
                    raise RuntimeError(f"psql ended: {sql!r}: {''.join(lines)[-500:]}")
                line = line.rstrip("\n")
                if line == end:
                    break
                lines.append(line)
            if any(l.startswith(("ERROR:", "psql:", "FATAL:")) for l in lines):
                raise RuntimeError(f"psql failed: {sql!r}: {' '.join(lines)[-500:]}")
            return [tuple(l.split("\x1f")) for l in lines if l != ""]

    def close(self) -> None:
        if self.session is not None and self.session.poll() is None:
            self.session.stdin.close()
            self.session.wait(5)

    def rows(self, sql: str) -> list[tuple]:
        if self.path is not None:
            con = sqlite3.connect(self.path, timeout=30)
            try:
                cur = con.execute(sql)
                out = [tuple("" if v is None else str(v) for v in r) for r in cur.fetchall()]
                con.commit()
                return out
            finally:
                con.close()
        return self._psql(sql)

    def one(self, sql: str) -> str:
        r = self.rows(sql)
        return r[0][0] if r else ""

    def execute(self, sql: str) -> None:
        self.rows(sql)


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    body: object
    error: str = ""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.c[key] += n


def http(base: str, method: str, path: str, token: str | None = None, body=None,
         headers: dict | None = None, timeout: float = 15) -> Answer:
    h = {"Accept": "application/json", "User-Agent": "leman-fault-test"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except Exception as e:  # noqa: BLE001 - refused, reset, timed out, cut mid-answer
        return Answer(0, None, f"{type(e).__name__}: {e}")
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Answer(status, parsed)


def definite(a: Answer) -> bool:
    """An answer that tells the outcome: not a lost connection, a 5xx, or a key still in flight."""
    if a.status == 0 or a.status >= 500:
        return False
    if a.status == 409 and isinstance(a.body, dict) and a.body.get("code") == "idempotency_key_in_use":
        return False
    if a.status == 429:
        return False
    return True


# --- the webhook receiver -------------------------------------------------------------------------


class Receiver:
    """Standard Webhooks receiver on loopback: verifies each signature, answers 2xx (and 503 to
    one attempt in ten, so retries happen), records every attempt."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts: list[dict] = []  # {path, id, ok, valid, at}
        self.secrets: dict[str, str] = {}  # path -> whsec_…
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                wid = self.headers.get("webhook-id", "")
                wts = self.headers.get("webhook-timestamp", "")
                sig = self.headers.get("webhook-signature", "")
                with receiver.lock:
                    secret = receiver.secrets.get(self.path)
                valid = secret is not None and verify(secret, wid, wts, body, sig)
                ok = rng.random() >= 0.1
                self.send_response(204 if ok else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.lock:
                    receiver.attempts.append({"path": self.path, "id": wid, "ok": ok, "valid": valid,
                                              "at": time.time()})

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # socketserver's backlog is 5: a pass's 16 concurrent connections overflowed it and
            # each dropped SYN waited 1 s for its retransmission (16 deliveries a second).
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()


def verify(secret: str, wid: str, wts: str, body: bytes, header: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    want = base64.b64encode(hmac.new(key, f"{wid}.{wts}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(part.split(",", 1)[-1] == want for part in header.split())


# --- mails ------------------------------------------------------------------------------------------


MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<?([^>\r\n]+)>?", re.IGNORECASE | re.MULTILINE)


def mail_files(mail_dir: Path, partial: dict[str, float],
               seen: dict[str, tuple[float, int, str]]) -> dict[str, list[float]]:
    """Message-ID's outbox id (`mail_…`) → modification times of the .eml files carrying it;
    files with no Message-ID (not written yet, or cut by a kill) go to `partial` (name → mtime).
    `seen` keeps each complete file's (mtime, size, id) from one check to the next: a file is
    read once, not at every kill (a 50-kill run writes thousands; reading them all after each
    restart made the run quadratic)."""
    out: dict[str, list[float]] = collections.defaultdict(list)
    if not mail_dir.is_dir():
        return out
    for f in mail_dir.iterdir():
        if f.suffix != ".eml":
            continue
        try:
            st = f.stat()
            known = seen.get(f.name)
            if known and known[0] == st.st_mtime and known[1] == st.st_size:
                out[known[2]].append(st.st_mtime)
                continue
            raw = f.read_bytes()
        except FileNotFoundError:
            continue
        # The Message-ID header only (the headers end at the first empty line).
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        m = MESSAGE_ID.search(head)
        mid = m.group(1).decode("ascii", "replace").strip() if m else ""
        if not mid:
            # lettre's file transport creates the file, then writes it: read in between (the
            # server is running) or killed in between, the file has no headers yet.
            partial[f.name] = st.st_mtime
            continue
        key = mid.split("@", 1)[0]
        seen[f.name] = (st.st_mtime, st.st_size, key)
        out[key].append(st.st_mtime)
    return out


# --- results -----------------------------------------------------------------------------------------


class Results:
    def __init__(self):
        self.cells: dict[str, dict[str, tuple[bool | None, str]]] = {}
        self.order: list[str] = []

    def add(self, engine: str, name: str, ok: bool | None, detail: str) -> None:
        if name not in self.cells:
            self.cells[name] = {}
            self.order.append(name)
        prev = self.cells[name].get(engine)
        # A check that failed once stays failed, with its first failure's detail.
        if prev is not None and prev[0] is False:
            return
        self.cells[name][engine] = (ok, detail)
        if ok is False:
            log(f"FAIL [{engine}] {name}: {detail}")

    def table(self, engines: list[str]) -> str:
        w = max(len(n) for n in self.order)
        word = lambda ok: "SKIP" if ok is None else "PASS" if ok else "FAIL"  # noqa: E731
        lines = [f"{'invariant'.ljust(w)}  " + "  ".join(e.ljust(8) for e in engines),
                 f"{'-' * w}  " + "  ".join("-" * 8 for _ in engines)]
        for n in self.order:
            lines.append(f"{n.ljust(w)}  " + "  ".join(
                word(self.cells[n].get(e, (None, ""))[0]).ljust(8) for e in engines))
        lines.append("")
        for n in self.order:
            for e in engines:
                ok, d = self.cells[n].get(e, (None, "not run"))
                lines.append(f"  [{e}] {n}: {word(ok)}: {d}")
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        return all(ok is not False for row in self.cells.values() for ok, _ in row.values())


# --- one engine's run --------------------------------------------------------------------------------


@dataclass
class Org:
    id: str
    email: str
    token: str = ""
    card: str = ""
    hook_path: str = ""
    hook_since: str = ""
    # Keys this org's clients sent per operation (each may act at most once).
    keys: collections.Counter = field(default_factory=collections.Counter)
    token_lock: threading.Lock = field(default_factory=threading.Lock)


class Run:
    def __init__(self, engine: str, binary: str, state: Path, db_url: str, sqlite_path: Path | None,
                 res: Results, receiver: Receiver):
        self.engine, self.binary, self.res, self.receiver = engine, binary, res, receiver
        self.dir = state / engine
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data = self.dir / "data"
        self.data.mkdir(exist_ok=True)
        self.mail_dir = self.data / "mail"
        self.db = Db(db_url, sqlite_path)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LEMAN_") and k != "DATABASE_URL"}
        self.env.update(
            DATABASE_URL=db_url, LEMAN_DATA_DIR=str(self.data), LEMAN_BIND=f"127.0.0.1:{self.port}",
            LEMAN_APP_URL=self.base, LEMAN_LOG_FORMAT="pretty", LEMAN_LOG="warn",
            LEMAN_DB_POOL_SIZE="8", LEMAN_HTTP_WORKERS="2", LEMAN_JOB_POLL_MS="100",
            LEMAN_JOB_CONCURRENCY="4", LEMAN_JOB_BACKOFF_MS="500", LEMAN_SHUTDOWN_TIMEOUT_SECS="2",
            LEMAN_WEBHOOKS_ALLOW_LOOPBACK="true", LEMAN_AUTH_RATE_PER_IP="100000",
            LEMAN_AUTH_RATE_PER_ACCOUNT="100000", LEMAN_PREPAID_CEILING="1000000.00",
            LEMAN_METRICS_ALLOW="127.0.0.1/8")
        self.proc: subprocess.Popen | None = None
        self.logf = None
        self.stats = Stats()
        self.kill_times: list[float] = []
        # Mail files already read, by name: (mtime, size, outbox id) (see `mail_files`).
        self.mail_seen: dict[str, tuple[float, int, str]] = {}
        self.recoveries: list[float] = []
        self.stop_clients = threading.Event()
        self.up = threading.Event()
        self.orgs: list[Org] = []
        self.unresolved: list[str] = []
        self.client_errors: list[str] = []

    # processes
    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        out = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise RuntimeError(f"leman {' '.join(args)} exited {out.returncode}: {(out.stderr or out.stdout)[-1500:]}")
        return out

    def start(self) -> float:
        t = time.monotonic()
        self.logf = open(self.dir / "serve.log", "a")
        self.logf.write(f"--- start at {ts(utcnow())}\n")
        self.logf.flush()
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=self.logf, stderr=subprocess.STDOUT)
        with open(self.dir.parent / "pids", "a") as f:
            f.write(f"{self.proc.pid}\n")
        deadline = t + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"leman serve exited at start: {(self.dir / 'serve.log').read_text()[-3000:]}")
            if http(self.base, "GET", "/readyz", timeout=2).status == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"/readyz not 200 after {READY_TIMEOUT}s")
            time.sleep(0.02)
        took = time.monotonic() - t
        self.up.set()
        return took

    def kill(self) -> None:
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kill_times.append(time.time())
        self.logf.write(f"--- SIGKILL at {ts(utcnow())}\n")
        self.logf.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.up.clear()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf and not self.logf.closed:
            self.logf.close()

    def expire_leases(self) -> None:
        """The killed process's leases, expired: the harness knows it is dead (see the header)."""
        self.db.execute(f"UPDATE jobs SET locked_until = '{PAST}' WHERE locked_until IS NOT NULL")
        self.db.execute(f"UPDATE webhook_deliveries SET claimed_until = '{PAST}' "
                        "WHERE claimed_until IS NOT NULL AND status = 'pending'")

    # setup
    def setup(self) -> None:
        self.cli("migrate")
        self.start()
        n_orgs = max(1, CLIENTS // 2)
        for i in range(n_orgs):
            addr = f"fault-{self.engine}-{i}@example.ch"
            self.cli("users", "create", "--email", addr, "--password", PASSWORD, "--verified")
            org = Org(id="", email=addr)
            self.login(org)
            r = http(self.base, "POST", "/v1/orgs", org.token, {
                "name": f"Fault Test {i} Sàrl", "country": "CH", "currency": "CHF",
                "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}})
            assert r.status == 201, f"create org: {r.status} {r.body}"
            org.id = r.body["id"]
            r = http(self.base, "POST", f"/v1/orgs/{org.id}/payment-methods", org.token, {"type": "card", "token": "tok_visa"})
            assert r.status == 201, f"add card: {r.status} {r.body}"
            org.card = r.body["id"]
            org.hook_path = f"/hook/{org.id}"
            r = http(self.base, "POST", f"/v1/orgs/{org.id}/webhook-endpoints", org.token, {
                "url": f"http://127.0.0.1:{self.receiver.port}{org.hook_path}", "event_types": WEBHOOK_TYPES,
                "description": "fault harness"})
            assert r.status == 201, f"webhook endpoint: {r.status} {r.body}"
            with self.receiver.lock:
                self.receiver.secrets[org.hook_path] = r.body["secret"]
            org.hook_since = self.db.one(f"SELECT created_at FROM webhook_endpoints WHERE id = '{r.body['id']}'")
            r = http(self.base, "POST", f"/v1/orgs/{org.id}/prepaid-account/top-ups", org.token,
                     {"amount": {"amount": "500.00", "currency": "CHF"}, "payment_method_id": org.card},
                     {"Idempotency-Key": "setup-" + secrets.token_hex(6)})
            assert r.status == 201, f"first top-up: {r.status} {r.body}"
            org.keys["top_up"] += 1
            self.orgs.append(org)

    def login(self, org: Org) -> str:
        while True:
            r = http(self.base, "POST", "/v1/auth/login", body={"email": org.email, "password": PASSWORD})
            if r.status == 200:
                org.token = r.body["access_token"]
                return org.token
            if definite(r):
                raise RuntimeError(f"login {org.email}: {r.status} {r.body}")
            self.up.wait(30)
            time.sleep(0.05)

    # clients
    def call(self, org: Org, op: str, method: str, path: str, body=None, keyed: bool = True) -> Answer:
        """One operation to a definite answer: the same Idempotency-Key on every retry."""
        key = f"{op}-{secrets.token_hex(8)}" if keyed else None
        if keyed:
            with org.token_lock:
                org.keys[op] += 1
        self.stats.add("operations")
        started = time.monotonic()
        tries = 0
        while True:
            tries += 1
            self.stats.add("requests")
            r = http(self.base, method, path, org.token, body, {"Idempotency-Key": key} if key else None)
            if r.status == 401 or (r.status == 403 and isinstance(r.body, dict)
                                   and r.body.get("code") == "reauthentication_required"):
                with org.token_lock:
                    self.login(org)
                continue
            if definite(r):
                if tries > 1:
                    self.stats.add("operations retried")
                self.stats.add(f"{op} {r.status}")
                return r
            self.stats.add("retries")
            if r.status == 0:
                self.stats.add("retries after a lost connection")
            if time.monotonic() - started > GIVE_UP and not self.stop_clients.is_set():
                self.unresolved.append(f"{op} {key}: last {r.status or r.error}")
                self.stats.add("unresolved")
                return r
            if self.stop_clients.is_set() and time.monotonic() - started > GIVE_UP:
                return r
            if r.status == 0:
                self.up.wait(30)
            time.sleep(0.05 + rng.random() * 0.1)

    def client(self, org: Org, n: int) -> None:
        my = random.Random(SEED * 31 + n)
        try:
            while not self.stop_clients.is_set():
                x = my.random()
                if x < 0.35:
                    # an order, then its invoice paid by card or from the prepaid account
                    period = my.choice(["P1M", "P1Y"])
                    r = self.call(org, "order", "POST", f"/v1/orgs/{org.id}/orders",
                                  {"items": [{"offer_id": "web-hosting-starter", "billing_period": period}]})
                    if r.status != 201:
                        continue
                    inv = r.body.get("invoice_id") or (r.body.get("invoice") or {}).get("id")
                    pay = ({"method": "prepaid"} if my.random() < 0.4 else
                           {"method": "payment_method", "payment_method_id": org.card})
                    self.call(org, "pay", "POST", f"/v1/orgs/{org.id}/invoices/{inv}/payments", pay)
                elif x < 0.6:
                    self.call(org, "top_up", "POST", f"/v1/orgs/{org.id}/prepaid-account/top-ups",
                              {"amount": {"amount": f"{my.randint(10, 60)}.00", "currency": "CHF"},
                               "payment_method_id": org.card})
                elif x < 0.75:
                    self.call(org, "withdraw", "POST", f"/v1/orgs/{org.id}/prepaid-account/withdrawals",
                              {"amount": {"amount": f"{my.randint(1, 9)}.50", "currency": "CHF"}, "iban": IBAN})
                else:
                    # auto-renewal on one of the active products (the clock makes them due)
                    ids = [r[0] for r in self.db.rows(
                        f"SELECT id FROM products WHERE organization_id = '{org.id}' AND status = 'active' "
                        "AND auto_renew = false ORDER BY created_at DESC LIMIT 3")]
                    if not ids:
                        continue
                    self.call(org, "auto_renew", "PUT", f"/v1/orgs/{org.id}/products/{my.choice(ids)}/auto-renewal",
                              {"enabled": True, "payment_method_id": org.card}, keyed=False)
        except Exception as e:  # noqa: BLE001
            import traceback
            self.client_errors.append(f"client {n}: {type(e).__name__}: {e}")
            traceback.print_exc()

    def refunder(self) -> None:
        """`leman billing refund` (the only way to refund) on paid invoices, part of each."""
        my = random.Random(SEED * 7)
        while not self.stop_clients.is_set():
            time.sleep(0.5 + my.random())
            try:
                rows = self.db.rows("SELECT number FROM invoices WHERE status IN ('paid', 'partially_refunded') "
                                    "AND total_minor - refunded_minor >= 200 ORDER BY paid_at DESC LIMIT 10")
                if not rows:
                    continue
                number = my.choice(rows)[0]
                out = self.cli("billing", "refund", number, "--amount", "1.00", "--to",
                               my.choice(["prepaid", "original"]), check=False)
                self.stats.add(f"refund exit {out.returncode}")
            except Exception as e:  # noqa: BLE001
                self.stats.add("refund harness error")
                log(f"refund: {e}")

    def clock(self) -> None:
        """Makes auto-renewing products due (13 days from expiry: inside R40's first stage) and
        the renewal and webhook jobs due now, so the job runner works all the time."""
        while not self.stop_clients.is_set():
            time.sleep(0.7)
            try:
                soon = ts(utcnow() + timedelta(days=13))
                far = ts(utcnow() + timedelta(days=20))
                # Each product once: a renewed product keeps the term its renewal gave it.
                ids = self.db.rows("SELECT id FROM products WHERE status = 'active' AND auto_renew = true "
                                   f"AND expires_at > '{far}' AND NOT EXISTS (SELECT 1 FROM renewals r "
                                   "WHERE r.product_id = products.id) ORDER BY id LIMIT 2")
                for (pid,) in ids:
                    self.db.execute(f"UPDATE products SET expires_at = '{soon}' WHERE id = '{pid}' AND expires_at > '{far}'")
                    self.stats.add("products made due")
                self.db.execute(f"UPDATE jobs SET run_at = '{PAST}' WHERE unique_key IN "
                                "('periodic:renew_due_products', 'periodic:deliver_webhooks') AND locked_by IS NULL")
            except Exception as e:  # noqa: BLE001
                log(f"clock: {e}")

    # the run
    def run(self) -> None:
        log(f"[{self.engine}] setting up")
        self.setup()
        threads = [threading.Thread(target=self.client, args=(self.orgs[i % len(self.orgs)], i), daemon=True)
                   for i in range(CLIENTS)]
        threads += [threading.Thread(target=self.refunder, daemon=True), threading.Thread(target=self.clock, daemon=True)]
        for t in threads:
            t.start()
        log(f"[{self.engine}] {CLIENTS} clients, a refunder and a clock running; {KILLS} kills to go")
        for i in range(1, KILLS + 1):
            time.sleep(MIN_UP + rng.random() * (MAX_UP - MIN_UP))
            self.kill()
            self.expire_leases()
            took = self.start()
            self.recoveries.append(took)
            self.check(final=False, audit=(i % AUDIT_EVERY == 0))
            if i % 10 == 0 or i == KILLS:
                log(f"[{self.engine}] kill {i}/{KILLS}: back in {took:.2f}s; {self.stats.c['requests']} requests, "
                    f"{self.stats.c['retries']} retries so far")
        self.stop_clients.set()
        for t in threads:
            t.join(GIVE_UP + 30)
        self.settle()
        self.check(final=True, audit=True)
        self.stop()
        self.db.close()

    def settle(self) -> None:
        """Lets the queues drain: mails sent, webhooks delivered (the receiver's 503s retried),
        refunds and charges settled."""
        deadline = time.monotonic() + SETTLE_TIMEOUT + (RECONCILE_AFTER.total_seconds() + 45 if AWAIT_RECONCILE else 0)
        while time.monotonic() < deadline:
            self.db.execute(f"UPDATE jobs SET run_at = '{PAST}' WHERE unique_key IN "
                            "('periodic:renew_due_products', 'periodic:deliver_webhooks') AND locked_by IS NULL")
            self.db.execute(f"UPDATE webhook_deliveries SET next_attempt_at = '{PAST}' WHERE status = 'pending'")
            left = self.db.rows(
                "SELECT (SELECT count(*) FROM mails WHERE status = 'pending'), "
                "(SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'), "
                "(SELECT count(*) FROM jobs WHERE kind = 'deliver_mail'), "
                "(SELECT count(*) FROM payments WHERE status = 'pending' AND method = 'payment_method' "
                "AND gateway_reference IS NULL)")[0]
            if left[:3] == ("0", "0", "0") and (left[3] == "0" or not AWAIT_RECONCILE):
                return
            time.sleep(0.3)
        log(f"[{self.engine}] still pending after the wait: mails, webhook deliveries, mail jobs, unanswered charges = {left}")

    # invariants
    def check(self, final: bool, audit: bool) -> None:
        e, add, q = self.engine, self.res.add, self.db.rows
        kills = f"{len(self.kill_times)} kills"

        # paid at most once
        twice = q("SELECT invoice_id, count(*) FROM payments WHERE status = 'succeeded' AND invoice_id IS NOT NULL "
                  "GROUP BY invoice_id HAVING count(*) > 1")
        unpaid = q("SELECT i.number FROM invoices i WHERE i.status IN ('paid', 'partially_refunded', 'refunded') AND "
                   "(i.paid_at IS NULL OR (SELECT count(*) FROM payments p WHERE p.invoice_id = i.id "
                   "AND p.status = 'succeeded') <> 1)")
        n_paid = q("SELECT count(*) FROM invoices WHERE status IN ('paid', 'partially_refunded', 'refunded')")[0][0]
        add(e, "invoice paid at most once (and once when paid)", not twice and not unpaid,
            f"{n_paid} paid invoices, each with exactly one succeeded payment ({kills})" if not twice and not unpaid
            else f"paid twice: {twice[:3]}; paid without exactly one payment: {unpaid[:3]}")

        # the sandbox's charge log
        now = utcnow()
        charges = q("SELECT c.idempotency_key, c.outcome, c.amount_minor, p.id, p.status, p.amount_minor, p.created_at "
                    "FROM sandbox_charges c LEFT JOIN payments p ON p.id = c.idempotency_key")
        bad, in_flight = [], 0
        for key, outcome, amount, pid, pstatus, pamount, created in charges:
            if not pid:
                bad.append(f"{key}: charged without a payment")
            elif pamount != amount:
                bad.append(f"{key}: charged {amount}, payment of {pamount}")
            elif outcome == "approved" and pstatus != "succeeded":
                age = now - datetime.fromisoformat(created[:26])
                # Reconciled by the renewal pass 2 minutes after the charge; allowed until then
                # (and a pass later), also at the end of a short run.
                if pstatus == "pending" and age < RECONCILE_AFTER + timedelta(seconds=45) and \
                        (not final or not AWAIT_RECONCILE):
                    in_flight += 1
                else:
                    bad.append(f"{key}: approved by the provider, payment {pstatus} ({age.total_seconds():.0f}s old)")
        unbacked = q("SELECT p.id FROM payments p LEFT JOIN sandbox_charges c ON c.idempotency_key = p.id "
                     "WHERE p.method = 'payment_method' AND p.status = 'succeeded' AND c.idempotency_key IS NULL")
        bad += [f"{p}: succeeded without a charge" for (p,) in unbacked]
        add(e, "sandbox charged each payment at most once, all recorded", not bad,
            f"{len(charges)} charges, one per payment by its key; {in_flight} awaiting reconciliation"
            if not bad else "; ".join(bad[:4]) + (f" (+{len(bad) - 4})" if len(bad) > 4 else ""))

        # each Idempotency-Key acted at most once
        over = []
        for org in self.orgs:
            counts = {
                "top_up": q(f"SELECT count(*) FROM payments WHERE organization_id = '{org.id}' "
                            "AND purpose = 'top_up'")[0][0],
                "withdraw": q(f"SELECT count(*) FROM prepaid_transactions WHERE organization_id = '{org.id}' "
                              "AND kind = 'withdrawal'")[0][0],
                "order": q(f"SELECT count(*) FROM orders o WHERE o.organization_id = '{org.id}' AND NOT EXISTS "
                           "(SELECT 1 FROM renewals r WHERE r.order_id = o.id)")[0][0],
            }
            # The keys after the counts: a key is counted before its request is sent.
            with org.token_lock:
                keys = dict(org.keys)
            for op, n in counts.items():
                if int(n) > keys.get(op, 0):
                    over.append(f"{org.id} {op}: {n} done for {keys.get(op, 0)} keys")
        add(e, "each Idempotency-Key acted at most once", not over,
            f"top-ups, withdrawals and orders ≤ keys sent; {len(self.unresolved)} keys given up unresolved"
            if not over else "; ".join(over))

        # ledger = balance
        ledger = q("SELECT a.organization_id, a.balance_minor, COALESCE(SUM(t.amount_minor), 0) "
                   "FROM prepaid_accounts a LEFT JOIN prepaid_transactions t ON t.organization_id = a.organization_id "
                   "GROUP BY a.organization_id, a.balance_minor")
        wrong = [r for r in ledger if r[1] != r[2]]
        negative = [r for r in ledger if int(r[1]) < 0]
        api = []
        # Through the API too, once the clients stopped (a balance read while they run may be
        # one change apart from the database's).
        if final:
            for org in self.orgs:
                r = http(self.base, "GET", f"/v1/orgs/{org.id}/prepaid-account", org.token)
                if r.status == 401:
                    self.login(org)
                    r = http(self.base, "GET", f"/v1/orgs/{org.id}/prepaid-account", org.token)
                db_bal = next((x[1] for x in ledger if x[0] == org.id), "0")
                got = (r.body or {}).get("balance", {}).get("amount") if isinstance(r.body, dict) else None
                if r.status != 200 or got is None or round(float(got) * 100) != int(db_bal):
                    api.append(f"{org.id}: API {r.status} {got} vs ledger {db_bal}")
        add(e, "ledger = balance for every prepaid account", not wrong and not negative and not api,
            f"{len(ledger)} accounts: balance = sum of transactions, never negative"
            + ("; GET …/prepaid-account agrees" if final else "") if not (wrong or negative or api)
            else f"mismatch (org, balance, sum, last): {wrong[:3]}; negative: {negative[:3]}; {api[:3]}")

        # gapless numbers
        gaps = []
        for kind, sql, counter in (
            ("invoice", "SELECT 'n', issuer, number, '' FROM invoices",
             "SELECT 'c', issuer, CAST(year AS TEXT), CAST(last_seq AS TEXT) FROM invoice_counters"),
            ("credit note", "SELECT 'n', 'CN', number, '' FROM credit_notes",
             "SELECT 'c', 'CN', CAST(year AS TEXT), CAST(last_seq AS TEXT) FROM credit_note_counters"),
        ):
            # One statement: the numbers and the counters of one snapshot.
            both = q(f"{sql} UNION ALL {counter}")
            seen: dict = collections.defaultdict(list)
            for _, issuer, number, _ in (r for r in both if r[0] == "n"):
                m = re.search(r"(\d{4})-(\d+)$", number)
                seen[(issuer, m.group(1))].append(int(m.group(2)))
            counters = {(r[1], r[2]): int(r[3]) for r in both if r[0] == "c"}
            for k in set(seen) | set(counters):
                nums = sorted(seen.get(k, []))
                if nums != list(range(1, len(nums) + 1)) or counters.get(k, 0) != len(nums):
                    missing = sorted(set(range(1, counters.get(k, 0) + 1)) - set(nums))
                    gaps.append(f"{kind} {k}: {len(nums)} numbers, counter {counters.get(k)}, missing {missing[:5]}, "
                                f"duplicates {len(nums) - len(set(nums))}")
        n_inv = q("SELECT count(*) FROM invoices")[0][0]
        n_cn = q("SELECT count(*) FROM credit_notes")[0][0]
        add(e, "invoice and credit-note numbers gapless", not gaps,
            f"{n_inv} invoices, {n_cn} credit notes: 1..n each year, counter = n" if not gaps else "; ".join(gaps[:3]))

        # mails
        # Rows, then files, then rows again: a row sent before the files were read has its file;
        # a file read has its row in the second reading (the row commits before its job runs).
        rows = {r[0]: r[1] for r in q("SELECT id, status FROM mails")}
        # One statement: a pending row and its job in one snapshot (the payload names the row).
        lost = [r[0] for r in q("SELECT m.id FROM mails m WHERE m.status = 'pending' AND NOT EXISTS (SELECT 1 "
                                "FROM jobs j WHERE j.kind = 'deliver_mail' AND j.payload LIKE '%' || m.id || '%')")]
        partial: dict[str, float] = {}
        files = mail_files(self.mail_dir, partial, self.mail_seen)
        rows_after = {r[0] for r in q("SELECT id FROM mails")}
        failed = [m for m, st in rows.items() if st == "failed"]
        unsent = [m for m, st in rows.items() if st == "sent" and m not in files]
        # A headerless file is being written (touched in the last 5 s, not in the final check,
        # which runs once the queues drained) or was cut by a kill (touched just before one: its
        # row stayed pending and was sent again). Any other is a broken mail.
        now = time.time()
        cut = [n for n, t in partial.items() if any(t - 0.05 <= k <= t + 1.0 for k in self.kill_times)]
        broken = [n for n, t in partial.items() if n not in cut and (final or now - t > 5)]
        phantom = [m for m in files if m not in rows_after] + [f"<no Message-ID: {n}>" for n in broken]
        dup, explained = self.duplicates(files)
        late = [m for m, st in rows.items() if st == "pending"] if final else []
        ok = not (lost or failed or unsent or phantom or dup or late)
        add(e, "mails: committed ones delivered, at most once per outbox row", ok,
            f"{len(rows)} outbox rows, {sum(len(v) for v in files.values())} .eml files; "
            f"{explained} resent after a kill between the send and its record; {len(cut)} files cut by a kill"
            if ok else
            f"pending without a job {lost[:3]}; failed {failed[:3]}; sent without a file {unsent[:3]}; "
            f"file without a committed row {phantom[:3]}; twice without a kill between {dup[:3]}; "
            f"never sent {late[:3]}")

        # webhooks
        # The same order: rows, the receiver's record, rows again.
        dl = q("SELECT d.event_id, d.status, d.organization_id, d.event_type, d.next_attempt_at FROM webhook_deliveries d")
        paths = {o.hook_path: o for o in self.orgs}
        with self.receiver.lock:  # one receiver serves both engines: this engine's paths only
            attempts = [a for a in self.receiver.attempts if a["path"] in paths]
        dl_after = {(f"/hook/{r[1]}", r[0]) for r in q("SELECT event_id, organization_id FROM webhook_deliveries")}
        got: dict = collections.defaultdict(list)
        invalid = [a for a in attempts if a["path"] in paths and not a["valid"]]
        for a in attempts:
            if a["path"] in paths and a["ok"]:
                got[(a["path"], a["id"])].append(a["at"])
        by_key = {(f"/hook/{r[2]}", r[0]): r for r in dl}
        w_lost = [r[0] for r in dl if r[1] == "pending" and not r[4]]
        w_failed = [r[0] for r in dl if r[1] == "failed"]
        w_unsent = [k[1] for k, r in by_key.items() if r[1] == "succeeded" and k not in got]
        w_phantom = [k[1] for k in got if k not in dl_after]
        w_dup, w_explained = self.duplicates({k: v for k, v in got.items()})
        w_late = [r[0] for r in dl if r[1] == "pending"] if final else []
        # no row lost: one delivery per recorded change of a subscribed kind since the endpoint was made
        missing = []
        for org in self.orgs:
            # One statement: one snapshot of the changes and of the rows they queued.
            changes = [(f"SELECT count(*) FROM activities WHERE organization_id = '{org.id}' AND created_at >= "
                        f"'{org.hook_since}' AND action = '{act}'", wtype) for act, wtype in ACTIVITY_WEBHOOK.items()]
            pairs = [(sql, wtype) for sql, wtype in changes]
            counts = q("SELECT " + ", ".join(
                f"({sql}), (SELECT count(*) FROM webhook_deliveries WHERE "
                f"organization_id = '{org.id}' AND event_type = '{wtype}')" for sql, wtype in pairs))[0]
            for i, (act, wtype) in enumerate(pairs):
                want, have = int(counts[2 * i]), int(counts[2 * i + 1])
                if have != want:
                    missing.append(f"{org.id} {wtype}: {have} deliveries for {want} changes")
        ok = not (w_lost or w_failed or w_unsent or w_phantom or w_dup or w_late or missing or invalid)
        add(e, "webhooks: one row per change, delivered, once per success", ok,
            f"{len(dl)} delivery rows, {sum(len(v) for v in got.values())} accepted deliveries "
            f"({len(attempts)} attempts, signatures valid); {w_explained} resent after a kill" if ok else
            f"pending without a next attempt {w_lost[:2]}; failed {w_failed[:2]}; succeeded but not received "
            f"{w_unsent[:2]}; received without a row {w_phantom[:2]}; twice without a kill {w_dup[:2]}; "
            f"never delivered {w_late[:2]}; rows missing {missing[:2]}; bad signatures {len(invalid)}")

        # nothing half-written
        half = []
        for label, sql in (
            ("order paid, invoice not", "SELECT o.id FROM orders o JOIN invoices i ON i.id = o.invoice_id WHERE "
             "o.status = 'paid' AND (o.paid_at IS NULL OR i.status NOT IN ('paid', 'partially_refunded', 'refunded'))"),
            ("invoice paid, order not", "SELECT i.number FROM invoices i JOIN orders o ON o.id = i.order_id WHERE "
             "i.status IN ('paid', 'partially_refunded', 'refunded') AND o.status <> 'paid'"),
            ("product without a paid order", "SELECT p.id FROM products p LEFT JOIN orders o ON o.id = p.order_id "
             "WHERE o.id IS NULL OR (o.status <> 'paid' AND p.status <> 'pending_payment')"),
            ("paid order without its products", "SELECT o.id FROM orders o WHERE o.status = 'paid' AND NOT EXISTS "
             "(SELECT 1 FROM products p WHERE p.order_id = o.id) AND NOT EXISTS (SELECT 1 FROM renewals r WHERE "
             "r.order_id = o.id) AND NOT EXISTS (SELECT 1 FROM product_changes c WHERE c.order_id = o.id)"),
            ("invoice total ≠ its lines", "SELECT i.number FROM invoices i WHERE i.total_minor <> "
             "(SELECT COALESCE(SUM(l.total_minor), 0) FROM invoice_lines l WHERE l.invoice_id = i.id)"),
            ("top-up succeeded, not credited once", "SELECT p.id FROM payments p WHERE p.purpose = 'top_up' AND "
             "p.status = 'succeeded' AND (SELECT count(*) FROM prepaid_transactions t WHERE t.payment_id = p.id "
             "AND t.kind = 'top_up') <> 1"),
            ("credited without a succeeded top-up", "SELECT t.id FROM prepaid_transactions t LEFT JOIN payments p ON "
             "p.id = t.payment_id WHERE t.kind = 'top_up' AND (p.id IS NULL OR p.status <> 'succeeded')"),
            ("prepaid payment without its debit", "SELECT p.id FROM payments p WHERE p.method = 'prepaid' AND "
             "p.status = 'succeeded' AND (SELECT count(*) FROM prepaid_transactions t WHERE t.invoice_id = "
             "p.invoice_id AND t.kind = 'payment') <> 1"),
            ("payment refunded ≠ its refunds", "SELECT p.id FROM payments p WHERE p.refunded_minor <> (SELECT "
             "COALESCE(SUM(r.amount_minor), 0) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded')"),
            ("invoice refunded ≠ its payments'", "SELECT i.number FROM invoices i WHERE i.refunded_minor <> (SELECT "
             "COALESCE(SUM(p.refunded_minor), 0) FROM payments p WHERE p.invoice_id = i.id)"),
            ("refund without its credit note", "SELECT r.id FROM refunds r WHERE r.status = 'succeeded' AND "
             "(SELECT count(*) FROM credit_notes c WHERE c.refund_id = r.id) <> 1"),
            ("refund to prepaid not credited once", "SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id "
             "WHERE r.status = 'succeeded' AND r.destination = 'prepaid' AND (SELECT count(*) FROM "
             "prepaid_transactions t WHERE t.kind = 'refund' AND t.invoice_id = p.invoice_id) < 1"),
            ("renewal paid, product not extended", "SELECT r.id FROM renewals r JOIN products p ON p.id = r.product_id "
             "WHERE r.status IN ('paid', 'applied') AND (p.expires_at IS NULL OR p.expires_at < r.period_end)"),
            ("two live renewals of one term", "SELECT product_id FROM renewals WHERE status NOT IN ('voided', 'failed', "
             "'cancelled') GROUP BY product_id, period_start HAVING count(*) > 1"),
        ):
            try:
                found = [r[0] for r in q(sql)]
            except RuntimeError as ex:
                found = [f"query failed: {ex}"[:200]]
            except sqlite3.Error as ex:
                found = [f"query failed: {ex}"[:200]]
            if found:
                half.append(f"{label}: {found[:3]}" + (f" (+{len(found) - 3})" if len(found) > 3 else ""))
        pending_refunds = q("SELECT id FROM refunds WHERE status = 'pending'")
        n_ref = q("SELECT count(*) FROM refunds")[0][0]
        n_ren = q("SELECT count(*) FROM renewals WHERE status = 'applied'")[0][0]
        add(e, "nothing half-written", not half,
            f"orders↔invoices↔payments↔products, top-ups↔ledger, {n_ref} refunds↔credit notes, "
            f"{n_ren} renewals applied↔products; {len(pending_refunds)} refunds pending" if not half
            else "; ".join(half))

        if audit:
            out = self.cli("audit", "verify", check=False)
            add(e, "hash chains verify (leman audit verify)", out.returncode == 0,
                (out.stdout.strip().splitlines() or ["ok"])[-1][:200] if out.returncode == 0
                else (out.stdout + out.stderr).strip()[-300:])

    def duplicates(self, files: dict) -> tuple[list, int]:
        """Ids received more than once: each second copy must follow a kill after the first."""
        dup, explained = [], 0
        for k, times in files.items():
            times = sorted(times)
            for a, b in zip(times, times[1:]):
                if any(a - 0.05 <= t <= b + 0.05 for t in self.kill_times):
                    explained += 1
                else:
                    dup.append(k)
        return dup, explained

    def figures(self) -> str:
        rec = sorted(self.recoveries)
        c = self.stats.c
        p = lambda q: rec[min(len(rec) - 1, int(q * len(rec)))] if rec else 0  # noqa: E731
        outcomes = ", ".join(f"{k} ×{v}" for k, v in sorted(c.items()) if re.match(r"^[a-z_]+ \d{3}$|^refund exit", k))
        return (f"[{self.engine}] {len(self.kill_times)} kills; {c['operations']} operations, {c['requests']} requests, "
                f"{c['retries']} retries ({c['retries after a lost connection']} after a lost connection), "
                f"{c['operations retried']} operations needed a retry, {c['unresolved']} given up; "
                f"recovery (spawn to /readyz 200) median {p(0.5):.2f}s, p90 {p(0.9):.2f}s, max {max(rec or [0]):.2f}s; "
                f"products made due {c['products made due']}\n    outcomes: {outcomes}")


def main() -> int:
    binary, state = sys.argv[1], Path(sys.argv[2])
    pg_base = sys.argv[3] if len(sys.argv) > 3 else ""
    res = Results()
    receiver = Receiver()
    engines = ([] if os.environ.get("FAULT_NO_SQLITE") else ["sqlite"]) + (["postgres"] if pg_base else [])
    runs: list[Run] = []

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    log(f"seed {SEED} (FAULT_SEED), {KILLS} kills per engine, up {MIN_UP}-{MAX_UP}s between kills")
    for engine in engines:
        if engine == "sqlite":
            path = state / "sqlite" / "data" / "leman.db"
            url, sqlite_path = f"sqlite://{path}", path
        else:
            name = f"leman_fault_{os.getpid()}_{secrets.token_hex(3)}"
            admin = urllib.parse.urlsplit(pg_base)
            Db(urllib.parse.urlunsplit((admin.scheme, admin.netloc, "/postgres", admin.query, "")), None).execute(
                f'CREATE DATABASE "{name}"')
            with open(state / "dbs", "a") as f:
                f.write(name + "\n")
            url, sqlite_path = urllib.parse.urlunsplit((admin.scheme, admin.netloc, "/" + name, admin.query, "")), None
        run = Run(engine, binary, state, url, sqlite_path, res, receiver)
        runs.append(run)
        t = time.monotonic()
        try:
            run.run()
        except SystemExit:
            run.stop_clients.set()
            run.stop()
            raise
        except BaseException as e:  # noqa: BLE001 - a failed run, reported in the table
            import traceback

            traceback.print_exc()
            res.add(engine, "harness ran to the end", False, f"{type(e).__name__}: {e}".splitlines()[0][:300])
            run.stop_clients.set()
            run.stop()
            log(f"--- serve log (last 30 lines) ---\n" + "\n".join(
                (run.dir / "serve.log").read_text(errors="replace").splitlines()[-30:]))
        else:
            res.add(engine, "harness ran to the end", not run.client_errors,
                    f"{time.monotonic() - t:.0f}s" if not run.client_errors else "; ".join(run.client_errors[:3]))
    for skipped, why in (("sqlite", "FAULT_ENGINES leaves it out"), ("postgres", "no PostgreSQL (skipped)")):
        if skipped not in engines:
            for name in res.order:
                res.cells[name][skipped] = (None, why)
    engines = ["sqlite", "postgres"]
    receiver.close()
    print()
    print(res.table(engines))
    print()
    for run in runs:
        print(run.figures())
    print(f"fault-test: seed {SEED}; total {time.monotonic() - T0:.0f}s")
    print(f"fault-test: {'PASSED' if res.ok else 'FAILED'}")
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
