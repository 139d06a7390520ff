"""The project an application serves, and how requests — each on a thread of the server's
pool — reach it.

- `call`: under one lock. A `Project` holds one set of store connections and the embedded
  store's one DuckDB connection, so most routes call it one at a time.
- `call_unlocked`: work that is safe on any thread — reads made on the thread's own
  connection (`Store.read_raw`'s readers are per thread; `Store.read` takes a pooled one):
  the API key check and the checks of a batch.
- `ingest_events`: a batch of events is checked on the request's thread, then stored by
  `EventWriter` — group commit: batches that arrive while one is being written are written
  together in the next transaction, by one of their own threads, on a `Project` of the
  writer's own (its own connections, so no wait for the lock of the reads). Each request is
  answered after the commit that stored its batch, as before; one batch that fails alone
  fails alone (a failed group is written again batch by batch).

The worker runs on its own `Project`. `Served` also keeps the per-key rate limit's buckets
(`ratelimit`)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from leadscore.api.ratelimit import RateLimiter

if TYPE_CHECKING:
    from leadscore.project import Project
    from leadscore.project.service_api import CheckedEvents, IngestReport

T = TypeVar("T")
GROUP_EVENTS = 10_000  # at most this many events in one group commit


class Served:
    def __init__(self, project: Project | None) -> None:
        self.project = project
        self.lock = threading.Lock()
        limit = project.config.rate_limit if project is not None else None
        self.limiter = RateLimiter(limit) if limit is not None else None
        self.events: EventWriter | None = None
        if project is not None:
            _ = project.model, project.store  # loaded once, before threads share them
            self.events = EventWriter(project, self.lock)

    def close(self) -> None:
        if self.events is not None:
            self.events.close()


def call(request: Request, work: Callable[[Project], T]) -> T:
    """Run `work(project)` under the project's lock (a sync route runs on a pool thread)."""
    served = _served(request)
    assert served.project is not None, "an app made without a project serves no requests"
    with served.lock:
        return work(served.project)


def call_unlocked(request: Request, work: Callable[[Project], T]) -> T:
    """Run `work(project)` without the lock: only for reads on the thread's own connection
    (see the module docstring)."""
    served = _served(request)
    assert served.project is not None, "an app made without a project serves no requests"
    return work(served.project)


def ingest_events(request: Request, items: list[dict[str, Any]],
                  create_contacts: bool) -> IngestReport:
    """Check a batch of events on this thread, store it by group commit (`EventWriter`)."""
    served = _served(request)
    assert served.project is not None and served.events is not None, \
        "an app made without a project serves no requests"
    checked = served.project.check_event_batch(items, create_contacts=create_contacts)
    return served.events.submit(checked)


def _served(request: Request) -> Served:
    served: Served = request.app.state.served
    return served


class _Slot:
    def __init__(self, checked: CheckedEvents) -> None:
        self.checked = checked
        self.done = False
        self.report: IngestReport | None = None
        self.error: BaseException | None = None

    def outcome(self) -> IngestReport:
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


class EventWriter:
    """Group commit of checked event batches (see the module docstring). The first request
    to find no write in progress writes every batch waiting (up to `GROUP_EVENTS` events per
    transaction) until its own is stored; the others wait for theirs."""

    def __init__(self, project: Project, lock: threading.Lock) -> None:
        self._shared = project
        self._lock = lock
        self._own: Project | None = None
        self._condition = threading.Condition(threading.Lock())
        self._waiting: deque[_Slot] = deque()
        self._writing = False

    def _project(self) -> tuple[Project, AbstractContextManager[Any]]:
        """The writer's own project (its own store connections), or — for a store in memory,
        which one connection holds — the shared one under the lock."""
        shared = self._shared
        if shared.store.location.database is None and shared.store_kind == "sqlite":
            return shared, self._lock
        if self._own is None:
            self._own = type(shared)(shared.config)
        return self._own, nullcontext()

    def submit(self, checked: CheckedEvents) -> IngestReport:
        slot = _Slot(checked)
        with self._condition:
            self._waiting.append(slot)
            while not slot.done and self._writing:
                self._condition.wait()
            if slot.done:
                return slot.outcome()
            self._writing = True
        try:
            while not slot.done:
                with self._condition:
                    group = self._take()
                try:
                    self._write(group)
                except BaseException as error:  # interrupted: no request may wait forever
                    for waiting in group:
                        if not waiting.done:
                            waiting.error, waiting.done = error, True
                    raise
                with self._condition:
                    self._condition.notify_all()
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()
        return slot.outcome()

    def _take(self) -> list[_Slot]:
        group = [self._waiting.popleft()]
        size = group[0].checked.size
        while self._waiting and size + self._waiting[0].checked.size <= GROUP_EVENTS:
            size += self._waiting[0].checked.size
            group.append(self._waiting.popleft())
        return group

    def _write(self, group: list[_Slot]) -> None:
        project, guard = self._project()
        try:
            with guard:
                reports = project.store_event_batches([slot.checked for slot in group])
        except Exception as error:  # noqa: BLE001 - handed to the requests
            if len(group) == 1:
                group[0].error = error
                group[0].done = True
                return
            for slot in group:  # none was stored: each on its own, so one fails alone
                self._write([slot])
            return
        for slot, report in zip(group, reports, strict=True):
            slot.report = report
            slot.done = True

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None


__all__ = ["EventWriter", "Served", "call", "call_unlocked", "ingest_events"]
