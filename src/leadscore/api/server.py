"""`leadscore serve`: one process with the API (uvicorn) and the worker — processing due
contacts and delivering the outbox — on a thread beside it.

The socket is bound here, before uvicorn starts, so that a port in use is a placed mistake
(LS610) and `--port 0` can say which port it got. SIGTERM (or Ctrl-C) makes uvicorn stop
accepting, finish the requests in flight and close; then the worker finishes its pass and
stops. The API and the worker each have their own `Project` (their own store connections).
With `--workers N` (PostgreSQL only: SQLite has one writer), uvicorn runs N API processes on
the one socket, each making its app from the project folder (`app_from_environment`)."""

from __future__ import annotations

import faulthandler
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:
    from fastapi import FastAPI

    from leadscore.automation.worker import WorkerStats
    from leadscore.project import Project

PROJECT_ENV = "LEADSCORE_SERVE_PROJECT"  # the project folder, for --workers' processes
GRACE_SECONDS = 30  # how long in-flight requests may take to finish after SIGTERM
# the worker beside the API starts a pass at most this often while events stream in: each
# pass has a fixed cost (reading the due contacts' history) and, on SQLite, holds the write
# lock the API's requests need (ARCHITECTURE.md, "Decisions in `api`")
WORKER_GATHER_SECONDS = 0.1
# a thread holding the GIL (the worker, scoring) keeps it up to this long before a thread
# whose I/O finished (a request's commit) may run on: Python's default, 5 ms, made every
# request wait a few times that for the worker (ARCHITECTURE.md)
SWITCH_INTERVAL = 0.0005
WORKER_BATCH_SQLITE = 100  # due contacts per pass on SQLite (500: a pass of 0.4–0.75 s)
# still running this long after SIGTERM/Ctrl-C: every thread's stack goes to stderr (once), so
# that a stop that hangs says where — the grace above plus a worker's pass stay well under it
STOP_REPORT_SECONDS = 45.0


@dataclass
class ServeResult:
    host: str
    port: int
    worker: WorkerStats | None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one); LS610 when it cannot be."""
    try:
        family, _, proto = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][:3]
        # the protocol named (IPPROTO_TCP, not 0): asyncio sets TCP_NODELAY only on sockets
        # that say so, and without it every answer waited ~40 ms for the client's delayed ACK
        sock = socket.socket(family, socket.SOCK_STREAM, proto or socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise LeadscoreError.single(
            "LS610", f"cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}",
            Location(field="--host"), text=host, hint="pass an address of this machine, such "
            "as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise LeadscoreError.single(
            "LS610", f"cannot listen on {host}:{port}: {error.strerror or error}",
            Location(field="--port"), text=str(port),
            hint="another program is using it: pass --port N, or --port 0 for any free port"
        ) from None
    sock.set_inheritable(True)
    return sock


def check_workers(project: Project, workers: int) -> None:
    if workers > 1 and project.store_kind == "sqlite":
        raise LeadscoreError.single(
            "LS613", f"--workers {workers}: the embedded SQLite store has one writer, so it is "
                     "served by one process", Location(field="--workers"), text=str(workers),
            hint="leave out --workers on SQLite, or use a PostgreSQL store ([store] url)")


def app_from_environment() -> FastAPI:
    """The app of one of `--workers`' processes: the project folder comes by environment."""
    from leadscore.api.app import create_app
    from leadscore.project import Project

    return create_app(Project.open(os.environ[PROJECT_ENV]))


def _report_slow_stop() -> None:
    """From the moment a stop is asked: if the process still runs `STOP_REPORT_SECONDS` later,
    faulthandler writes every thread's stack to stderr ("Timeout (0:00:45)!" and the stacks),
    from its own C thread — nothing here takes a lock a signal may have interrupted."""
    try:
        faulthandler.dump_traceback_later(STOP_REPORT_SECONDS, exit=False, file=sys.stderr)
    except (AttributeError, OSError, ValueError):  # a stderr without a file (io.Unsupported…)
        pass


