"""A local receiver for leadscore's webhooks: verifies each signature with the channel's
secret and shows what arrived. For trying a project out (`leadscore receive`) and for
checking a setup; production receivers verify the same way (docs/delivery.md)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from leadscore.delivery.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Received:
    key: str | None
    verified: bool
    payload: Any


@dataclass
class LocalReceiver:
    secret: str
    host: str = "127.0.0.1"
    port: int = 8765
    on_request: Callable[[Received], None] | None = None
    requests: list[Received] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)

    def bind(self) -> int:
        """Listen on host:port — port 0 picks a free one — and return the port. Raises OSError
        when the port is taken (or not allowed)."""
        if self._server is None:
            self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
            self.port = self._server.server_address[1]
        return self.port

    def serve(self, *, seconds: float | None = None) -> None:
        """Serve until `seconds` pass (forever when None) or the process is interrupted."""
        self.bind()
        server = self._server
        assert server is not None
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        thread.start()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            deadline = None if seconds is None else time.monotonic() + seconds
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()
            self._server = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                ok = verify(receiver.secret, self.headers.get(TIMESTAMP_HEADER), body,
                            self.headers.get(SIGNATURE_HEADER))
                key = self.headers.get("Idempotency-Key")
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                item = Received(key, ok, payload)
                receiver.requests.append(item)
                if ok and key:
                    receiver.keys.add(key)
                self.send_response(200 if ok else 401)
                self.end_headers()
                if receiver.on_request:
                    receiver.on_request(item)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
