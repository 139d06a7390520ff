"""The project an application serves, and how requests reach it.

- `call`: under one lock, on a thread of the server's pool. A `Project` holds one set of store
  connections and the embedded store's one DuckDB connection, so most routes call it one at a
  time.
- `call_unlocked`: work that is safe on any thread — reads made on the thread's own
  connection (`Store.read_raw`'s readers are per thread; `Store.read` takes a pooled one):
  the API key check and the checks of a batch.
- `ingest_events`: a batch of events is checked on the event loop (no store read), then
  stored by `EventWriter` — group commit on a thread of its own, with a `Project` of its own
  (its own connections: no wait for the lock of the reads): every batch that arrived while
  the previous transaction was being written goes into the next one. Which contacts the
  store has is read there too, once for the group (`settle_event_batches`): on PostgreSQL
  that read was a round trip per request that held up the event loop; a batch naming a
  contact the store does not have fails alone (LS219), as before. The request awaits the
  commit that stored its batch and is answered after it, as before; a batch that fails
  fails alone (a failed group is written again batch by batch). No pool thread is taken
  per request: handing each request to a pool thread and back cost more than storing it.

The worker runs on its own `Project`. `Served` also keeps the per-key rate limit's buckets
(`ratelimit`)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from leadscore.api.ratelimit import RateLimiter
from leadscore.diagnostics import LeadscoreError

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
        served.project.follow_live()  # a version published elsewhere: answer under it
        return work(served.project)


def call_unlocked(request: Request, work: Callable[[Project], T]) -> T:
    """Run `work(project)` without the lock: only for reads on the thread's own connection
    (see the module docstring)."""
    served = _served(request)
    assert served.project is not None, "an app made without a project serves no requests"
    return work(served.project)


async def ingest_events(request: Request, items: list[dict[str, Any]],
                        create_contacts: bool) -> IngestReport:
    """Check a batch of events here, then await its commit by `EventWriter`."""
    served = _served(request)
    assert served.project is not None and served.events is not None, \
        "an app made without a project serves no requests"
    checked = served.project.check_event_batch(items, create_contacts=create_contacts,
                                               read_contacts=False)  # read by the writer
    return await served.events.store(checked)


def _served(request: Request) -> Served:
    served: Served = request.app.state.served
    return served


class _Slot:
    """One batch waiting for its commit, and how to tell its request."""

    def __init__(self, checked: CheckedEvents, tell: Callable[[_Slot], None]) -> None:
        self.checked = checked
        self.tell = tell
        self.report: IngestReport | None = None
        self.error: BaseException | None = None

    def finish(self, report: IngestReport | None, error: BaseException | None) -> None:
        self.report, self.error = report, error
        self.tell(self)

    def outcome(self) -> IngestReport:
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


class EventWriter:
    """Group commit of checked event batches on a thread of its own (see the module
    docstring): it writes every batch waiting (up to `GROUP_EVENTS` events per transaction)
    in one transaction, tells each request, and waits for more."""

    def __init__(self, project: Project, lock: threading.Lock) -> None:
        self._shared = project
        self._lock = lock
        self._own: Project | None = None
        self._condition = threading.Condition(threading.Lock())
        self._waiting: deque[_Slot] = deque()
        self._thread: threading.Thread | None = None
        self._closing = False

    async def store(self, checked: CheckedEvents) -> IngestReport:
        """Store a checked batch; returns after the commit that stored it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Slot] = loop.create_future()

        def settle(slot: _Slot) -> None:
            if not future.done():  # the request may have been given up (client gone)
                future.set_result(slot)

        def tell(slot: _Slot) -> None:
            loop.call_soon_threadsafe(settle, slot)

        self._put(_Slot(checked, tell))
        slot = await future
        return slot.outcome()

    def _put(self, slot: _Slot) -> None:
        with self._condition:
            if self._closing:
                raise RuntimeError("the event writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="leadscore-events",
                                                daemon=True)
                self._thread.start()
            self._waiting.append(slot)
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._waiting and not self._closing:
                    self._condition.wait()
                if not self._waiting:
                    return  # closing, and nothing left to write
                group = self._take()
            try:
                self._write(group)
            except BaseException as error:  # noqa: BLE001 - no request may wait forever
                for slot in group:
                    if slot.report is None and slot.error is None:
                        slot.finish(None, error)

    def _take(self) -> list[_Slot]:
        group = [self._waiting.popleft()]
        size = group[0].checked.size
        while self._waiting and size + self._waiting[0].checked.size <= GROUP_EVENTS:
            size += self._waiting[0].checked.size
            group.append(self._waiting.popleft())
        return group

    def _project(self) -> tuple[Project, AbstractContextManager[Any]]:
        """The writer's own project (its own store connections), or — for a store in memory,
        which one connection holds — the shared one under the lock."""
        shared = self._shared
        if shared.store_in_memory:
            return shared, self._lock
        if self._own is None:
            self._own = type(shared)(shared.config)
        return self._own, nullcontext()

    def _write(self, group: list[_Slot]) -> None:
        project, guard = self._project()
        with guard:  # which contacts the store has: one read for the group
            settled = project.settle_event_batches([slot.checked for slot in group])
        group = [slot for slot, outcome in zip(group, settled, strict=True)
                 if _settle(slot, outcome)]
        if not group:
            return
        try:
            with guard:
                reports = project.store_event_batches([slot.checked for slot in group])
        except Exception as error:  # noqa: BLE001 - handed to the requests
            if len(group) == 1:
                group[0].finish(None, error)
                return
            for slot in group:  # none was stored: each on its own, so one fails alone
                self._write([slot])
            return
        for slot, report in zip(group, reports, strict=True):
            slot.finish(report, None)

    def close(self) -> None:
        """Write what is waiting, stop the thread and close the writer's connections."""
        with self._condition:
            self._closing = True
            self._condition.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=60)
        if self._own is not None:
            self._own.close()
            self._own = None


def _settle(slot: _Slot, outcome: CheckedEvents | LeadscoreError) -> bool:
    """The batch with its contacts read (True: to be written), or its request told its
    mistakes."""
    if isinstance(outcome, LeadscoreError):
        slot.finish(None, outcome)
        return False
    slot.checked = outcome
    return True


__all__ = ["EventWriter", "Served", "call", "call_unlocked", "ingest_events"]