def _uvicorn_server() -> type:
    import uvicorn

    class _Server(uvicorn.Server):  # type: ignore[misc]
        def handle_exit(self, sig: int, frame: Any) -> None:
            if not self.should_exit:
                _report_slow_stop()
            super().handle_exit(sig, frame)

    return _Server


class _Worker(threading.Thread):
    """`run_worker` on a thread; an error ends the server (`on_error`)."""

    def __init__(self, project: Project, on_error: Callable[[], None],
                 echo: Callable[[str], None] | None) -> None:
        from leadscore.automation.worker import StopFlag

        super().__init__(name="leadscore-worker", daemon=True)
        self.project, self.on_error, self.echo = project, on_error, echo
        self.stop = StopFlag()
        self.stats: WorkerStats | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        from leadscore.automation.worker import run_worker

        try:
            # on SQLite a pass holds the one write lock the API's requests wait for
            batch = WORKER_BATCH_SQLITE if self.project.store_kind == "sqlite" else 500
            # the same active contacts come back pass after pass: their rows in the
            # (immutable) segments are read from the files once
            self.project.keep_segment_rows()
            self.stats = run_worker(self.project, stop=self.stop, echo=self.echo,
                                    gather=WORKER_GATHER_SECONDS, batch=batch)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self.error = error
            self.on_error()


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          announce: Callable[[str], None] = print,
          echo: Callable[[str], None] | None = None) -> ServeResult:
    """Serve the project at `root` until SIGTERM or Ctrl-C; `announce` gets the address
    line once the socket listens."""
    import uvicorn

    from leadscore.api.app import create_app
    from leadscore.project import Project

    _Server = _uvicorn_server()

    api_project = Project.open(root)
    worker_project: Project | None = None
    closing: list[Callable[[], None]] = []  # the app's own connections (its event writer)
    try:
        check_workers(api_project, workers)
        _ = api_project.model, api_project.automation  # a broken model: an error before serving
        sock = bind(host, port)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        worker_project = Project.open(root)
        options: dict[str, Any] = {"log_level": "warning", "access_log": False,
                                   "timeout_graceful_shutdown": GRACE_SECONDS,
                                   "lifespan": "off", "server_header": False}
        if workers > 1:
            os.environ[PROJECT_ENV] = str(root)
            config = uvicorn.Config("leadscore.api.server:app_from_environment", factory=True,
                                    workers=workers, **options)
        else:
            app = create_app(api_project)
            closing.append(app.state.served.close)
            config = uvicorn.Config(app, **options)
        server = _Server(config)

        def stop_server() -> None:
            server.should_exit = True

        worker = _Worker(worker_project, stop_server, echo)
        # uvicorn re-raises SIGTERM/SIGINT after its graceful stop: to these handlers
        stopping = {"signal": False}

        def handled(*_: object) -> None:
            stopping["signal"] = True

        previous = {sig: signal.signal(sig, handled) for sig in (signal.SIGTERM, signal.SIGINT)}
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        worker.start()
        try:
            announce(f"Serving the leadscore API on http://{shown}:{bound} ({workers} "
                     f"process{'es' if workers > 1 else ''}, store {api_project.store_kind}"
                     "; the worker runs beside it), and the web app on "
                     f"http://{shown}:{bound}/. Stop with Ctrl-C or SIGTERM.")
            if workers > 1:
                from uvicorn.supervisors import Multiprocess

                Multiprocess(config, sockets=[sock]).run()
            else:
                server.run(sockets=[sock])
        finally:
            worker.stop.request()
            worker.join(timeout=120)
            sys.setswitchinterval(switch)
            sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if worker.error is not None:
            raise worker.error
        return ServeResult(host, bound, worker.stats)
    finally:
        for close in closing:
            close()
        api_project.close()
        if worker_project is not None:
            worker_project.close()
        faulthandler.cancel_dump_traceback_later()


__all__ = ["PROJECT_ENV", "ServeResult", "app_from_environment", "bind", "check_workers", "serve"]
