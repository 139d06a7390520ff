"""`leadscore serve` end to end, as a user runs it: a subprocess on a free port (`--port 0`,
read from its first line), a key made by `leadscore keys create`, an event sent and a score
read over HTTP, and SIGTERM — with a request still in flight — ending it cleanly (exit 0)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import make_project
from tests.databases import create_database

pytestmark = pytest.mark.slow


def leadscore(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LEADSCORE_STORE_URL", None)
    return subprocess.run([sys.executable, "-m", "leadscore", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def start(root: Path, *args: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LEADSCORE_STORE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "leadscore", "serve", "--port", "0", *args],
                              cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    first = server.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if found is None:
        server.kill()
        raise AssertionError(f"no address in {first!r}: {server.stderr.read()}")  # type: ignore
    return server, int(found.group(1))


def stop(server: subprocess.Popen) -> tuple[int, str, str]:
    server.send_signal(signal.SIGTERM)
    out, err = server.communicate(timeout=60)
    return server.returncode, out, err


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    make_project(root, contacts=40, events=600).close()
    return root


def key(root: Path, scopes: str) -> str:
    made = leadscore(root, "keys", "create", "--scopes", scopes, "--name", "test")
    assert made.returncode == 0, made.stderr
    assert "shown once" in made.stderr
    return made.stdout.strip()


def test_serve_ingests_and_answers_then_stops_cleanly_on_sigterm(project):
    secret = key(project, "ingest,read")
    server, port = start(project)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {secret}"}
        event = {"event_id": "serve-1", "contact_id": "c0000001", "type": "form_submission",
                 "occurred_at": "2026-11-01T10:00:00Z",
                 "attributes": {"form_id": "demo-request"}}
        sent = httpx.post(f"{base}/v1/events", json={"events": [event]}, headers=headers)
        assert sent.status_code == 200 and sent.json()["inserted"] == 1
        scores = httpx.get(f"{base}/v1/contacts/c0000001/scores", headers=headers)
        assert scores.status_code == 200 and "total" in scores.json()["scores"]
        assert httpx.get(f"{base}/v1/leads").status_code == 401

        # a request in flight when SIGTERM comes is answered before the server stops
        body = json.dumps({"events": [{**event, "event_id": "serve-2"}]}).encode()
        raw = socket.create_connection(("127.0.0.1", port))
        raw.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + f"Authorization: Bearer {secret}\r\nContent-Length: {len(body)}\r\n\r\n"
                    .encode() + body[:10])
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        raw.sendall(body[10:])
        answer = raw.recv(65536).decode()
        raw.close()
        assert answer.startswith("HTTP/1.1 200"), answer
        code, out, err = stop(server)
    finally:
        if server.poll() is None:
            server.kill()
    assert code == 0, err
    assert "Traceback" not in err
    assert "Stopped serving" in out and "the worker stopped" in out
    assert secret not in out + err  # keys are never logged


def test_a_busy_port_is_a_one_line_error(project):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        done = leadscore(project, "serve", "--port", str(taken.getsockname()[1]))
    finally:
        taken.close()
    assert done.returncode == 1
    assert "LS610" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith("<input> (--port): error LS610: cannot listen")


def test_more_than_one_worker_is_refused_on_sqlite(project):
    done = leadscore(project, "serve", "--workers", "2")
    assert done.returncode == 1 and "LS613" in done.stderr


def test_keys_list_and_revoke(project):
    secret = key(project, "sales")
    listed = leadscore(project, "keys", "list", "--format", "json")
    keys = json.loads(listed.stdout)
    mine = next(k for k in keys if secret.startswith(k["prefix"].rstrip("…")))
    assert mine["scopes"] == "sales" and not mine["revoked"]
    assert secret not in listed.stdout
    revoked = leadscore(project, "keys", "revoke", str(mine["id"]))
    assert revoked.returncode == 0
    again = json.loads(leadscore(project, "keys", "list", "--format", "json").stdout)
    assert next(k for k in again if k["id"] == mine["id"])["revoked"]
    missing = leadscore(project, "keys", "revoke", "9999")
    assert missing.returncode == 1 and "LS612" in missing.stderr
    bad = leadscore(project, "keys", "create", "--scopes", "reed")
    assert bad.returncode == 1 and "did you mean 'read'" in bad.stderr


@pytest.mark.postgres
def test_serve_with_two_processes_on_postgresql(tmp_path, postgres_admin):
    import secrets as random

    import sqlalchemy as sa

    name = f"leadscore_serve_{random.token_hex(6)}"
    create_database(postgres_admin, name)
    try:
        make_project(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                     contacts=20, events=200).close()
        secret = key(tmp_path, "read")
        server, port = start(tmp_path, "--workers", "2")
        try:
            for _ in range(4):
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/leads",
                                   headers={"Authorization": f"Bearer {secret}"}, timeout=30)
                assert answer.status_code == 200, answer.text
            code, out, err = stop(server)
        finally:
            if server.poll() is None:
                server.kill()
        assert code == 0, err
        assert "Traceback" not in err
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_stop_that_hangs_writes_every_threads_stack(monkeypatch, tmp_path):
    """Still running STOP_REPORT_SECONDS after SIGTERM: the threads' stacks go to stderr, so
    that a stop that hangs says where (and once stopped, nothing is written)."""
    import faulthandler
    import sys
    import threading
    import time

    from leadscore.api import server

    stuck = threading.Event()
    thread = threading.Thread(target=stuck.wait, name="stuck-worker", daemon=True)
    thread.start()
    out = (tmp_path / "stderr").open("w+")
    monkeypatch.setattr(server, "STOP_REPORT_SECONDS", 0.2)
    monkeypatch.setattr(sys, "stderr", out)
    try:
        server._report_slow_stop()
        deadline = time.monotonic() + 10
        while "Timeout" not in (tmp_path / "stderr").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        server._report_slow_stop()
        faulthandler.cancel_dump_traceback_later()  # a stop that ended: nothing more written
        time.sleep(0.4)
    finally:
        stuck.set()
        out.close()
    text = (tmp_path / "stderr").read_text()
    assert text.count("Timeout (0:00:00.200000)!") == 1, text
    assert text.count("Thread 0x") >= 2 and "in wait" in text, text  # every thread, the stuck one
