"""`make bench-api` (and part of `make bench`): the HTTP API's speed, each figure beside a bare
FastAPI + SQLite insert endpoint measured in the same run.

The baseline is the least an API on this stack can cost: one FastAPI app with one POST route
that validates the same body with pydantic and inserts each event as one row into a SQLite
file (WAL, synchronous=NORMAL, a connection per thread), served by uvicorn exactly as
`leadscore serve` serves (one process, the same uvicorn options, a socket bound to port 0).
Both servers run as subprocesses; the load comes from this process.

1. single events: one event per request from 8 concurrent keep-alive connections for a few
   seconds, while `leadscore serve`'s worker rescores the contacts as they arrive (the
   example project: lists, workflows, notifications). Goal ≥ 80 % of the baseline's
   requests/s, p99 ≤ 50 ms.
2. batches of 100 events from 8 connections. Goal ≥ 30,000 events/s.
3. event → webhook: events sent at a steady 1,000/s (single-event requests); every 20th is a
   demo request by a contact that becomes sales-ready on it, so the example `sql-handoff`
   workflow notifies; a local receiver (free port) verifies each signature and timestamps
   it. Goal p99 ≤ 250 ms from the request leaving the client to the webhook arriving.

On SQLite and on PostgreSQL (a throwaway database per run, dropped afterwards). The load
generator is a small asyncio HTTP/1.1 client (pre-encoded requests, keep-alive, no parsing
beyond the status line and Content-Length): its CPU time per request is printed, and its
rate against the bare endpoint bounds what it can measure on this 2-core machine.

    python benchmarks/bench_api.py [--store sqlite|postgresql|both] [--seconds S] [--json]
    python benchmarks/bench_api.py --bare-server DB   # the baseline server alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret"
GOAL_SINGLE_RATIO = 0.80
GOAL_SINGLE_P99_MS = 50.0
GOAL_BATCH_EVENTS = 30_000
GOAL_WEBHOOK_P99_MS = 250.0
CONNECTIONS = 8
TICK = 0.02  # event → webhook: a request every 20 ms carrying the events of that moment
FIT_20 = {"job_title": "Marketing Manager", "employees": 30, "industry": "retail",
          "country": "united kingdom"}
PAGES = ["/blog/a", "/blog/b", "/customers/acme", "/product/tour", "/docs/start", "/pricing"]


# -- the baseline server -------------------------------------------------------------------------

def bare_server(database: str) -> None:
    """Serve the bare endpoint (POST /v1/events: each event one INSERT, one commit per request)
    on a free port, announced on stdout as `leadscore serve` does; stop on SIGTERM."""
    import sqlite3

    import uvicorn
    from fastapi import FastAPI

    from leadscore.api.server import GRACE_SECONDS, bind

    db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, contact_id "
               "TEXT NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL, attributes "
               "TEXT NOT NULL)")
    app = FastAPI()

    # async: on the event loop, one request at a time on the one connection (a sync route
    # on the thread pool would have its threads meet at SQLite's write lock, whose busy
    # handler sleeps 1–100 ms: that measured 154 requests/s, p50 49 ms)
    @app.post("/v1/events")
    async def post_events(body: BareEvents) -> dict[str, int]:
        db.execute("BEGIN")
        cursor = db.executemany(
            "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
            [(e.event_id, e.contact_id, e.type, e.occurred_at, json.dumps(e.attributes))
             for e in body.events])
        db.execute("COMMIT")
        return {"received": len(body.events), "inserted": cursor.rowcount}

    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(app, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=GRACE_SECONDS, lifespan="off",
                            server_header=False)
    print(f"Serving the bare endpoint on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


class BareEvent(BaseModel):
    event_id: str
    contact_id: str
    type: str
    occurred_at: str
    attributes: dict[str, Any] = {}


class BareEvents(BaseModel):
    events: list[BareEvent]
    create_contacts: bool = False


# -- servers as subprocesses ---------------------------------------------------------------------

@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (/proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(command: list[str], cwd: Path, log: Path) -> Server:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("LEADSCORE_STORE_URL", None)
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=log.open("w"), text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if found is None:
        process.kill()
        raise SystemExit(f"the server did not start: {first!r}\n{log.read_text()}")
    # the rest of its output (the worker's passes) goes to a file beside the log
    threading_drain(process.stdout, log.with_suffix(".out"))
    return Server(process, int(found.group(1)), log)


def threading_drain(stream: Any, path: Path) -> None:
    import threading

    def drain() -> None:
        with path.open("w") as out:
            for line in stream:
                out.write(line)

    threading.Thread(target=drain, daemon=True).start()


# -- the load generator --------------------------------------------------------------------------

def request_bytes(path: str, body: bytes, key: str | None) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n")
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    return head.encode() + b"\r\n" + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if length is None:
        raise RuntimeError(f"no Content-Length in {head[:200]!r}")
    await reader.readexactly(int(length.group(1)))
    return status


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


@dataclass
class Run:
    requests: int = 0
    events: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else -1.0

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "events": self.events, "seconds": round(self.seconds, 2),
                "requests_per_s": round(self.rate), "events_per_s": round(self.events_per_s),
                "p50_ms": round(self.pct(0.50), 1), "p99_ms": round(self.pct(0.99), 1),
                "max_ms": round(max(self.latencies_ms, default=-1), 1), "errors": self.errors,
                "client_cpu_us_per_request": round(self.client_cpu / max(self.requests, 1) * 1e6),
                "server_cpu_share": round(self.server_cpu / self.seconds, 2)
                if self.seconds else 0}


def closed_loop(server: Server, make_body: Any, per_request: int, seconds: float,
                key: str | None, warmup: float = 1.0, connections: int = CONNECTIONS) -> Run:
    """`connections` clients, each sending its next request as soon as the answer came, for
    `warmup` seconds (not counted) and then `seconds`."""
    run = Run()

    async def client(index: int, begin: float, end: float) -> None:
        reader, writer = await connect(server.port)
        serial = 0
        try:
            while True:
                serial += 1
                request = request_bytes("/v1/events", make_body(index, serial), key)
                sent = time.perf_counter()
                if sent >= end:
                    return
                status = await exchange(reader, writer, request)
                done = time.perf_counter()
                if sent < begin:
                    continue
                if status == 200:
                    run.requests += 1
                    run.events += per_request
                    run.latencies_ms.append((done - sent) * 1000)
                else:
                    run.errors[status] = run.errors.get(status, 0) + 1
        finally:
            writer.close()

    async def main() -> None:
        begin = time.perf_counter() + warmup
        end = begin + seconds
        await asyncio.gather(*(client(i, begin, end) for i in range(connections)))

    cpu, server_cpu = time.process_time(), server.cpu_seconds()
    started = time.perf_counter()
    asyncio.run(main())
    run.seconds = time.perf_counter() - started - warmup
    total = time.perf_counter() - started
    # CPU over the whole call (warm-up included), scaled to the measured part
    run.client_cpu = (time.process_time() - cpu) * run.seconds / total
    run.server_cpu = (server.cpu_seconds() - server_cpu) * run.seconds / total
    return run


def open_loop(server: Server, bodies: list[tuple[bytes, str | None]], rate: float,
              key: str | None, connections: int = CONNECTIONS,
              per_request: int = 1) -> tuple[Run, dict[str, float]]:
    """Send `bodies` (one request each) at `rate` requests/s over `connections` clients, each
    taking the next scheduled request when free. Returns the run and, per tagged body, the
    moment (perf_counter) its request was written."""
    run = Run()
    sent_at: dict[str, float] = {}
    lag: list[float] = []
    position = 0

    async def client(start: float) -> None:
        nonlocal position
        reader, writer = await connect(server.port)
        try:
            while position < len(bodies):
                index = position
                position += 1
                body, tag = bodies[index]
                due = start + index / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                request = request_bytes("/v1/events", body, key)
                sent = time.perf_counter()
                lag.append(sent - due)
                if tag is not None:
                    sent_at[tag] = sent
                status = await exchange(reader, writer, request)
                if status == 200:
                    run.requests += 1
                    run.events += per_request
                    run.latencies_ms.append((time.perf_counter() - sent) * 1000)
                else:
                    run.errors[status] = run.errors.get(status, 0) + 1
        finally:
            writer.close()

    async def main() -> None:
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(client(start) for _ in range(connections)))

    cpu, server_cpu = time.process_time(), server.cpu_seconds()
    started = time.perf_counter()
    asyncio.run(main())
    run.seconds = time.perf_counter() - started - 0.2
    run.client_cpu = time.process_time() - cpu
    run.server_cpu = server.cpu_seconds() - server_cpu
    lag.sort()
    return run, {"schedule_lag_p99_ms": round(lag[int(len(lag) * 0.99)] * 1000, 1) if lag
                 else -1.0, "sent_at": sent_at}  # type: ignore[dict-item]


# -- bodies --------------------------------------------------------------------------------------

class Bodies:
    """Events for existing contacts: bursty, as real activity is (sessions of one to eight
    page views by a few hundred contacts active at a time, drifting; the stream of
    bench_automation.py), each with its own event id."""

    def __init__(self, contacts: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.contacts = contacts
        self.run = uuid.uuid4().hex[:8]
        self.count = 0
        self.active = [self._anyone() for _ in range(400)]
        self.session: list[str] = []

    def _anyone(self) -> str:
        return f"c{self.rng.randrange(1, self.contacts + 1):07d}"

    def _next_contact(self) -> str:
        if not self.session:
            self.session = [self.rng.choice(self.active)] * self.rng.randint(1, 8)
            if self.rng.random() < 0.05:
                self.active[self.rng.randrange(len(self.active))] = self._anyone()
        return self.session.pop()

    def event(self, cid: str | None = None, kind: str = "page_view",
              attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        self.count += 1
        return {"event_id": f"b-{self.run}-{self.count}",
                "contact_id": cid or self._next_contact(),
                "type": kind, "occurred_at": datetime.now(UTC).isoformat(),
                "attributes": attributes if attributes is not None else
                {"url": "https://www.example.com" + self.rng.choice(PAGES)}}

    def body(self, size: int) -> bytes:
        return json.dumps({"events": [self.event() for _ in range(size)]}).encode()


# -- the leadscore project -----------------------------------------------------------------------

def store_url(kind: str, folder: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return "sqlite:///.leadscore/store.db", None
    import sqlalchemy as sa

    name = f"leadscore_bench_api_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


def make_project(root: Path, url: str, receiver_url: str, contacts: int, quiet: int) -> str:
    """The example project on `url`, its webhook channel at the receiver: `contacts` synthetic
    contacts with history, imported and processed, and `quiet` contacts who fit (20 points)
    and have done nothing yet (a demo request makes each sales-ready). Returns an ingest key."""
    from leadscore import Project, synthetic
    from leadscore.delivery import deliver_due
    from leadscore.project.scaffold import init_project
    from leadscore.storage import ContactInput

    init_project(root)
    config = (root / "leadscore.toml").read_text()
    config = config.replace('url = "sqlite:///.leadscore/store.db"', f'url = "{url}"')
    config = config.replace('url = "http://127.0.0.1:8765/leadscore"', f'url = "{receiver_url}"')
    config = config.replace('secret = "example-secret-change-me"', f'secret = "{SECRET}"')
    config += '\n[api]\nrate_limit = "100000000/min"\n'  # on, but never reached
    (root / "leadscore.toml").write_text(config)
    now = datetime.now(UTC)
    data = synthetic.generate(contacts, contacts * 5, seed=11, now=now - timedelta(days=1),
                              days=365)
    synthetic.write_contacts_csv(data, root / "contacts.csv")
    synthetic.write_events_jsonl(data, root / "events.jsonl")
    with Project.open(root) as project:
        project.import_contacts(root / "contacts.csv")
        project.import_events(root / "events.jsonl")
        automation = project.automation
        automation.update_contacts(
            [ContactInput(f"q{i:06d}", now, email=f"q{i}@acme.example", created_at=now,
                          properties={"email": f"q{i}@acme.example", **FIT_20})
             for i in range(quiet)], source="crm", now=now)
        automation.activate(now=now)
        automation.process_all(now=now, limit=2000)
        deliver_due(project.store, project.channels, now=now, limit=1_000_000)
        if project.store.dialect == "postgresql":
            import sqlalchemy as sa

            with project.store.engine.connect() as connection:
                connection.execute(sa.text("CHECKPOINT"))
        return project.create_api_key(["ingest"], name="bench").secret


# -- the measurements ----------------------------------------------------------------------------

def measure_baseline(folder: Path, seconds: float, rate: int) -> dict[str, Any]:
    server = start([sys.executable, __file__, "--bare-server", str(folder / "bare.db")], folder,
                   folder / "bare.log")
    try:
        bodies = Bodies(10_000, seed=1)
        single = closed_loop(server, lambda i, n: bodies.body(1), 1, seconds, None)
        batch = closed_loop(server, lambda i, n: bodies.body(100), 100, seconds, None)
        # the same steady feed as the webhook measurement: the bare request's own latency
        per_request = max(1, round(rate * TICK))
        feed: list[tuple[bytes, str | None]] = [(bodies.body(per_request), None)
                                                for _ in range(int(5 / TICK))]
        steady, _ = open_loop(server, feed, 1 / TICK, None, per_request=per_request)
    finally:
        server.stop()
    return {"single": single.summary(), "batch": batch.summary(), "steady": steady.summary()}


def measure_leadscore(kind: str, folder: Path, seconds: float, contacts: int, rate: int,
                      webhook_seconds: float) -> dict[str, Any]:
    from tests.delivery.receiver import WebhookReceiver

    url, drop = store_url(kind, folder)
    root = folder / f"project-{kind}"
    quiet = int(webhook_seconds / TICK) + 50
    try:
        with WebhookReceiver(secret=SECRET) as receiver:
            started = time.perf_counter()
            key = make_project(root, url, receiver.url, contacts, quiet)
            setup = time.perf_counter() - started
            server = start([sys.executable, "-m", "leadscore", "serve", "--port", "0"], root,
                           folder / f"serve-{kind}.log")
            try:
                time.sleep(1.0)  # the worker's first pass
                bodies = Bodies(contacts, seed=2)
                single = closed_loop(server, lambda i, n: bodies.body(1), 1, seconds, key)
                batch = closed_loop(server, lambda i, n: bodies.body(100), 100, seconds, key)
                time.sleep(3.0)  # let the worker catch up with what the batches made due
                receiver.requests.clear()
                # a request every TICK seconds with the events of that moment, one of them
                # a demo request (so every 20th event): each request is tagged by its demo
                feed: list[tuple[bytes, str | None]] = []
                per_request = max(1, round(rate * TICK))
                for n in range(int(webhook_seconds / TICK)):
                    cid = f"q{n:06d}"
                    events = [bodies.event(cid, "form_submission", {"form_id": "demo-request"})]
                    events += [bodies.event() for _ in range(per_request - 1)]
                    feed.append((json.dumps({"events": events}).encode(), cid))
                fed, extra = open_loop(server, feed, 1 / TICK, key, per_request=per_request)
                sent_at: dict[str, float] = extra.pop("sent_at")  # type: ignore[assignment]
                expected = len(sent_at)
                receiver.wait_for(expected, timeout=30)
                time.sleep(0.5)
                delays = []
                duplicates = receiver.duplicates
                for request in receiver.received():
                    body = request.json()
                    cid = body.get("contact_id")
                    if cid in sent_at and body.get("type") == "notification":
                        delays.append((request.received_at - sent_at.pop(cid)) * 1000)
                delays.sort()
            finally:
                server.stop()
            errors = [line for line in (folder / f"serve-{kind}.log").read_text().splitlines()
                      if "Traceback" in line or "ERROR" in line]
            passes = worker_passes(folder / f"serve-{kind}.out")

            def pct(p: float) -> float:
                return round(delays[min(len(delays) - 1, int(len(delays) * p))], 1) \
                    if delays else -1.0

            webhook = {"rate_per_s": rate, "achieved_per_s": round(fed.events / fed.seconds)
                       if fed.seconds else 0, "events_per_request": per_request, **extra,
                       "notifications": len(delays),
                       "expected": expected, "missing": len(sent_at),
                       "duplicates": duplicates, "bad_signatures": receiver.bad_signatures,
                       "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                       "max_ms": round(delays[-1], 1) if delays else -1.0,
                       "request_p99_ms": round(fed.pct(0.99), 1), "errors": fed.errors}
            return {"store": kind, "contacts": contacts, "setup_s": round(setup, 1),
                    "single": single.summary(), "batch": batch.summary(), "webhook": webhook,
                    "worker": passes, "server_errors": errors[:5]}
    finally:
        if drop is not None:
            drop()


def worker_passes(path: Path) -> dict[str, Any]:
    """The worker's passes as `serve` echoed them: how many, contacts, pass times."""
    found = [(int(m.group(1)), int(m.group(2))) for m in re.finditer(
        r"processed (\d+) contacts .* in (\d+) ms", path.read_text())]
    times = sorted(ms for _, ms in found)
    return {"passes": len(found), "contacts": sum(n for n, _ in found),
            "median_ms": times[len(times) // 2] if times else 0,
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(baseline: dict[str, Any], results: list[dict[str, Any]], loads: list[str]) -> None:
    b1, b100 = baseline["single"], baseline["batch"]
    print("leadscore API bench (8 keep-alive connections; uvicorn, one process)")
    print(f"  load: {' | '.join(loads)}")
    print(f"  baseline, bare FastAPI + SQLite insert: single {b1['requests_per_s']:,} req/s, "
          f"p50 {b1['p50_ms']} ms, p99 {b1['p99_ms']} ms (client {b1['client_cpu_us_per_request']}"
          f" µs CPU/request, server {b1['server_cpu_share']} cores); batches of 100 "
          f"{b100['events_per_s']:,} events/s, p99 {b100['p99_ms']} ms")
    for r in results:
        s, b, w = r["single"], r["batch"], r["webhook"]
        ratio = s["requests_per_s"] / b1["requests_per_s"] if b1["requests_per_s"] else 0
        ok = ratio >= GOAL_SINGLE_RATIO and 0 <= s["p99_ms"] <= GOAL_SINGLE_P99_MS
        print(f"  {r['store']} ({r['contacts']:,} contacts, set-up {r['setup_s']} s):")
        print(f"    single events: {s['requests_per_s']:,} req/s ({ratio:.2f}× baseline "
              f"{b1['requests_per_s']:,}), p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms "
              f"(baseline {b1['p99_ms']}), server {s['server_cpu_share']} cores, errors "
              f"{s['errors'] or 'none'}   goal ≥ 0.80×, p99 ≤ 50 ms: {'PASS' if ok else 'MISS'}")
        ratio = b["events_per_s"] / b100["events_per_s"] if b100["events_per_s"] else 0
        ok = b["events_per_s"] >= GOAL_BATCH_EVENTS
        print(f"    batches of 100: {b['events_per_s']:,} events/s ({ratio:.2f}× baseline "
              f"{b100['events_per_s']:,}), p99 {b['p99_ms']} ms, errors {b['errors'] or 'none'}"
              f"   goal ≥ 30,000 events/s: {'PASS' if ok else 'MISS'}")
        ok = 0 <= w["p99_ms"] <= GOAL_WEBHOOK_P99_MS and not w["missing"]
        print(f"    event → webhook at {w['achieved_per_s']:,} events/s (asked {w['rate_per_s']:,}"
              f", {w['events_per_request']} per request every {TICK * 1000:g} ms; "
              f"schedule lag p99 {w['schedule_lag_p99_ms']} ms): {w['notifications']} of "
              f"{w['expected']} notifications, p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms, max "
              f"{w['max_ms']} ms; the requests' own p99 {w['request_p99_ms']} ms (baseline at "
              f"the same rate {baseline['steady']['p99_ms']} ms); duplicates "
              f"{w['duplicates']}, bad signatures {w['bad_signatures']}   goal p99 ≤ 250 ms: "
              f"{'PASS' if ok else 'MISS'}")
        p = r["worker"]
        print(f"    worker beside them: {p['passes']:,} passes, {p['contacts']:,} contacts, a "
              f"pass {p['median_ms']} ms (median), {p['p99_ms']} ms (p99)")
        if r["server_errors"]:
            print(f"    server log: {r['server_errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=8.0, help="each closed-loop run")
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=1000, help="event → webhook feed, events/s")
    parser.add_argument("--webhook-seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bare-server", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return
    kinds = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    folder = Path(tempfile.mkdtemp(prefix="leadscore-bench-api-"))
    loads = [uptime()]
    try:
        baseline = measure_baseline(folder, args.seconds, args.rate)
        results = []
        for kind in kinds:
            results.append(measure_leadscore(kind, folder, args.seconds, args.contacts,
                                             args.rate, args.webhook_seconds))
            loads.append(uptime())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps({"baseline": baseline, "results": results, "uptime": loads}, indent=2))
        return
    report(baseline, results, loads)


if __name__ == "__main__":
    main()
