"""`leadscore worker`: process due contacts and deliver the outbox, sleeping until the next
contact falls due, at most the interval — and waking at once when another process makes
contacts due (`storage.signals`: LISTEN/NOTIFY on PostgreSQL, SQLite's data_version). Safe to
kill at any instant: processing is transactional and delivery is at-least-once with
idempotency keys.

On PostgreSQL, delivery runs on a thread of its own, woken whenever a batch has queued
notifications, so that sending them never holds up the next batch (and a slow receiver never
holds up processing). On SQLite, and with `once`, each pass processes, then delivers."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leadscore.delivery import DeliveryReport, Senders, deliver_due
from leadscore.storage.signals import ChangeWatcher

if TYPE_CHECKING:
    from leadscore.project import Project

log = logging.getLogger("leadscore.worker")
MAINTAIN_EVERY = 60.0  # seconds between the idle worker's tidying of the store


def _resume_publish(project: Project, echo: Callable[[str], None] | None) -> None:
    """Finish a publish that a crash interrupted (none is unfinished, or another process is
    rescoring it: nothing to do). The next pass then follows the version it made live."""
    if project.unfinished_publish() is None:
        return
    try:
        done = project.resume_publish(wait=False)
    except Exception:  # noqa: BLE001 - the publish stays rescoring: resumable later
        log.exception("resuming the unfinished publish failed; `leadscore model resume` "
                      "retries it")
        return
    if done is not None and echo:
        echo(f"resumed the unfinished publish {done.id}: version {done.version} is "
             f"{done.state}")


@dataclass
class WorkerStats:
    passes: int = 0
    contacts: int = 0
    delivered: int = 0


def run_worker(project: Project, *, interval: float = 1.0, once: bool = False,
               max_seconds: float | None = None, batch: int = 500,
               echo: Callable[[str], None] | None = None,
               stop: StopFlag | None = None, gather: float = 0.0,
               maintain_every: float = MAINTAIN_EVERY) -> WorkerStats:
    """Run until SIGTERM — or, given `stop` (a worker on a thread beside a server, which owns
    the signals), until the caller sets it; the pass in progress is finished first.

    `gather` (seconds): after a pass that emptied the queue, let at least this long pass
    from its start before the next — a server beside the worker (`leadscore serve`) is then
    not made to wait on a pass after every arriving event: a pass costs about the same for
    one contact as for fifty, and on SQLite it holds the one write lock throughout.

    `maintain_every` (seconds): when the queue is empty and this long has passed since it
    last did, the worker tidies the embedded store (`Project.maintain`): what its passes and
    the server's events wrote sits in the tables' tails, which every bulk read loads whole."""
    automation = project.automation
    stats = WorkerStats()
    stopping = stop or StopFlag()
    previous = None if stop is not None else signal.signal(signal.SIGTERM, stopping.request)
    started = maintained = time.monotonic()
    _resume_publish(project, echo)
    automation = project.automation  # a resumed publish made another version live
    automation.activate()
    # beside processing only where writers can work side by side: SQLite has one writer, so
    # a dispatcher thread there would only queue for the lock (and make the batches wait)
    inline = once or project.store.dialect == "sqlite"
    dispatcher = None if inline else _Dispatcher(project, stats, interval, batch, echo)
    senders = Senders()  # in line: connections kept open from one pass to the next
    watcher: ChangeWatcher | None = None
    try:
        # between passes, wake as soon as another process makes contacts due
        watcher = None if once else ChangeWatcher(project.store.engine)
        if echo and not once:
            echo(f"Worker running on {project.store.dialect} (delivery "
                 f"{'in line' if inline else 'on a thread beside processing'}); stop it with "
                 "Ctrl-C or SIGTERM.")
        if dispatcher is not None:
            dispatcher.start()
        while not stopping.requested:
            more = False  # a full batch, or a full delivery run: go on without a pause
            begun_pass = time.monotonic()
            if project.follow_live():  # another model version went live: process under it
                automation = project.automation
                automation.activate()
                if echo:
                    echo(f"model version {project.model.published} is live; processing "
                         "under it")
            now = datetime.now(UTC)
            report = automation.process_due(now=now, limit=batch)
            stats.passes += 1
            stats.contacts += report.contacts
            if echo and report.contacts:
                echo(f"{now:%H:%M:%S.%f}"[:-3] + f" processed {report.contacts} contacts "
                     f"({report.joins} joins, {report.leaves} leaves, {report.steps} steps, "
                     f"{report.outbox} notifications) in {report.seconds * 1000:.0f} ms")
            if dispatcher is None:
                begun = time.perf_counter()
                sent = deliver_due(project.store, project.channels, now=now, limit=batch,
                                   senders=senders)
                _delivered(sent, stats, echo, time.perf_counter() - begun)
                more = sent.attempted >= batch
                if once:
                    break
            else:
                if report.outbox:
                    dispatcher.wake.set()
                dispatcher.check()
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                break
            if more or report.contacts >= batch:
                continue  # more is waiting
            if not once and time.monotonic() - maintained >= maintain_every:
                begun = time.perf_counter()
                project.maintain()
                _resume_publish(project, echo)
                maintained = time.monotonic()
                log.debug("tidied the store in %.2fs", time.perf_counter() - begun)
            rest = gather - (time.monotonic() - begun_pass)
            if rest > 0 and stopping.wait(rest):
                continue  # stopping
            assert watcher is not None
            stopping.wait(_pause(automation.next_due_at(), interval), watcher.poll,
                          watcher.slice_seconds)
    finally:
        if watcher is not None:
            watcher.close()
        if dispatcher is not None:
            dispatcher.stop()
        senders.close()
        if stop is None:
            signal.signal(signal.SIGTERM, previous)
    return stats


class StopFlag:
    """Set by SIGTERM. A signal handler runs in the main thread between any two bytecodes, so
    it must not take a lock the code it interrupts may hold: `threading.Event.set` from a
    handler deadlocks when the signal lands inside `Event.wait` just after the wait re-took the
    event's lock (seen: a worker that never stopped). So the flag is a plain attribute, and
    waiting for it goes in short slices."""

    SLICE = 0.05  # seconds: how soon a wait notices the flag

    def __init__(self) -> None:
        self.requested = False

    def request(self, *_: object) -> None:
        self.requested = True

    def wait(self, seconds: float, poll: Callable[[float], bool] | None = None,
             slice_seconds: float = SLICE) -> bool:
        """Wait up to `seconds` in slices: sleeping, or blocked in `poll(timeout)`, which
        returns True to end the wait (data changed). Returns whether the wait ended early:
        the flag was set, or `poll` said so."""
        end = time.monotonic() + seconds
        while not self.requested:
            left = end - time.monotonic()
            if left <= 0:
                return False
            step = min(left, slice_seconds)
            if poll is None:
                time.sleep(step)
            elif poll(step):
                return True
        return True


class _Dispatcher(threading.Thread):
    """Delivers the outbox beside processing: when a batch has queued rows, and otherwise at
    least every `interval` (but no more often than once a second: retries fall due seconds
    apart, and rows queued by other processes need not be polled for 50 times a second). An
    error here stops the worker (`check`), as it would in line."""

    def __init__(self, project: Project, stats: WorkerStats, interval: float, batch: int,
                 echo: Callable[[str], None] | None) -> None:
        super().__init__(name="leadscore-dispatcher", daemon=True)
        self.project, self.stats, self.batch = project, stats, batch
        self.interval = max(interval, 1.0)
        self.echo = echo
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        senders = Senders()  # connections kept open from one pass to the next
        try:
            while not self.stopping.is_set():
                self.wake.clear()
                begun = time.perf_counter()
                sent = deliver_due(self.project.store, self.project.channels, limit=self.batch,
                                   senders=senders)
                _delivered(sent, self.stats, self.echo, time.perf_counter() - begun)
                if sent.attempted < self.batch:
                    self.wake.wait(self.interval)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self.error = error
        finally:
            senders.close()

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.join(timeout=60)
        if self.is_alive():
            log.warning("the dispatcher is still sending; leaving it (its rows are leased)")


def _delivered(sent: DeliveryReport, stats: WorkerStats, echo: Callable[[str], None] | None,
               seconds: float) -> None:
    stats.delivered += sent.delivered
    if echo and sent.attempted:
        echo(f"{datetime.now(UTC):%H:%M:%S.%f}"[:-3] + f" delivered {sent.delivered}, "
             f"retrying {sent.retried}, dead {sent.dead} in {seconds * 1000:.0f} ms")


def _pause(next_due: datetime | None, interval: float) -> float:
    if next_due is None:
        return interval
    wait = (next_due - datetime.now(UTC)).total_seconds()
    return max(0.0, min(interval, wait))
