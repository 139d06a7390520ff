"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a background thread.

It checks every request's signature with the shared secret (a bad one is answered 401 and
counted in `bad_signatures`), records every request, and accepts each good one with 200 —
including repeats of an Idempotency-Key it has accepted before, as an idempotent receiver
does (those are counted in `duplicates`). It can be told to fail the next requests
(`fail_next`) or to hang before answering (`hang_next`, for timeout tests).

    with WebhookReceiver(secret="s3cret") as receiver:
        ... point a channel at receiver.url ...
        assert receiver.wait_for(1)
        assert receiver.unique() == 1 and receiver.duplicates == 0
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from leadscore.delivery.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver saw it, and how it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    key: str | None
    signature_ok: bool
    status: int  # the status answered
    received_at: float = field(default_factory=time.perf_counter)  # for latency measurements

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """See the module docstring. Thread-safe; a context manager that starts and stops it."""

    def __init__(self, secret: str = "test-secret", *, path: str = "/hook",
                 tolerance_seconds: float = 300) -> None:
        self.secret = secret
        self.path = path
        self.tolerance_seconds = tolerance_seconds
        self.requests: list[ReceivedRequest] = []
        self.bad_signatures = 0
        self._lock = threading.Condition()
        self._failures: list[int] = []  # statuses to answer, next first
        self._hangs: list[float] = []  # seconds to hang, next first
        self._released = threading.Event()  # set on stop: hanging handlers give up
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life ----------------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02},  # quick to stop
                                        name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the receiver is not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    # -- behaviour -----------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next `count` well-signed requests with `status` (not accepting them)."""
        with self._lock:
            self._failures.extend([status] * count)

    def hang_next(self, count: int = 1, seconds: float = 2.0) -> None:
        """Wait `seconds` before handling each of the next `count` requests; they are then
        answered 504 and not accepted (the client has usually timed out by then)."""
        with self._lock:
            self._hangs.extend([seconds] * count)

    # -- what was seen -------------------------------------------------------------------

    def received(self) -> list[ReceivedRequest]:
        """The accepted requests (well signed, answered 2xx), in order."""
        with self._lock:
            return [request for request in self.requests if request.accepted]

    def keys(self) -> list[str | None]:
        return [request.key for request in self.received()]

    def unique(self) -> int:
        """How many distinct Idempotency-Keys were accepted."""
        return len(set(self.keys()))

    @property
    def duplicates(self) -> int:
        """Accepted requests whose Idempotency-Key had been accepted before."""
        return len(self.received()) - self.unique()

    def payloads(self) -> list[Any]:
        """The JSON bodies of the accepted requests, one per distinct key, first seen first."""
        seen: dict[str | None, Any] = {}
        for request in self.received():
            seen.setdefault(request.key, request.json())
        return list(seen.values())

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least `count` requests were accepted; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(1 for r in self.requests if r.accepted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    # -- serving -------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if len(body) < length:  # the sender went away mid-request (killed): nothing arrived
            return
        with self._lock:
            hang = self._hangs.pop(0) if self._hangs else None
        if hang is not None and self._released.wait(hang):
            return  # stopping: drop the request unanswered
        ok = verify(self.secret, handler.headers.get(TIMESTAMP_HEADER), body,
                    handler.headers.get(SIGNATURE_HEADER),
                    tolerance_seconds=self.tolerance_seconds)
        with self._lock:
            if not ok:
                status = 401
                self.bad_signatures += 1
            elif self._failures:
                status = self._failures.pop(0)
            else:
                status = 200
            if hang is not None and status == 200:
                status = 504  # hung: not accepted (the client has given up by now)
            self.requests.append(ReceivedRequest(
                path=handler.path, headers=dict(handler.headers.items()), body=body,
                key=handler.headers.get(IDEMPOTENCY_HEADER), signature_ok=ok, status=status,
            ))
            self._lock.notify_all()
        answer = json.dumps({"ok": status == 200}).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(answer)))
            handler.end_headers()
            handler.wfile.write(answer)
        except OSError:
            pass  # the client hung up (it timed out)
