#!/usr/bin/env python3
"""N instances on one PostgreSQL (issue 15, part 3): the driver of scripts/scale-test.sh.

Python 3.11 standard library only. Given a PostgreSQL base URL whose role may CREATE DATABASE,
it creates fresh databases, runs `leman migrate` once, starts three `leman serve` (jobs off) and
one `leman worker` on one database and one shared data directory, puts a round-robin TCP proxy in
front of the three, and runs a scripted customer day through the proxy. The same day runs against
one instance on a second fresh database, and the two are compared. Then it checks, directly
against chosen instances:

  (a) the day gives the same answers as on one instance (statuses, shapes, amounts; ids,
      timestamps and secrets masked);
  (b) every job once: each mail the day causes is delivered once (outbox rows vs .eml files, and
      the same mails as on one instance), the periodic jobs are queued once and, made due, run
      once; the serve instances ran no job;
  (c) a session or token ended on one instance is refused by the next request on the others;
  (d) the sign-in allowances (per account, per IP) are shared: N+1 attempts spread over the
      three instances are refused at the same count as on one instance, also in a burst;
  (e) signing keys agree: a token issued by one instance is accepted by the others, and a
      refresh on another instance gives a token the third accepts.

It prints a PASS/FAIL table and exits 1 on any failure. Every process it starts and every
database it creates are recorded in STATE_DIR (pids, dbs), so the shell script's trap can clean
up even if this process is killed; it cleans up itself on the way out too.

Usage: scale_test.py LEMAN_BIN POSTGRES_BASE_URL STATE_DIR
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email
import email.policy
import itertools
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

READY_TIMEOUT = 60
MAIL_TIMEOUT = 20
PASSWORD = "correct horse battery staple"
# The defaults of LEMAN_AUTH_RATE_PER_ACCOUNT / LEMAN_AUTH_RATE_PER_IP: the harness proves the
# allowances a deployment gets, not lifted ones.
PER_ACCOUNT = 10
PER_IP = 30
# Sign-ins at once in the customer day (each mails an alert). With the day's three other attempts
# on the account they use 9 of its PER_ACCOUNT: a step added to the day must stay within it.
SIGN_INS = 6
DAY_IP = "203.0.113.10"
# The mails the customer day causes, by subject: the idempotent retry of the top-up sends no second
# receipt, the burst of sign-ins one alert each.
EXPECTED_MAILS = {
    "Confirm your email address": 1,
    "Failed sign-in to your Leman account": 1,
    "New sign-in to your Leman account": SIGN_INS,
    "Payment received for invoice 2026-000001": 1,
    "Prepaid account of Müller Design Sàrl topped up": 1,
}
# Every periodic job kind (tests/api/jobs.rs lists them too); the shortest period is
# poll_registry's minute.
PERIODIC = [
    "deliver_webhooks",
    "expire_orders",
    "expire_products",
    "poll_registry",
    "purge_idempotency_keys",
    "purge_organizations",
    "purge_task_files",
    "purge_webhook_deliveries",
    "renew_due_products",
]

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"scale-test: [{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


# --- PostgreSQL -------------------------------------------------------------------------------


def db_url(base: str, name: str) -> str:
    u = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, ""))


def psql(url: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", "-w", "-X", "-Atq", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        capture_output=True,
        text=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {sql!r}: {out.stderr.strip()}")
    return out.stdout.strip()


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    base: str | None = None  # http://127.0.0.1:port for serve


class Harness:
    def __init__(self, binary: str, pg_base: str, state: Path):
        self.binary = binary
        self.pg_base = pg_base
        self.state = state
        self.procs: list[Proc] = []
        self.dbs: list[str] = []
        self.admin_url = db_url(pg_base, "postgres")
        self.requests = 0
        self.lock = threading.Lock()

    # databases
    def create_db(self, label: str) -> str:
        name = f"leman_scale_{os.getpid()}_{label}_{secrets.token_hex(3)}"
        psql(self.admin_url, f'CREATE DATABASE "{name}"')
        self.dbs.append(name)
        with open(self.state / "dbs", "a") as f:
            f.write(name + "\n")
        return db_url(self.pg_base, name)

    def drop_dbs(self) -> None:
        for name in self.dbs:
            try:
                psql(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 - the shell trap tries again
                log(f"warning: dropping {name}: {e}")
        self.dbs.clear()

    # processes
    def env(self, database_url: str, data_dir: Path, app_url: str, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEMAN_") and k != "DATABASE_URL"}
        env.update(
            DATABASE_URL=database_url,
            LEMAN_DATA_DIR=str(data_dir),
            LEMAN_APP_URL=app_url,
            LEMAN_LOG_FORMAT="pretty",
            LEMAN_LOG="info",
            LEMAN_DB_POOL_SIZE="5",
            LEMAN_HTTP_WORKERS="2",
            # The instances stand behind the harness's proxy: each check names its client's
            # address in X-Forwarded-For, so the per-IP allowance of one check is its own.
            LEMAN_TRUST_PROXY="true",
            LEMAN_SHUTDOWN_TIMEOUT_SECS="2",
        )
        env.update(extra)
        return env

    def run_once(self, args: list[str], env: dict, logname: str) -> None:
        logf = self.state / logname
        with open(logf, "w") as out:
            rc = subprocess.run([self.binary, *args], env=env, stdout=out, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            raise RuntimeError(f"leman {' '.join(args)} exited {rc}:\n{logf.read_text()[-2000:]}")

    def start(self, name: str, args: list[str], env: dict) -> Proc:
        logf = self.state / f"{name}.log"
        out = open(logf, "w")
        p = subprocess.Popen([self.binary, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        with open(self.state / "pids", "a") as f:
            f.write(f"{p.pid}\n")
        proc = Proc(name, p, logf)
        self.procs.append(proc)
        return proc

    def serve(self, name: str, env: dict) -> Proc:
        port = free_port()
        proc = self.start(name, ["serve"], {**env, "LEMAN_BIND": f"127.0.0.1:{port}"})
        proc.base = f"http://127.0.0.1:{port}"
        return proc

    def wait_ready(self, procs: list[Proc]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        for p in procs:
            while True:
                if p.popen.poll() is not None:
                    raise RuntimeError(f"{p.name} exited during start-up:\n{p.log.read_text()[-3000:]}")
                if status_of(p.base + "/readyz") == 200:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{p.name}: GET /readyz not 200 after {READY_TIMEOUT}s")
                time.sleep(0.1)

    def stop(self, procs: list[Proc] | None = None) -> None:
        procs = list(self.procs) if procs is None else procs
        for p in procs:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 8
        for p in procs:
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait()
            if p in self.procs:
                self.procs.remove(p)


def status_of(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=2).status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:  # noqa: BLE001
        return 0


# --- a round-robin TCP proxy ----------------------------------------------------------------------


class Proxy:
    """Each client connection goes to the next backend in turn. The HTTP client below opens a
    connection per request (`Connection: close`), so requests go round-robin."""

    def __init__(self, backends: list[str]):
        self.backends = [urllib.parse.urlsplit(b) for b in backends]
        self.cycle = itertools.cycle(range(len(backends)))
        self.counts = [0] * len(backends)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self.ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    async def _handle(self, client_r, client_w) -> None:
        i = next(self.cycle)
        self.counts[i] += 1
        b = self.backends[i]
        try:
            up_r, up_w = await asyncio.open_connection(b.hostname, b.port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))

    def close(self) -> None:
        def shut():
            self.server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(shut)
        self.thread.join(5)


# --- HTTP -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: object
    headers: dict


class Client:
    def __init__(self, harness: Harness, ip: str):
        self.harness = harness
        self.ip = ip  # the client address the instances see (X-Forwarded-For)

    def call(self, base: str, method: str, path: str, token: str | None = None, body=None, headers=None) -> Answer:
        h = {"Accept": "application/json", "X-Forwarded-For": self.ip, "User-Agent": "leman-scale-test"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        req = urllib.request.Request(base + path, data=data, method=method, headers=h)
        with self.harness.lock:
            self.harness.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw, hdrs = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, raw, hdrs = e.code, e.read(), dict(e.headers)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Answer(status, parsed, hdrs)


# --- mails ------------------------------------------------------------------------------------------


def read_mails(mail_dir: Path) -> list[dict]:
    mails = []
    if not mail_dir.is_dir():
        return mails
    for f in sorted(mail_dir.iterdir()):
        if f.suffix != ".eml":
            continue
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        mails.append({"file": f.name, "to": str(msg["To"]), "subject": str(msg["Subject"]), "text": text})
    return mails


def wait_for_mail(mail_dir: Path, to: str, needle: str) -> dict:
    deadline = time.monotonic() + MAIL_TIMEOUT
    while True:
        for m in read_mails(mail_dir):
            if to in m["to"] and needle in m["text"]:
                return m
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} containing {needle!r} within {MAIL_TIMEOUT}s")
        time.sleep(0.05)


def link_token(text: str, path: str) -> str:
    m = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", text)
    if not m:
        raise AssertionError(f"no {path} link in:\n{text}")
    return m.group(1)


# --- comparing answers ------------------------------------------------------------------------------

ID = re.compile(r"^[a-z]+_[0-9a-zA-Z]{20,}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
# Recorded after the answer, off the request path (api/auth/caller.rs spawns the write): the
# next read may or may not show it, on one instance as on three.
EVENTUAL = {"last_used_at", "last_seen_at"}
SECRET_KEYS = {"access_token", "refresh_token", "secret", "token", "request_id", "prefix", "mfa_token"}


def mask(v, key: str = ""):
    """Answers with ids, timestamps and secrets masked: what must agree between two runs."""
    if isinstance(v, dict):
        return {k: mask(x, k) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [mask(x, key) for x in v]
    if key in EVENTUAL:
        return "<time or null>"
    if isinstance(v, str):
        if key in SECRET_KEYS or v.startswith("lmn_") or v.count(".") == 2 and v.startswith("eyJ"):
            return "<secret>"
        if ID.match(v):
            return f"<{v.split('_', 1)[0]}_id>"
        if TIME.match(v):
            return "<time>"
        if key == "detail":
            return re.sub(r"[a-z]+_[0-9a-zA-Z]{20,}", "<id>", v)
    return v


def first_difference(a, b, path="") -> str | None:
    if type(a) is not type(b):
        return f"{path or '/'}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}/{k}: only in {'cluster' if k in a else 'single'}"
            d = first_difference(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}/{i}")
            if d:
                return d
        return None
    return None if a == b else f"{path or '/'}: {a!r} vs {b!r}"


# --- the customer day ---------------------------------------------------------------------------------


@dataclass
class Day:
    transcript: list = field(default_factory=list)  # (step, status, masked body)
    email: str = ""
    org: str = ""
    access_token: str = ""
    refresh_token: str = ""
    session_id: str = ""

    def record(self, step: str, a: Answer, expect: int) -> Answer:
        self.transcript.append((step, a.status, mask(a.body)))
        if a.status != expect:
            raise AssertionError(f"{step}: expected {expect}, got {a.status}: {json.dumps(a.body)[:600]}")
        return a


def customer_day(c: Client, base: str, mail_dir: Path, email_addr: str) -> Day:
    """A customer's day, every request through `base`. Returns the masked transcript."""
    d = Day(email=email_addr)
    r = d.record(
        "sign up",
        c.call(base, "POST", "/v1/users", body={
            "email": email_addr, "password": PASSWORD, "first_name": "Zoë", "last_name": "Müller",
            "language": "en", "timezone": "Europe/Zurich"}),
        202,
    )
    r = d.record("login before verifying", c.call(base, "POST", "/v1/auth/login",
                                                   body={"email": email_addr, "password": PASSWORD}), 403)
    mail = wait_for_mail(mail_dir, email_addr, "/verify-email?token=")
    token = link_token(mail["text"], "/verify-email")
    d.record("verify email", c.call(base, "POST", "/v1/users/verify-email", body={"token": token}), 204)
    d.record("verify email again", c.call(base, "POST", "/v1/users/verify-email", body={"token": token}), 400)
    r = d.record("login", c.call(base, "POST", "/v1/auth/login", body={"email": email_addr, "password": PASSWORD}), 200)
    d.access_token, d.refresh_token, d.session_id = (r.body["access_token"], r.body["refresh_token"],
                                                     r.body["session_id"])
    t = d.access_token
    d.record("me", c.call(base, "GET", "/v1/me", t), 200)
    # Sign-in alerts on: each sign-in below queues a mail, so the worker has a burst to deliver.
    d.record("turn sign-in alerts on", c.call(base, "PUT", "/v1/me/security-settings", t, {
        "notify_on_login_success": True, "notify_on_login_failure": True, "lock_after_failed_logins": 5}), 200)
    d.record("wrong password", c.call(base, "POST", "/v1/auth/login",
                                      body={"email": email_addr, "password": "not the password"}), 401)
    with concurrent.futures.ThreadPoolExecutor(max_workers=SIGN_INS) as pool:
        answers = list(pool.map(lambda _: c.call(base, "POST", "/v1/auth/login",
                                                 body={"email": email_addr, "password": PASSWORD}),
                                range(SIGN_INS)))
    for i, a in enumerate(answers):
        d.record(f"sign-in {i + 1} of {SIGN_INS} at once", a, 200)
    r = d.record("create organisation", c.call(base, "POST", "/v1/orgs", t, {
        "name": "Müller Design Sàrl", "country": "CH", "currency": "CHF",
        "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}}), 201)
    org = d.org = r.body["id"]
    r = d.record("add card", c.call(base, "POST", f"/v1/orgs/{org}/payment-methods", t,
                                    {"type": "card", "token": "tok_visa"}), 201)
    card = r.body["id"]
    top_up = {"amount": {"amount": "100.00", "currency": "CHF"}, "payment_method_id": card}
    key = {"Idempotency-Key": "scale-top-up-" + secrets.token_hex(8)}
    d.record("top up", c.call(base, "POST", f"/v1/orgs/{org}/prepaid-account/top-ups", t, top_up, key), 201)
    # The retry goes to the next instance: it replays the first answer instead of charging again.
    d.record("top up retried (same Idempotency-Key)",
             c.call(base, "POST", f"/v1/orgs/{org}/prepaid-account/top-ups", t, top_up, key), 201)
    d.record("prepaid account", c.call(base, "GET", f"/v1/orgs/{org}/prepaid-account", t), 200)
    r = d.record("order", c.call(base, "POST", f"/v1/orgs/{org}/orders", t,
                                 {"items": [{"offer_id": "web-hosting-starter", "billing_period": "P1Y"}]}), 201)
    order = r.body["id"]
    d.record("pay order from the prepaid account",
             c.call(base, "POST", f"/v1/orgs/{org}/orders/{order}/payments", t, {"method": "prepaid"}), 201)
    d.record("order after payment", c.call(base, "GET", f"/v1/orgs/{org}/orders/{order}", t), 200)
    d.record("prepaid account after payment", c.call(base, "GET", f"/v1/orgs/{org}/prepaid-account", t), 200)
    d.record("prepaid transactions", c.call(base, "GET", f"/v1/orgs/{org}/prepaid-account/transactions", t), 200)
    r = d.record("list invoices", c.call(base, "GET", f"/v1/orgs/{org}/invoices", t), 200)
    invoice = r.body["data"][0]["id"]
    d.record("read invoice", c.call(base, "GET", f"/v1/orgs/{org}/invoices/{invoice}", t), 200)
    d.record("products", c.call(base, "GET", f"/v1/orgs/{org}/products", t), 200)
    r = d.record("create personal token", c.call(base, "POST", "/v1/me/tokens", t, {
        "name": "scale test", "kind": "personal", "scopes": ["account:read", "billing:read"]}), 201)
    pat = r.body["secret"] if "secret" in r.body else r.body.get("token")
    d.record("me with the personal token", c.call(base, "GET", "/v1/me", pat), 200)
    d.record("list tokens", c.call(base, "GET", "/v1/me/tokens", t), 200)
    r = d.record("refresh", c.call(base, "POST", "/v1/auth/refresh", body={"refresh_token": d.refresh_token}), 200)
    t = r.body["access_token"]
    d.record("me after refresh", c.call(base, "GET", "/v1/me", t), 200)
    d.record("sessions", c.call(base, "GET", "/v1/me/sessions", t), 200)
    d.record("activities", c.call(base, "GET", f"/v1/orgs/{org}/activities", t), 200)
    d.record("sign out", c.call(base, "POST", "/v1/auth/logout", t), 204)
    d.record("me after signing out", c.call(base, "GET", "/v1/me", t), 401)
    d.record("refresh after signing out",
             c.call(base, "POST", "/v1/auth/refresh", body={"refresh_token": r.body["refresh_token"]}), 401)
    d.record("personal token after signing out", c.call(base, "GET", "/v1/me", pat), 200)
    return d


def mail_summary(mails: list[dict]) -> dict:
    out: dict = {}
    for m in mails:
        k = f"{m['to']} | {m['subject']}"
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


def wait_mail_queue_empty(url: str) -> None:
    deadline = time.monotonic() + MAIL_TIMEOUT
    while True:
        left = psql(url, "SELECT count(*) FROM jobs WHERE kind = 'deliver_mail'")
        if left == "0":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{left} deliver_mail jobs still queued after {MAIL_TIMEOUT}s")
        time.sleep(0.1)


# --- checks ---------------------------------------------------------------------------------------------


class Results:
    def __init__(self):
        self.rows: list[tuple[str, bool | None, str]] = []

    @staticmethod
    def word(ok: bool | None) -> str:
        return "SKIP" if ok is None else "PASS" if ok else "FAIL"

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        self.rows.append((name, ok, detail))
        log(f"{self.word(ok)} {name}: {detail}")

    def table(self) -> str:
        w = max(len(n) for n, _, _ in self.rows)
        lines = [f"{'check'.ljust(w)}  result  detail", f"{'-' * w}  ------  ------"]
        # By letter, (a) to (f), in the order each was checked within a letter.
        for n, ok, d in sorted(self.rows, key=lambda r: r[0][:3] if r[0].startswith("(") else "~"):
            lines.append(f"{n.ljust(w)}  {self.word(ok):6}  {d}")
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        return all(ok is not False for _, ok, _ in self.rows)


def attempts(c: Client, bases: list[str], n: int, make) -> list[int]:
    """n attempts one after the other, attempt i on bases[i % len(bases)]; their statuses."""
    return [make(c, bases[i % len(bases)]).status for i in range(n)]


def login_attempt(email_addr: str):
    return lambda c, base: c.call(base, "POST", "/v1/auth/login", body={"email": email_addr, "password": "not the password"})


def refresh_attempt(c: Client, base: str) -> Answer:
    return c.call(base, "POST", "/v1/auth/refresh", body={"refresh_token": "not-a-refresh-token-" + secrets.token_hex(8)})


def first_refusal(statuses: list[int]) -> int | None:
    return next((i + 1 for i, s in enumerate(statuses) if s == 429), None)


def rate_limit_probe(c_factory, bases: list[str], tag: str) -> dict:
    """The sign-in allowances as seen through `bases`: sequential and in a burst."""
    out = {}
    # Per account: wrong passwords for one (unknown) account, each from its own address, so only
    # the account's allowance counts.
    who = f"ratelimit-{tag}@example.com"
    t = time.monotonic()
    seq = []
    for i in range(PER_ACCOUNT + 2):
        seq.append(login_attempt(who)(c_factory(), bases[i % len(bases)]).status)
    out["account"] = (seq, time.monotonic() - t)
    # Per IP: one address, cheap sign-in requests (a bogus refresh token: 401 with no hashing).
    c = c_factory()
    t = time.monotonic()
    seq = attempts(c, bases, PER_IP + 2, refresh_attempt)
    out["ip"] = (seq, time.monotonic() - t)
    # Per IP in a burst: 3 × (PER_IP) requests at once from one fresh address, spread evenly.
    c = c_factory()
    n = 3 * PER_IP
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda i: refresh_attempt(c, bases[i % len(bases)]).status, range(n)))
    out["burst"] = (statuses, time.monotonic() - t)
    return out


_ip_counter = itertools.count(1)


def fresh_ip() -> str:
    n = next(_ip_counter)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def main() -> int:
    binary, pg_base, state = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    h = Harness(binary, pg_base, state)
    res = Results()
    figures: dict = {}
    proxy = None

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        # ---------------------------------------------------------------- the cluster
        cluster_db = h.create_db("cluster")
        data = state / "cluster-data"
        data.mkdir()
        mail_dir = data / "mail"
        # The proxy's port is chosen first: mail links point at it (LEMAN_APP_URL).
        serve_names = ["serve-1", "serve-2", "serve-3"]
        log(f"cluster database {cluster_db.rsplit('/', 1)[1]}: leman migrate")
        h.run_once(["migrate"], h.env(cluster_db, data, "http://127.0.0.1:9"), "migrate.log")
        ports = [free_port() for _ in serve_names]
        backends = [f"http://127.0.0.1:{p}" for p in ports]
        proxy = Proxy(backends)
        base_env = h.env(cluster_db, data, proxy.base)
        serves = []
        for name, port in zip(serve_names, ports):
            p = h.start(name, ["serve"], {**base_env, "LEMAN_BIND": f"127.0.0.1:{port}", "LEMAN_JOBS": "false"})
            p.base = f"http://127.0.0.1:{port}"
            serves.append(p)
        worker = h.start("worker", ["worker"], {**base_env, "LEMAN_JOB_POLL_MS": "100", "LEMAN_JOB_CONCURRENCY": "4"})
        h.wait_ready(serves)
        if worker.popen.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{worker.log.read_text()[-3000:]}")
        log(f"3 × serve (jobs off) + 1 worker ready; proxy {proxy.base} → {', '.join(backends)}")

        t = time.monotonic()
        cluster_day = customer_day(Client(h, DAY_IP), proxy.base, mail_dir, "zoe.muller@example.ch")
        figures["day_cluster_s"] = time.monotonic() - t
        figures["day_requests"] = len(cluster_day.transcript)
        figures["proxy_spread"] = list(proxy.counts)
        log(f"customer day through the proxy: {len(cluster_day.transcript)} requests in "
            f"{figures['day_cluster_s']:.1f}s, per instance {proxy.counts}")

        # (c) a session ended on one instance is refused on the others. The checks sign in as an
        # account of their own (`leman users create --verified`), not to use up the day's.
        checker = "luca.rossi@example.ch"
        h.run_once(["users", "create", "--email", checker, "--password", PASSWORD, "--verified"],
                   base_env, "users-create.log")
        c = Client(h, fresh_ip())
        s1, s2, s3 = serves

        def login(base: str) -> dict:
            r = c.call(base, "POST", "/v1/auth/login", body={"email": checker, "password": PASSWORD})
            if r.status != 200:
                raise AssertionError(f"login of {checker}: {r.status} {r.body}")
            return r.body

        a = login(s1.base)
        b = login(s1.base)
        warm = [c.call(s.base, "GET", "/v1/me", b["access_token"]).status for s in serves]
        ended = c.call(s1.base, "DELETE", f"/v1/me/sessions/{b['session_id']}", a["access_token"]).status
        after = [c.call(s.base, "GET", "/v1/me", b["access_token"]).status for s in (s2, s3)]
        refresh_after = c.call(s3.base, "POST", "/v1/auth/refresh", body={"refresh_token": b["refresh_token"]}).status
        res.add("(c) session ended on 1, refused on 2 and 3",
                warm == [200, 200, 200] and ended == 204 and after == [401, 401] and refresh_after == 401,
                f"GET /v1/me before {warm}; DELETE /v1/me/sessions/… on 1: {ended}; "
                f"after on 2,3: {after}; refresh on 3: {refresh_after}")
        warm = [c.call(s.base, "GET", "/v1/me", a["access_token"]).status for s in serves]
        out = c.call(s2.base, "POST", "/v1/auth/logout", a["access_token"]).status
        after = [c.call(s.base, "GET", "/v1/me", a["access_token"]).status for s in (s3, s1)]
        res.add("(c) sign-out on 2, refused on 3 and 1",
                warm == [200, 200, 200] and out == 204 and after == [401, 401],
                f"before {warm}; POST /v1/auth/logout on 2: {out}; after on 3,1: {after}")
        # a personal token revoked on one instance
        s = login(s1.base)
        tok = c.call(s1.base, "POST", "/v1/me/tokens", s["access_token"],
                     {"name": "revoked", "kind": "personal", "scopes": ["account:read"]}).body
        warm = [c.call(x.base, "GET", "/v1/me", tok["secret"]).status for x in serves]
        rev = c.call(s3.base, "DELETE", f"/v1/me/tokens/{tok['id']}", s["access_token"]).status
        after = [c.call(x.base, "GET", "/v1/me", tok["secret"]).status for x in (s1, s2)]
        res.add("(c) personal token revoked on 3, refused on 1 and 2",
                warm == [200, 200, 200] and rev == 204 and after == [401, 401],
                f"before {warm}; DELETE /v1/me/tokens/… on 3: {rev}; after on 1,2: {after}")

        # (e) signing keys agree
        s = login(s1.base)
        on_others = [c.call(x.base, "GET", "/v1/me", s["access_token"]).status for x in (s2, s3)]
        r = c.call(s2.base, "POST", "/v1/auth/refresh", body={"refresh_token": s["refresh_token"]})
        on_third = c.call(s3.base, "GET", "/v1/me", r.body.get("access_token") if r.status == 200 else "x").status
        kids = {jwt_kid(s["access_token"]), jwt_kid(r.body.get("access_token", ""))}
        stored = psql(cluster_db, "SELECT count(*) FROM signing_keys")
        res.add("(e) signing keys agree",
                on_others == [200, 200] and r.status == 200 and on_third == 200 and len(kids) == 1 and stored == "1",
                f"token of 1 on 2,3: {on_others}; refreshed on 2: {r.status}, its token on 3: {on_third}; "
                f"kids {sorted(kids)}; keys stored: {stored}")

        # (d) rate limits shared
        cluster_rl = rate_limit_probe(lambda: Client(h, fresh_ip()), [x.base for x in serves], "cluster")

        # (b) every job once
        wait_mail_queue_empty(cluster_db)
        cluster_mails = read_mails(mail_dir)
        outbox = psql(cluster_db, "SELECT to_address || ' | ' || subject || ' | ' || status FROM mails ORDER BY 1")
        outbox_rows = [line.rsplit(" | ", 1) for line in outbox.splitlines()]
        outbox_counts: dict = {}
        for k, st in outbox_rows:
            outbox_counts[k] = outbox_counts.get(k, 0) + 1
        not_sent = [f"{k} ({st})" for k, st in outbox_rows if st != "sent"]
        troubled = psql(cluster_db, "SELECT count(*) FROM jobs WHERE last_error IS NOT NULL OR status <> 'pending'")
        if troubled != "0":
            not_sent.append(f"{troubled} job(s) failed, dead or still running")
        files = mail_summary(cluster_mails)
        res.add("(b) each outbox mail delivered once",
                not not_sent and files == dict(sorted(outbox_counts.items())),
                f"{len(outbox_rows)} outbox rows, {len(cluster_mails)} .eml files"
                + (f"; not sent: {not_sent}" if not_sent else "")
                + ("" if files == dict(sorted(outbox_counts.items())) else f"; files {files} vs outbox {outbox_counts}"))
        periodic = psql(cluster_db, "SELECT kind || '=' || count(*) FROM jobs WHERE unique_key LIKE 'periodic:%' GROUP BY kind ORDER BY kind")
        want = "\n".join(f"{k}=1" for k in PERIODIC)
        before_ids = psql(cluster_db, "SELECT kind || ' ' || id FROM jobs WHERE unique_key LIKE 'periodic:%' ORDER BY kind")
        # Make every periodic job due now; the worker's 4 loops race for them.
        psql(cluster_db, "UPDATE jobs SET run_at = now() AT TIME ZONE 'UTC' - interval '1 second' WHERE unique_key LIKE 'periodic:%'")
        deadline = time.monotonic() + 15
        while True:
            after_ids = psql(cluster_db, "SELECT kind || ' ' || id FROM jobs WHERE unique_key LIKE 'periodic:%' ORDER BY kind")
            replaced = set(before_ids.splitlines()).isdisjoint(after_ids.splitlines()) and len(after_ids.splitlines()) == len(PERIODIC)
            if replaced or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # a second run, if any, would have re-queued by now
        periodic_after = psql(cluster_db, "SELECT kind || '=' || count(*) FROM jobs WHERE unique_key LIKE 'periodic:%' GROUP BY kind ORDER BY kind")
        # A period away: deliver_webhooks runs every 5 s, the others every minute or more.
        next_due = psql(cluster_db, "SELECT count(*) FROM jobs WHERE unique_key LIKE 'periodic:%' AND run_at > now() AT TIME ZONE 'UTC' + CASE WHEN kind = 'deliver_webhooks' THEN interval '0 seconds' ELSE interval '30 seconds' END")
        res.add("(b) periodic jobs queued once, run once when due",
                periodic == want and replaced and periodic_after == want and next_due == str(len(PERIODIC)),
                f"queued per kind: {periodic.replace(chr(10), ', ')}; made due: "
                f"{'each ran and re-queued itself once' if replaced else 'NOT all ran'}; "
                f"after: {periodic_after.replace(chr(10), ', ')}, next runs a period away: {next_due}/{len(PERIODIC)}")
        ran = {}
        for x in serves:
            m = urllib.request.urlopen(x.base + "/metrics", timeout=5).read().decode()
            ran[x.name] = sum(float(v) for v in re.findall(r"^(?:leman_)?(?:jobs_succeeded|mails_sent)\S*\s+(\S+)$", m, re.M))
        res.add("(b) serve instances ran no job (LEMAN_JOBS=false)", all(v == 0 for v in ran.values()),
                ", ".join(f"{k}: {int(v)}" for k, v in ran.items()))

        h.stop()
        proxy.close()
        proxy = None

        # ---------------------------------------------------------------- one instance
        single_db = h.create_db("single")
        data1 = state / "single-data"
        data1.mkdir()
        port = free_port()
        env1 = h.env(single_db, data1, f"http://127.0.0.1:{port}", LEMAN_JOB_POLL_MS="100")
        log(f"single database {single_db.rsplit('/', 1)[1]}: leman migrate, one serve with jobs")
        h.run_once(["migrate"], env1, "migrate-single.log")
        single = h.start("single", ["serve"], {**env1, "LEMAN_BIND": f"127.0.0.1:{port}"})
        single.base = f"http://127.0.0.1:{port}"
        h.wait_ready([single])
        t = time.monotonic()
        single_day = customer_day(Client(h, DAY_IP), single.base, data1 / "mail", "zoe.muller@example.ch")
        figures["day_single_s"] = time.monotonic() - t
        single_rl = rate_limit_probe(lambda: Client(h, fresh_ip()), [single.base], "single")
        wait_mail_queue_empty(single_db)
        single_mails = read_mails(data1 / "mail")
        h.stop()

        # (a) same results
        diffs = []
        for (step, st, body), (step2, st2, body2) in zip(cluster_day.transcript, single_day.transcript):
            d = first_difference(body, body2)
            if st != st2 or d:
                diffs.append(f"{step}: {st} vs {st2}" + (f" ({d})" if d else ""))
        if len(cluster_day.transcript) != len(single_day.transcript):
            diffs.append(f"{len(cluster_day.transcript)} steps vs {len(single_day.transcript)}")
        res.add("(a) customer day: same answers as one instance", not diffs,
                f"{len(cluster_day.transcript)} steps, statuses "
                f"{''.join('.' if 200 <= st < 300 else 'x' for _, st, _ in cluster_day.transcript)} "
                f"(. 2xx, x expected 4xx)" + (f"; differences: {diffs[:3]}" if diffs else "; statuses, shapes and amounts equal"))
        cm, sm = mail_summary(cluster_mails), mail_summary(single_mails)
        got = {k.split(" | ", 1)[1]: v for k, v in cm.items()}
        want = {s: n for s, n in EXPECTED_MAILS.items()}
        res.add("(b) the day's mails: each once, as on one instance", cm == sm and got == want,
                f"{sum(cm.values())} mails: " + "; ".join(f"{k} ×{v}" for k, v in got.items())
                + ("" if got == want else f"; expected {want}")
                + ("" if cm == sm else f"; one instance sent {sm}"))

        # (d) rate limits: the same count on three instances as on one
        for kind, label, allowance, interval in (("account", "per account", PER_ACCOUNT, 60 / PER_ACCOUNT),
                                                 ("ip", "per IP", PER_IP, 60 / PER_IP)):
            (cs, ct), (ss, st_) = cluster_rl[kind], single_rl[kind]
            cf, sf = first_refusal(cs), first_refusal(ss)
            # One slot comes back every `interval` seconds: a slow run may get that many more.
            slack = int(max(ct, st_) // interval)
            ok = cf is not None and sf is not None and allowance + 1 <= cf <= allowance + 1 + slack and \
                allowance + 1 <= sf <= allowance + 1 + slack and all(s == 429 for s in cs[cf - 1:])
            res.add(f"(d) {label} allowance shared ({allowance}/min)", ok,
                    f"3 instances round-robin: first 429 at attempt {cf} ({ct:.1f}s); "
                    f"one instance: at {sf} ({st_:.1f}s); tripled would be {3 * allowance + 1}")
        (cb, ctime), (sb, stime) = cluster_rl["burst"], single_rl["burst"]
        ca, sa = sum(1 for s in cb if s != 429), sum(1 for s in sb if s != 429)
        slack = int(max(ctime, stime) // (60 / PER_IP)) + 1
        res.add(f"(d) per IP allowance in a burst of {len(cb)}",
                PER_IP <= ca <= PER_IP + slack and PER_IP <= sa <= PER_IP + slack,
                f"{len(cb)} requests at once over 3 instances: {ca} let through ({ctime:.1f}s); "
                f"one instance: {sa} ({stime:.1f}s)")

        # ---------------------------------------------------------------- starting together
        if os.environ.get("SCALE_SKIP_COLD_START") == "1":
            res.add("(e) keys agree: 3 instances start at once, no key yet", None,
                    "skipped (SCALE_SKIP_COLD_START=1)")
            res.add("(f) 3 instances start at once on a fresh database", None,
                    "skipped (SCALE_SKIP_COLD_START=1)")
        else:
            keys_start_together(h, res)
            fresh_start_together(h, res)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any error is a failed run, reported in the table
        import traceback

        traceback.print_exc()
        res.add("harness", False, f"{type(e).__name__}: {e}".splitlines()[0][:300])
        for p in h.procs:
            log(f"--- {p.name} log (last 40 lines) ---")
            print("\n".join(p.log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
    finally:
        if proxy is not None:
            proxy.close()
        h.stop()
        h.drop_dbs()

    figures["total_s"] = time.monotonic() - T0
    figures["requests"] = h.requests
    print()
    print(res.table())
    print()
    print(f"figures: {h.requests} HTTP requests in {figures['total_s']:.1f}s; customer day "
          f"{figures.get('day_requests', '?')} requests: through the proxy "
          f"{figures.get('day_cluster_s', 0):.1f}s (per instance {figures.get('proxy_spread')}), "
          f"one instance {figures.get('day_single_s', 0):.1f}s")
    print(f"scale-test: {'PASSED' if res.ok else 'FAILED'}")
    return 0 if res.ok else 1


def start_three(h: Harness, url: str, label: str) -> tuple[list[Proc], Path]:
    data = h.state / f"{label}-data"
    data.mkdir()
    procs = [h.serve(f"{label}-{i}", h.env(url, data, "http://127.0.0.1:9", LEMAN_JOBS="false"))
             for i in (1, 2, 3)]
    return procs, data


def ready_or_exited(h: Harness, procs: list[Proc]) -> dict:
    """Each instance's fate: 'ready', or the last error line of its log once it exited."""
    deadline = time.monotonic() + READY_TIMEOUT
    fate: dict = {}
    while len(fate) < len(procs) and time.monotonic() < deadline:
        for p in procs:
            if p.name in fate:
                continue
            if p.popen.poll() is not None:
                lines = [l for l in p.log.read_text(errors="replace").splitlines() if "fail" in l or "rror" in l]
                fate[p.name] = "exited: " + re.sub(r"\x1b\[[0-9;]*m", "", lines[-1] if lines else "?")[-160:]
            elif status_of(p.base + "/readyz") == 200:
                fate[p.name] = "ready"
        time.sleep(0.1)
    for p in procs:
        fate.setdefault(p.name, "not ready")
    return fate


def keys_start_together(h: Harness, res: Results) -> None:
    """Three instances start at the same moment on a migrated database that holds no signing key
    yet (its first start, the schema made by `leman migrate` elsewhere or by an earlier release):
    they must agree on one key. The moment is made certain: the harness holds a lock on
    `signing_keys` until all three wait on a lock, then lets them go."""
    url = h.create_db("keys")
    data0 = h.state / "keys-migrate"
    data0.mkdir()
    env = h.env(url, data0, "http://127.0.0.1:9")
    h.run_once(["migrate"], env, "keys-migrate.log")
    h.run_once(["users", "create", "--email", "keys@example.ch", "--password", PASSWORD, "--verified"],
               env, "keys-users.log")
    psql(url, "DELETE FROM signing_keys")
    holder = subprocess.Popen(["psql", "-w", "-X", "-Atq", url], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("BEGIN;\nLOCK TABLE signing_keys IN ACCESS EXCLUSIVE MODE;\nSELECT 1;\n")
        holder.stdin.flush()
        wait_until(lambda: psql(url, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                     "WHERE c.relname = 'signing_keys' AND l.granted AND l.mode = 'AccessExclusiveLock'") == "1", 10)
        procs, _ = start_three(h, url, "keys")
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        waited = wait_until(lambda: int(psql(url, waiting)) >= 3, 20)
    finally:
        holder.stdin.write("COMMIT;\n\\q\n")
        holder.stdin.close()
        holder.wait(10)
    fate = ready_or_exited(h, procs)
    c = Client(h, fresh_ip())
    stored = psql(url, "SELECT count(*) FROM signing_keys")
    cross = []
    if all(f == "ready" for f in fate.values()):
        for i, p in enumerate(procs):
            r = c.call(p.base, "POST", "/v1/auth/login", body={"email": "keys@example.ch", "password": PASSWORD})
            tok = r.body.get("access_token", "") if r.status == 200 else ""
            cross.append([c.call(q.base, "GET", "/v1/me", tok).status for q in procs])
    ok = all(f == "ready" for f in fate.values()) and stored == "1" and all(s == 200 for row in cross for s in row)
    res.add("(e) keys agree: 3 instances start at once, no key yet", ok,
            f"{'all 3 waited on a lock' if waited else 'not all 3 met at the lock'}; keys stored: {stored}; "
            f"token of instance i on 1,2,3: {cross or fate}")
    h.stop(procs)


def fresh_start_together(h: Harness, res: Results) -> None:
    """Three instances started at once on a brand-new database (no `leman migrate` before, as a
    rollout of N replicas on a new database does): all must come up on one schema and one key."""
    url = h.create_db("fresh")
    procs, _ = start_three(h, url, "fresh")
    fate = ready_or_exited(h, procs)
    stored = psql(url, "SELECT count(*) FROM signing_keys") if any(f == "ready" for f in fate.values()) else "?"
    ok = all(f == "ready" for f in fate.values()) and stored == "1"
    res.add("(f) 3 instances start at once on a fresh database", ok,
            "; ".join(f"{k}: {v}" for k, v in fate.items()) + f"; keys stored: {stored}")
    h.stop(procs)


def wait_until(cond, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def jwt_kid(token: str) -> str:
    import base64

    try:
        head = token.split(".")[0]
        return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
