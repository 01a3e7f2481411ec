#!/usr/bin/env python3
"""The database goes away (issue 15, part 5): the driver of scripts/outage-test.sh.

Python 3.11 standard library only. Three legs, one `leman serve` each, never restarted within
its leg:

  postgres   its OWN throwaway PostgreSQL cluster (initdb into STATE_DIR, pg_ctl on a free port,
             as the `postgres` OS user when run as root; the machine's shared server is never
             touched). Under load (sign-ins, GET /v1/me, prepaid top-ups with Idempotency-Key, a
             /readyz probe) the cluster is stopped (`pg_ctl stop -m OUTAGE_STOP_MODE`) for
             OUTAGE_SECONDS and started again. Checked: every answer while it is down is a 503
             problem+json with a code the spec declares for 503 (and Retry-After), within
             MAX_LATENCY seconds; no 500 at all; /readyz 503 during, 200 after; requests succeed
             again without restarting leman; the sign-in alert mails queued before and after the
             outage are all delivered; no acknowledged top-up is lost and none applied twice
             (each top-up has its own amount, so the ledger shows which were applied, how often).
  read-only  SQLite, its files made immutable (`chattr +i`: root cannot write them either) while
             leman serves: writes answer 503 `database_read_only` / `database_unavailable`, reads
             still 200; once writable again, writes succeed; `PRAGMA integrity_check` is ok.
  disk-full  SQLite on a small tmpfs that the harness fills: writes answer 507 `storage_full`
             (or succeed while SQLite still has room in its files); the space freed, writes
             succeed; `PRAGMA integrity_check` is ok.
A leg whose condition cannot be made here (no `chattr`, no `mount`) is SKIPPED with a message.

It prints a table of checks and figures and exits 1 on any failure. Every process it starts is
recorded in STATE_DIR/pids, every mount in STATE_DIR/mounts, every cluster in
STATE_DIR/clusters, so the shell script's trap cleans up even if this process is killed.

Usage: outage_test.py LEMAN_BIN PG_BIN_DIR STATE_DIR OPENAPI_JSON
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

OUTAGE_SECONDS = float(os.environ.get("OUTAGE_SECONDS", "20"))
STOP_MODE = os.environ.get("OUTAGE_STOP_MODE", "fast")
MAX_LATENCY = 5.0  # seconds: the bound on any answer while the database is away
CLIENT_TIMEOUT = 15.0  # the client's own timeout, above the bound, to measure a breach
READY_TIMEOUT = 30
PASSWORD = "granite lantern breezy orchard"
ALERT_SUBJECT = "New sign-in"
BURST = 6  # sign-ins at once right before the stop
T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"outage-test: [{time.monotonic() - T0:5.1f}s] {msg}", file=sys.stderr, flush=True)


def now() -> float:
    return time.monotonic()


# --- results ----------------------------------------------------------------------------------


@dataclass
class Check:
    leg: str
    name: str
    ok: bool | None  # None: skipped
    detail: str = ""


CHECKS: list[Check] = []
FIGURES: list[tuple[str, str]] = []


def check(leg: str, name: str, ok: bool, detail: str = "") -> bool:
    CHECKS.append(Check(leg, name, bool(ok), detail))
    log(f"{'PASS' if ok else 'FAIL'} {leg}: {name} {detail}")
    return bool(ok)


def skip(leg: str, name: str, why: str) -> None:
    CHECKS.append(Check(leg, name, None, why))
    log(f"SKIPPED {leg}: {name}: {why}")


def figure(name: str, value: str) -> None:
    FIGURES.append((name, value))


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def record(state: Path, kind: str, value: str) -> None:
    with open(state / kind, "a") as f:
        f.write(value + "\n")


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Leman:
    def __init__(self, binary: str, state: Path, name: str, database_url: str, data_dir: Path):
        self.binary, self.state, self.name = binary, state, name
        self.data_dir = data_dir
        self.mail_dir = data_dir / "mail"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LEMAN_") and k != "DATABASE_URL"}
        self.env.update(
            DATABASE_URL=database_url,
            LEMAN_DATA_DIR=str(data_dir),
            LEMAN_BIND=f"127.0.0.1:{self.port}",
            LEMAN_APP_URL="http://app.example",
            LEMAN_LOG_FORMAT="pretty",
            LEMAN_LOG="warn",
            LEMAN_DB_POOL_SIZE="5",
            LEMAN_HTTP_WORKERS="2",
            LEMAN_JOB_POLL_MS="1000",
            LEMAN_JOB_BACKOFF_MS="1000",
            # The outage is what is measured, not the sign-in allowances.
            LEMAN_AUTH_RATE_PER_IP="100000",
            LEMAN_AUTH_RATE_PER_ACCOUNT="100000",
            LEMAN_SHUTDOWN_TIMEOUT_SECS="2",
        )
        self.proc: subprocess.Popen | None = None
        self.log = state / f"leman-{name}.log"

    def cli(self, *args: str) -> str:
        out = run([self.binary, *args], env=self.env)
        if out.returncode != 0:
            raise RuntimeError(f"leman {' '.join(args)}: {out.stdout}{out.stderr}")
        return out.stdout

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env,
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        record(self.state, "pids", str(self.proc.pid))
        deadline = now() + READY_TIMEOUT
        while http("GET", self.base + "/readyz").status != 200:
            if self.proc.poll() is not None:
                raise RuntimeError(f"leman {self.name} exited:\n{self.log.read_text()[-3000:]}")
            if now() > deadline:
                raise RuntimeError(f"leman {self.name}: /readyz not 200 after {READY_TIMEOUT}s")
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, client timeout)
    body: object
    headers: dict
    seconds: float
    error: str = ""


def http(method: str, url: str, token: str | None = None, body=None, headers=None,
         timeout: float = CLIENT_TIMEOUT) -> Answer:
    h = {"Accept": "application/json", "User-Agent": "leman-outage-test"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    start = now()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw, hdrs = r.status, r.read(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        status, raw, hdrs = e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}
    except Exception as e:  # noqa: BLE001 - no answer at all is an outcome too
        return Answer(0, None, {}, now() - start, repr(e))
    seconds = now() - start
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Answer(status, parsed, hdrs, seconds)


def code_of(a: Answer) -> str:
    return a.body.get("code", "") if isinstance(a.body, dict) else ""


def expect(a: Answer, status: int, what: str) -> Answer:
    if a.status != status:
        raise RuntimeError(f"{what}: expected {status}, got {a.status} {a.error}: {json.dumps(a.body)[:500]}")
    return a


def declared_codes(openapi: Path, status: str) -> set[str]:
    """Every code the committed spec declares for answers with `status`."""
    doc = json.loads(openapi.read_text())
    shared = doc.get("components", {}).get("responses", {})
    codes: set[str] = set()
    for item in doc["paths"].values():
        for op in item.values():
            r = op.get("responses", {}).get(status)
            if r is None:
                continue
            if "$ref" in r:
                r = shared[r["$ref"].rsplit("/", 1)[1]]
            codes.update(r.get("x-leman-error-codes", []))
    return codes


def mails(mail_dir: Path) -> list[dict]:
    out = []
    if mail_dir.is_dir():
        for f in sorted(mail_dir.glob("*.eml")):
            msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            out.append({"to": str(msg["To"]), "subject": str(msg["Subject"])})
    return out


# --- a customer with an organisation and a card -------------------------------------------------


@dataclass
class Customer:
    email: str
    token: str = ""
    org: str = ""
    card: str = ""
    top_up_min: Decimal = Decimal("0")
    ceiling: Decimal = Decimal("0")


def customer(leman: Leman, email_addr: str, alerts: bool = False) -> Customer:
    leman.cli("users", "create", "--email", email_addr, "--password", PASSWORD, "--verified")
    c = Customer(email_addr)
    r = expect(http("POST", leman.base + "/v1/auth/login", body={"email": email_addr, "password": PASSWORD}),
               200, "login")
    c.token = r.body["access_token"]
    if alerts:
        expect(http("PUT", leman.base + "/v1/me/security-settings", c.token, {
            "notify_on_login_success": True, "notify_on_login_failure": True,
            "lock_after_failed_logins": 10}), 200, "turn sign-in alerts on")
    r = expect(http("POST", leman.base + "/v1/orgs", c.token, {
        "name": "Panne Sàrl", "country": "CH", "currency": "CHF",
        "billing_address": {"line1": "Rue du Rhône 12", "postal_code": "1204", "city": "Genève"}}),
        201, "create organisation")
    c.org = r.body["id"]
    r = expect(http("POST", f"{leman.base}/v1/orgs/{c.org}/payment-methods", c.token,
                    {"type": "card", "token": "tok_visa"}), 201, "add card")
    c.card = r.body["id"]
    r = expect(http("GET", f"{leman.base}/v1/orgs/{c.org}/prepaid-account", c.token), 200, "prepaid account")
    c.top_up_min = Decimal(r.body["top_up_min"]["amount"])
    c.ceiling = Decimal(r.body["ceiling"]["amount"])
    return c


def top_up(leman: Leman, c: Customer, amount: Decimal, key: str) -> Answer:
    return http("POST", f"{leman.base}/v1/orgs/{c.org}/prepaid-account/top-ups", c.token,
                {"amount": {"amount": f"{amount:.2f}", "currency": "CHF"}, "payment_method_id": c.card},
                {"Idempotency-Key": key})


def ledger(leman: Leman, c: Customer) -> list[dict]:
    rows, cursor = [], None
    while True:
        q = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
        r = expect(http("GET", f"{leman.base}/v1/orgs/{c.org}/prepaid-account/transactions{q}", c.token),
                   200, "prepaid transactions")
        rows += r.body["data"]
        cursor = r.body.get("next_cursor")
        if not cursor:
            return rows


# --- the PostgreSQL leg ---------------------------------------------------------------------------


class Cluster:
    """A throwaway PostgreSQL cluster in STATE_DIR, on its own port, run as `postgres` by root."""

    def __init__(self, bindir: Path, state: Path):
        self.bindir, self.dir = bindir, state / "pgdata"
        self.sock = state / "pgsock"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(state, "postgres")
        self.sock.mkdir()
        if self.as_user:
            shutil.chown(self.sock, "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/leman_outage"

    def pg(self, tool: str, *args: str, check_rc: bool = True) -> subprocess.CompletedProcess:
        out = run([*self.as_user, str(self.bindir / tool), *args], cwd="/")
        if check_rc and out.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)}: {out.stdout}{out.stderr}")
        return out

    def init(self) -> None:
        self.pg("initdb", "-D", str(self.dir), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        record(self.dir.parent, "clusters", str(self.dir))
        self.start()
        self.pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "leman_outage")

    def start(self) -> None:
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sock} -c fsync=off "
                f"-c max_connections=50")
        self.pg("pg_ctl", "-D", str(self.dir), "-o", opts, "-l", str(self.dir.parent / "postgres.log"),
                "-w", "-t", "30", "start")

    def stop(self, mode: str) -> None:
        self.pg("pg_ctl", "-D", str(self.dir), "-m", mode, "-w", "-t", "30", "stop")


@dataclass
class Event:
    kind: str  # me, login, top_up, readyz
    start: float
    end: float
    answer: Answer


@dataclass
class Load:
    leman: Leman
    c: Customer
    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    # Top-ups: key -> amount, and what the server said last about each.
    amounts: dict[str, Decimal] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  # a definitive 4xx: not applied
    last: dict[str, Answer] = field(default_factory=dict)  # the last answer to each key

    def note(self, kind: str, start: float, a: Answer) -> None:
        with self.lock:
            self.events.append(Event(kind, start, now(), a))

    def reader(self) -> None:
        while not self.stop.is_set():
            t = now()
            self.note("me", t, http("GET", self.leman.base + "/v1/me", self.c.token))
            time.sleep(0.05)

    def signer(self) -> None:
        while not self.stop.is_set():
            t = now()
            self.note("login", t, http("POST", self.leman.base + "/v1/auth/login",
                                       body={"email": self.c.email, "password": PASSWORD}))
            time.sleep(0.4)

    def probe(self) -> None:
        while not self.stop.is_set():
            t = now()
            self.note("readyz", t, http("GET", self.leman.base + "/readyz"))
            time.sleep(0.25)

    def writer(self, n: int) -> None:
        """Top-ups, each with its own amount and key; a key that got no definitive answer (503,
        no answer, 409 in use) is retried with the same key and body until it gets one."""
        pending: list[str] = []
        i = 0
        while not self.stop.is_set() or pending:
            if self.stop.is_set() and now() > self.drain_until:
                break
            if pending:
                key = pending.pop(0)
            elif not self.stop.is_set():
                i += 1
                key = f"outage-{n}-{i}"
                # Distinct amounts: the ledger tells which key was applied and how many times.
                self.amounts[key] = self.c.top_up_min + Decimal(n * 1000 + i) / 100
            else:
                break
            t = now()
            a = top_up(self.leman, self.c, self.amounts[key], key)
            self.note("top_up", t, a)
            self.last[key] = a
            if 200 <= a.status < 300:
                self.acked.add(key)
            elif a.status in (0, 503, 507) or (a.status == 409 and code_of(a) == "idempotency_key_in_use"):
                pending.append(key)
                time.sleep(0.2)
            else:
                self.refused.add(key)
            time.sleep(0.05)

    drain_until: float = 0.0


def postgres_leg(binary: str, bindir: Path, state: Path, openapi: Path) -> None:
    leg = "postgres"
    cluster = Cluster(bindir, state)
    log(f"initdb + start of a throwaway cluster on 127.0.0.1:{cluster.port}")
    cluster.init()
    data = state / "data-pg"
    leman = Leman(binary, state, "pg", cluster.url, data)
    leman.start()
    pid = leman.proc.pid
    c = customer(leman, "outage.pg@example.com", alerts=True)
    load = Load(leman, c)
    threads = [threading.Thread(target=f, daemon=True) for f in
               (load.reader, load.reader, load.signer, load.probe)]
    threads += [threading.Thread(target=load.writer, args=(n,), daemon=True) for n in (1, 2)]
    for t in threads:
        t.start()
    time.sleep(2)
    # A burst of sign-ins right before the stop: their alert mails are queued jobs the runner
    # (polling every second) has not delivered yet when the database goes.
    burst = [threading.Thread(target=lambda: load.note("login", now(), http(
        "POST", leman.base + "/v1/auth/login", body={"email": c.email, "password": PASSWORD})))
        for _ in range(BURST)]
    for t in burst:
        t.start()
    for t in burst:
        t.join()
    log(f"stopping PostgreSQL (-m {STOP_MODE}) for {OUTAGE_SECONDS:.0f} s")
    stop_begin = now()
    cluster.stop(STOP_MODE)
    stopped = now()
    alerts_at_stop = sum(1 for m in mails(leman.mail_dir) if ALERT_SUBJECT in m["subject"])
    logins_at_stop = sum(1 for e in list(load.events) if e.kind == "login" and e.answer.status == 200
                         and e.end < stop_begin)
    time.sleep(max(0.0, OUTAGE_SECONDS - (stopped - stop_begin)))
    start_begin = now()
    cluster.start()
    started = now()
    log(f"PostgreSQL started again ({started - start_begin:.1f} s)")
    # Recovery: the first 2xx GET /v1/me and 200 /readyz that began after the start.
    deadline = started + 30
    recovered_me = recovered_ready = None
    while now() < deadline and (recovered_me is None or recovered_ready is None):
        with load.lock:
            for e in load.events:
                if e.start >= started and 200 <= e.answer.status < 300:
                    if e.kind == "me" and recovered_me is None:
                        recovered_me = e.end - started
                    if e.kind == "readyz" and recovered_ready is None:
                        recovered_ready = e.end - started
        time.sleep(0.1)
    time.sleep(4)  # steady state after recovery
    steady_from = now() - 3
    load.drain_until = now() + 4
    load.stop.set()
    for t in threads:
        t.join(30)

    events = list(load.events)
    during = [e for e in events if e.start >= stopped and e.end <= start_begin]
    # The committed spec's codes for a 503 and a 507: a problem must be one of them.
    codes_503 = declared_codes(openapi, "503")
    api_during = [e for e in during if e.kind != "readyz"]
    bad = [e for e in api_during if e.answer.status != 503 or code_of(e.answer) not in codes_503
           or not e.answer.headers.get("content-type", "").startswith("application/problem+json")]
    check(leg, "every API answer while PostgreSQL is down is a 503 problem+json with a declared code",
          api_during and not bad,
          f"({len(api_during)} answers; codes {sorted({code_of(e.answer) for e in api_during})})"
          + (f"; e.g. {bad[0].kind} {bad[0].answer.status} {bad[0].answer.error} {json.dumps(bad[0].answer.body)[:300]}" if bad else ""))
    no_retry_after = [e for e in api_during if e.answer.status == 503 and "retry-after" not in e.answer.headers]
    check(leg, "each of those 503s says Retry-After", not no_retry_after, f"({len(no_retry_after)} without)")
    worst = max((e.answer.seconds for e in api_during), default=0.0)
    figure("postgres: answers while down", str(len(api_during)))
    figure("postgres: max latency while down", f"{worst:.2f} s")
    check(leg, f"every answer while down within {MAX_LATENCY:.0f} s", api_during and worst <= MAX_LATENCY,
          f"(max {worst:.2f} s)")
    internal = [e for e in events if e.answer.status == 500 or e.answer.status == 0]
    check(leg, "no 500 and no request without an answer, the whole run", not internal,
          f"({len(events)} requests)" + (f"; e.g. {internal[0].kind} {internal[0].answer.status} "
                                        f"{internal[0].answer.error} {json.dumps(internal[0].answer.body)[:300]}"
                                        if internal else ""))
    ready_during = [e.answer.status for e in during if e.kind == "readyz"]
    check(leg, "/readyz answers 503 while down", ready_during and all(s == 503 for s in ready_during),
          f"({len(ready_during)} probes: {sorted(set(ready_during))})")
    figure("postgres: recovery after start (first 2xx GET /v1/me)",
           f"{recovered_me:.2f} s" if recovered_me is not None else "never")
    figure("postgres: recovery after start (/readyz 200)",
           f"{recovered_ready:.2f} s" if recovered_ready is not None else "never")
    check(leg, "/readyz 200 and GET /v1/me 2xx again after the start, without restarting leman",
          recovered_me is not None and recovered_ready is not None and leman.alive() and leman.proc.pid == pid,
          f"(pid {pid} {'alive' if leman.alive() else 'gone'})")
    steady = [e for e in events if e.start >= steady_from and e.kind in ("me", "login", "readyz")]
    failing = [e for e in steady if not 200 <= e.answer.status < 300]
    check(leg, "in steady state after recovery every read and sign-in succeeds", steady and not failing,
          f"({len(steady)} requests, {len(failing)} failed)")

    # Top-ups: the ledger against what the server acknowledged.
    rows = [r for r in ledger(leman, c) if r["kind"] == "top_up"]
    by_amount: dict[Decimal, int] = {}
    for r in rows:
        a = Decimal(r["amount"]["amount"])
        by_amount[a] = by_amount.get(a, 0) + 1
    key_of = {v: k for k, v in load.amounts.items()}
    twice = {a: n for a, n in by_amount.items() if n > 1}
    lost = [k for k in load.acked if by_amount.get(load.amounts[k], 0) == 0]
    unknown_amounts = [a for a in by_amount if a not in key_of]
    refused_applied = [k for k in load.refused if by_amount.get(load.amounts[k], 0) > 0]
    undecided = set(load.amounts) - load.acked - load.refused
    figure("postgres: top-ups sent / acknowledged / still undecided",
           f"{len(load.amounts)} / {len(load.acked)} / {len(undecided)}")
    check(leg, "no acknowledged top-up lost", load.acked and not lost, f"({len(lost)} lost of {len(load.acked)})")
    check(leg, "no top-up applied twice (same Idempotency-Key retried)", not twice and not unknown_amounts,
          f"({len(rows)} ledger rows)" + (f"; twice: {twice}" if twice else ""))
    check(leg, "no refused top-up applied", not refused_applied, f"({len(load.refused)} refused)")
    # A key whose request was under way when the database went stays "in flight": its request may
    # have committed just before the connection was lost, so the key is not freed (a retry could
    # apply it twice); retries get 409 `idempotency_key_in_use` until it is abandoned
    # (models::idempotency_keys::ABANDONED_AFTER_SECS). Anything else left undecided is a failure.
    held = {k for k in undecided if load.last.get(k) and load.last[k].status == 409
            and code_of(load.last[k]) == "idempotency_key_in_use"}
    figure("postgres: keys held in flight after recovery (409 idempotency_key_in_use)", str(len(held)))
    check(leg, "every top-up retried with its key got a definitive answer after recovery, or 409 in use",
          not (undecided - held),
          f"({ {k: (load.last[k].status, code_of(load.last[k])) if k in load.last else None for k in sorted(undecided - held)[:5]} })"
          if undecided - held else f"({len(held)} held)")
    r = expect(http("GET", f"{leman.base}/v1/orgs/{c.org}/prepaid-account", c.token), 200, "balance")
    balance = Decimal(r.body["balance"]["amount"])
    check(leg, "balance = sum of the ledger's top-ups", balance == sum((Decimal(x["amount"]["amount"]) for x in rows),
                                                                     Decimal("0")), f"({balance})")

    # Jobs: every sign-in acknowledged queued one alert mail; all must be delivered after recovery.
    logins_ok = sum(1 for e in events if e.kind == "login" and e.answer.status == 200)
    deadline = now() + 25
    while now() < deadline:
        sent = sum(1 for m in mails(leman.mail_dir) if ALERT_SUBJECT in m["subject"])
        if sent >= logins_ok:
            break
        time.sleep(0.2)
    sent = sum(1 for m in mails(leman.mail_dir) if ALERT_SUBJECT in m["subject"])
    pending = logins_at_stop - alerts_at_stop
    figure("postgres: sign-in alerts queued / delivered", f"{logins_ok} / {sent}")
    figure("postgres: alert mails still queued when PostgreSQL stopped", str(pending))
    check(leg, "jobs resume: the alerts queued before the stop, and all since, delivered after it",
          pending > 0 and sent >= logins_ok,
          f"({pending} queued at the stop; {sent} delivered for {logins_ok} sign-ins)")
    check(leg, "no alert delivered twice", sent <= logins_ok, f"({sent - logins_ok} extra)" if sent > logins_ok else "")
    leman.stop()
    cluster.stop("fast")


# --- the SQLite legs --------------------------------------------------------------------------------


def integrity(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def read_only_leg(binary: str, state: Path) -> None:
    leg = "sqlite read-only"
    data = state / "data-ro"
    data.mkdir()
    db = data / "leman.db"
    leman = Leman(binary, state, "ro", f"sqlite://{db}", data)
    leman.start()
    c = customer(leman, "outage.ro@example.com")
    expect(top_up(leman, c, c.top_up_min, "ro-0"), 201, "top-up before")
    files = [db, Path(f"{db}-wal")]
    made = run(["chattr", "+i", *map(str, files)])
    if made.returncode != 0:
        skip(leg, "writes refused while the file is read-only", f"chattr +i failed: {made.stderr.strip()}")
        leman.stop()
        return
    record(state, "immutable", " ".join(map(str, files)))
    answers = []
    try:
        for i in range(1, 6):
            answers.append(top_up(leman, c, c.top_up_min + Decimal(i) / 100, f"ro-{i}"))
        reads = [http("GET", leman.base + "/v1/me", c.token) for _ in range(5)]
    finally:
        run(["chattr", "-i", *map(str, files)])
    codes = sorted({(a.status, code_of(a)) for a in answers})
    check(leg, "writes answer 503 database_read_only/database_unavailable problem+json, never 500",
          all(a.status == 503 and code_of(a) in ("database_read_only", "database_unavailable")
              and a.headers.get("content-type", "").startswith("application/problem+json") for a in answers),
          f"({codes})")
    check(leg, "reads still answer 200", all(r.status == 200 for r in reads), f"({sorted({r.status for r in reads})})")
    # Writable again: the connections opened read-only are dropped on their first refusal.
    ok_after, tries = False, 0
    for tries in range(1, 11):
        if top_up(leman, c, c.top_up_min + Decimal(100 + tries) / 100, f"ro-after-{tries}").status == 201:
            ok_after = True
            break
        time.sleep(0.2)
    check(leg, "writable again: writes succeed without restarting leman", ok_after and leman.alive(),
          f"(after {tries} tries)")
    leman.stop()
    result = integrity(db)
    check(leg, "PRAGMA integrity_check", result == "ok", f"({result})")


def disk_full_leg(binary: str, state: Path) -> None:
    leg = "sqlite disk full"
    data = state / "data-full"
    data.mkdir()
    mounted = run(["mount", "-t", "tmpfs", "-o", "size=48m", "leman-outage", str(data)])
    if mounted.returncode != 0:
        skip(leg, "writes refused while the disk is full", f"mount -t tmpfs failed: {mounted.stderr.strip()}")
        return
    record(state, "mounts", str(data))
    db = data / "leman.db"
    leman = Leman(binary, state, "full", f"sqlite://{db}", data)
    try:
        leman.start()
        c = customer(leman, "outage.full@example.com")
        expect(top_up(leman, c, c.top_up_min, "full-0"), 201, "top-up before")
        filler = data / "filler"
        # Unbuffered: every write meets the full disk itself, none is left for close().
        with open(filler, "wb", buffering=0) as f:
            for size in (1 << 20, 4096, 512):
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError:
                    pass
        answers, seen_full = [], False
        # SQLite may still have room in its files (free pages, a WAL it rewrites): write until
        # the disk's refusal shows, within a bound.
        for i in range(1, 400):
            a = top_up(leman, c, c.top_up_min + Decimal(i) / 100, f"full-{i}")
            answers.append(a)
            if a.status == 507:
                seen_full = True
                if sum(1 for x in answers if x.status == 507) >= 3:
                    break
        statuses = sorted({(a.status, code_of(a)) for a in answers})
        figure("sqlite disk full: writes until the first 507", str(next(
            (i + 1 for i, a in enumerate(answers) if a.status == 507), "none")))
        check(leg, "writes answer 507 storage_full problem+json (or succeed while SQLite has room), never 500",
              seen_full and all((a.status == 507 and code_of(a) == "storage_full"
                                 and "retry-after" in a.headers) or a.status == 201 for a in answers),
              f"({statuses})")
        check(leg, "reads still answer 200 on a full disk",
              http("GET", leman.base + "/v1/me", c.token).status == 200)
        filler.unlink()
        ok_after = False
        for tries in range(1, 11):
            if top_up(leman, c, c.top_up_min + Decimal(900 + tries) / 100, f"full-after-{tries}").status == 201:
                ok_after = True
                break
            time.sleep(0.2)
        check(leg, "space freed: writes succeed without restarting leman", ok_after and leman.alive())
        acked = {Decimal(f"{c.top_up_min + Decimal(i) / 100:.2f}") for i, a in enumerate(answers, 1) if a.status == 201}
        applied = {Decimal(r["amount"]["amount"]) for r in ledger(leman, c) if r["kind"] == "top_up"}
        check(leg, "every acknowledged top-up is in the ledger", acked <= applied,
              f"({len(acked)} acknowledged on the full disk)")
    finally:
        leman.stop()
        result = integrity(db) if db.exists() else "no database"
        check(leg, "PRAGMA integrity_check", result == "ok", f"({result})")
        run(["umount", str(data)])


def main() -> int:
    binary, bindir, state, openapi = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    legs = [("postgres", lambda: postgres_leg(binary, bindir, state, openapi)),
            ("sqlite read-only", lambda: read_only_leg(binary, state)),
            ("sqlite disk full", lambda: disk_full_leg(binary, state))]
    only = os.environ.get("OUTAGE_LEGS")
    for name, leg in legs:
        if only and name.split()[-1] not in only.split(","):
            continue
        try:
            leg()
        except Exception as e:  # noqa: BLE001 - a leg that crashes is a failed check
            check(name, "the leg ran to its end", False, f"({type(e).__name__}: {e})")
    print()
    print(f"{'result':8} {'leg':18} check")
    for ch in CHECKS:
        mark = "SKIPPED" if ch.ok is None else ("PASS" if ch.ok else "FAIL")
        print(f"{mark:8} {ch.leg:18} {ch.name} {ch.detail}")
    print()
    for name, value in FIGURES:
        print(f"  {name:58} {value}")
    print(f"  {'total run time':58} {now() - T0:.1f} s")
    failed = [ch for ch in CHECKS if ch.ok is False]
    print(f"\noutage-test: {'FAILED' if failed else 'passed'} ({len(failed)} failed, "
          f"{sum(1 for ch in CHECKS if ch.ok)} passed, {sum(1 for ch in CHECKS if ch.ok is None)} skipped)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
