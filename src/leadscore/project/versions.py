"""Models as published versions: `Project.publish_model`, `resume_publish`,
`rollback_model`, `model_history`, `diff_models`, `model_at`.

The project's model file is the draft people edit and keep in version control; a *published
version* is a copy of it in the store (text, digest, author, message, time) and the store's
live version is what every scoring path uses — `score`, `process`, the worker, the API. Until
the first publish the file is live, as it always was. Publishing stores the version and a
publish row (`rescoring`), then rescores every contact under it in the background of the
readers: the old version stays live and answers every read until the rescore's results are
stored, and the same transaction makes the new version live (`storage.versions.go_live`).
A crash before that leaves the publish `rescoring` and nothing of it stored;
`resume_publish` runs the rescore again. See ARCHITECTURE.md, "Model versions".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.project.model_diff import ModelDiff, RuleChange, Spread, rule_changes, spreads

if TYPE_CHECKING:
    from leadscore.model import Model
    from leadscore.storage import Store
    from leadscore.storage.versions import ModelVersion, Publish

Phase = Any  # callable(phase: str) or None
FOLLOW_EVERY = 1.0  # seconds between two looks at the live version by a long-running process


@dataclass(frozen=True)
class VersionHistory:
    versions: list[ModelVersion]
    publishes: list[Publish]  # oldest first
    live: int | None  # the live version (None: the model file, nothing published)
    file_digest: str | None  # the project's model file's digest (None: unreadable)


class VersionOperations:
    """Mixed into `Project`, which gives `store`, `config` and the model caches."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...
        def require_contact(self, contact_id: str) -> None: ...
        def dry_run(self, model: Model, *, as_of: datetime | None = None) -> Any: ...

    config: Any
    _model: Model | None
    _automation: Any
    _live_seen: int | None
    _live_checked: float

    # the live version ----------------------------------------------------------------------
    def _live_model(self) -> Model | None:
        """The live published version's model, or None while nothing is published (or there
        is no store yet: a reading command never creates one to find out)."""
        from leadscore.project.config import sqlite_file
        from leadscore.storage import versions

        found_file = sqlite_file(self.config.store_url)
        if found_file is not None and not Path(found_file).exists():
            self._live_seen, self._live_checked = None, time.monotonic()
            return None
        with self.store.read_raw() as connection:
            live = versions.live(connection)
        self._live_seen, self._live_checked = (live.id if live else None), time.monotonic()
        return None if live is None else self.version_model(live.version)

    def version_model(self, version_id: int) -> Model:
        """A published version's model (named by it: every score it computes names it)."""
        from leadscore.model.cache import parse_model_cached
        from leadscore.project.files import CACHE_FOLDER
        from leadscore.storage import versions

        with self.store.read_raw() as connection:
            found = versions.version(connection, version_id)
        if found is None:
            raise _no_version(version_id)
        model = parse_model_cached(found.content, f"{found.source or 'model'}@v{found.id}",
                                   self.config.root / CACHE_FOLDER)
        return replace(model, published=found.id)

    def follow_live(self, every: float = FOLLOW_EVERY) -> bool:
        """For a long-running process (the worker, the API): look at most every `every`
        seconds whether another version went live; if so, drop the loaded model (and the
        automation built on it) so that the next use loads the live one. True when it did."""
        from leadscore.storage import versions

        if self._model is None or time.monotonic() - self._live_checked < every:
            return False
        with self.store.read_raw() as connection:
            live = versions.live(connection)
        self._live_checked = time.monotonic()
        if (live.id if live else None) == self._live_seen:
            return False
        self._model = None
        self._automation = None
        return True

    def file_model(self) -> Model:
        """The project's model file (the draft being edited), whatever is live."""
        from leadscore.model.cache import load_model_cached
        from leadscore.project.files import CACHE_FOLDER

        return load_model_cached(self.config.model_path,
                                 self.config.root / CACHE_FOLDER)

    def file_differs(self) -> Publish | None:
        """The live publish when a version is live and the model file is not that version
        (edited since, or another file): `score` says so. None otherwise."""
        from leadscore.storage import versions

        model = self.model
        if model.published is None:
            return None
        try:
            differs = self.file_model().digest != model.digest
        except LeadscoreError:
            differs = True  # a file with mistakes is not the live version either
        if not differs:
            return None
        with self.store.read() as connection:
            return versions.live(connection)

    def unfinished_publish(self) -> Publish | None:
        from leadscore.storage import versions

        with self.store.read() as connection:
            return versions.unfinished(connection)

    def publish_status(self, publish_id: int) -> Publish:
        from leadscore.storage import versions

        with self.store.read() as connection:
            found = versions.publish_row(connection, publish_id)
        if found is None:
            raise LeadscoreError.single(
                "LS362", f"no publish {publish_id}", Location(field="publish"),
                hint="`leadscore model history` lists the publishes")
        return found

    # publishing ------------------------------------------------------------------------------
    def publish_model(self, path: str | Path | None = None, *, text: str | None = None,
                      message: str, author: str | None = None, wait: bool = True,
                      phase: Phase = None) -> Publish:
        """Store the model (the project's model file, another file, or YAML `text`) as a new
        version and make it live: every contact is rescored under it while the live version
        answers reads, and it goes live in the transaction that stores the new scores.
        `wait=False`: return once the version is stored (`resume_publish` rescores)."""
        from leadscore.model.source import read_source
        from leadscore.project.drafts import parse_draft

        if not message or not message.strip():
            raise LeadscoreError.single(
                "LS360", "a publish needs a message: why this version", Location(field="-m"),
                hint='e.g. leadscore model publish -m "pricing page views count double"')
        self._refuse_unfinished()
        if text is None:
            source = Path(path) if path is not None else self.config.model_path
            text = read_source(source, code="LS100", what="model file",
                               hint="pass the path of a .yaml model file")
            from leadscore.model.compile import parse_model

            model = parse_model(text, str(source))
            shown = str(source)
        else:
            model = parse_draft(text)
            shown = None
        return self._start(model, text, shown, action="publish", message=message.strip(),
                           author=author, wait=wait, phase=phase)

    def rollback_model(self, version_id: int | None = None, *, message: str | None = None,
                       author: str | None = None, wait: bool = True,
                       phase: Phase = None) -> Publish:
        """Make an earlier version live again (default: the one live before the current),
        rescoring as a publish does. The rolled-back version stays in the history."""
        from leadscore.storage import versions

        self._refuse_unfinished()
        with self.store.read() as connection:
            live = versions.live(connection)
            if version_id is None:
                if live is None or live.previous is None:
                    raise LeadscoreError.single(
                        "LS361", "no earlier version to roll back to",
                        Location(field="version"),
                        hint="`leadscore model history` lists the versions; name one")
                version_id = live.previous
            found = versions.version(connection, version_id)
        if found is None:
            raise _no_version(version_id)
        if live is not None and live.version == version_id:
            raise LeadscoreError.single(
                "LS361", f"version {version_id} is already live", Location(field="version"),
                hint="`leadscore model history` lists the versions")
        model = self.version_model(version_id)
        return self._start(model, None, None, action="rollback",
                           message=message or f"roll back to version {version_id}",
                           author=author, wait=wait, phase=phase, existing=version_id)

    def _refuse_unfinished(self) -> None:
        pending = self.unfinished_publish()
        if pending is not None:
            raise LeadscoreError.single(
                "LS363", f"version {pending.version} is still being published (publish "
                         f"{pending.id}, {pending.phase}, started "
                         f"{pending.started_at:%Y-%m-%d %H:%M:%S} UTC)",
                Location(field="version"),
                hint="`leadscore model resume` finishes it (after a crash, or run elsewhere)")

    def _start(self, model: Model, text: str | None, source: str | None, *, action: str,
               message: str, author: str | None, wait: bool, phase: Phase,
               existing: int | None = None) -> Publish:
        from leadscore.catalog.forms import to_micros
        from leadscore.storage import versions

        now_us = to_micros(datetime.now(UTC))
        with self.store.write() as writer:
            connection = writer.connection
            if versions.unfinished(connection) is not None:  # another process, meanwhile
                self._refuse_unfinished()
            live = versions.live(connection)
            version_id = existing
            if version_id is None:
                assert text is not None
                version_id = versions.add_version(
                    connection, model=model.name, digest=model.digest, content=text,
                    source=source, author=author, message=message, now_us=now_us)
            contacts = int(connection.exec_driver_sql(
                "SELECT count(*) FROM contacts").scalar() or 0)
            publish_id = versions.start_publish(
                connection, version_id=version_id, previous=live.version if live else None,
                action=action, author=author, message=message, contacts=contacts,
                now_us=now_us)
        if wait:
            self.resume_publish(phase=phase)
        return self.publish_status(publish_id)

    def resume_publish(self, *, phase: Phase = None, wait: bool = True) -> Publish | None:
        """Rescore under the version being published and make it live (after a crash, or
        for a publish started with wait=False). None when no publish is unfinished — or,
        without `wait`, when another process is rescoring it now (`storage.publish_lock`:
        one process at a time; with `wait`, until that one is done)."""
        from leadscore.storage.publish_lock import publish_lock

        with publish_lock(self.store, wait=wait) as held:
            if not held:
                return None
            return self._resume_publish(phase)

    def _resume_publish(self, phase: Phase) -> Publish | None:
        from leadscore.catalog.forms import to_micros
        from leadscore.scoring import score_store
        from leadscore.storage import versions
        from leadscore.storage.schedule import make_due

        pending = self.unfinished_publish()  # read under the lock: perhaps done meanwhile
        if pending is None:
            return None
        model = self.version_model(pending.version)

        def mark(name: str, *, attempt: bool = False) -> None:
            with self.store.write() as writer:
                versions.set_phase(writer.connection, pending.id, name,
                                   to_micros(datetime.now(UTC)), attempt=attempt)
            if phase is not None:
                phase(name)

        def finish(connection: Any) -> None:
            current = versions.publish_row(connection, pending.id)
            if current is None or current.state != versions.RESCORING:
                return  # another process made it live meanwhile
            now = datetime.now(UTC)
            versions.go_live(connection, pending.id, model=model.name,
                             version_id=pending.version, now_us=to_micros(now))
            # lists, workflows and next due times follow the new version: everyone is due
            make_due(connection, None, now, "model version live")

        mark("rescoring", attempt=True)
        score_store(self.store, model, full=True, write=True, finish=finish)
        if model.companies is not None:  # the companies under the version now live
            from leadscore.scoring.companies import score_companies

            score_companies(self.store, model,
                            read_by_contacts=self.company_reads(model))  # type: ignore
        self._model = None
        self._automation = None
        if phase is not None:
            phase("live")
        return self.publish_status(pending.id)

    def resume_publish_in_background(self) -> threading.Thread | None:
        """`resume_publish` on a thread with a `Project` of its own (its own connections), for
        the API: the request is answered at once, the progress read from the publish row.
        None for a store in memory (one connection: rescored before returning)."""
        if getattr(self, "store_in_memory", False):
            self.resume_publish()
            return None
        config = self.config

        def run() -> None:
            from leadscore.project.project import Project

            with Project(config) as own:
                try:
                    own.resume_publish()
                except Exception:  # noqa: BLE001 - the publish stays rescoring: resumable
                    import logging

                    logging.getLogger("leadscore.versions").exception(
                        "the publish's rescore failed; `leadscore model resume` retries it")

        thread = threading.Thread(target=run, name="leadscore-publish", daemon=True)
        thread.start()
        return thread

    # reading ---------------------------------------------------------------------------------
    def model_history(self) -> VersionHistory:
        from leadscore.storage import versions

        with self.store.read() as connection:
            found, runs = versions.versions(connection), versions.publishes(connection)
            live = versions.live(connection)
        try:
            digest: str | None = self.file_model().digest
        except LeadscoreError:
            digest = None
        return VersionHistory(found, runs, live.version if live else None, digest)

    def model_at(self, moment: datetime | None) -> Model:
        """The model live at `moment` (default now): the version published then, or the model
        file when nothing was published yet at that moment."""
        from leadscore.catalog.forms import to_micros
        from leadscore.storage import versions

        if moment is None:
            return self.model
        live_now = self.model
        if live_now.published is None:
            return live_now
        with self.store.read() as connection:
            found = versions.live_at(connection, to_micros(moment))
        return self.file_model() if found is None else self.version_model(found.version)

    def stored_scores_at(self, contact_id: str, at: datetime) -> ScoresAt:
        """The contact's scores as the store held them at `at`: under the version live at
        that moment, each score's latest history row computed by that version at or before
        `at` (a publish's rescore computes before its version goes live: until then, the
        previous version's rows answer). LS310 for an unknown contact."""
        from leadscore.catalog.forms import to_micros
        from leadscore.storage import versions

        self.require_contact(contact_id)
        with self.store.read() as connection:
            found = versions.live_at(connection, to_micros(at))
        version = None if found is None else found.version
        model = self.model_at(at)
        latest: dict[str, Any] = {}
        for row in self.store.score_history(contact_id, model.name):
            if row.computed_at <= at and row.version == version:
                latest[row.score] = row
        ordered = [latest[n] for n in [*model.scores, "grade"] if n in latest]
        return ScoresAt(contact_id, at, model.name, version, ordered)

    def resolve_model(self, name: str) -> Model:
        """A model named on the command line or in a request: a version number ("3" or
        "v3"), "live", "file" (the project's model file) or a model file's path."""
        text = name.strip()
        if text == "live":
            return self.model
        if text == "file":
            return self.file_model()
        number = text[1:] if text[:1] in ("v", "V") else text
        if number.isdigit():
            return self.version_model(int(number))
        from leadscore.model import load_model

        return load_model(text)

    def diff_models(self, a: str, b: str, *, limit: int = 10,
                    as_of: datetime | None = None) -> ModelDiff:
        """What changes from model `a` to model `b` (see `resolve_model`): their rules, and
        their effect on the stored contacts — each scored under both, nothing written: label
        counts and score spread of each, and which contacts would change label or stage."""
        from leadscore.project.drafts import compare

        model_a, model_b = self.resolve_model(a), self.resolve_model(b)
        run_a = self.dry_run(model_a, as_of=as_of)
        run_b = self.dry_run(model_b, as_of=as_of)
        labels_a = {(r.contact_id, name): r.labels.get(name)
                    for r in run_a.results for name in model_b.scores}
        effect = compare(run_b, model_b, labels_a, self.store.current_stages(),
                         model_a.name, limit)
        return ModelDiff(
            a, b, model_a.name, model_b.name, rule_changes(model_a, model_b), effect,
            {n: dict(sorted(c.items())) for n, c in run_a.labels.items()},
            spreads(run_a.results, model_a), spreads(run_b.results, model_b))


@dataclass(frozen=True)
class ScoresAt:
    """A contact's stored scores as of a moment, under the version live then."""

    contact_id: str
    at: datetime
    model: str
    version: int | None  # None: the model file (nothing published yet at `at`)
    scores: list[Any]  # StoredScore, one per score, as recorded at or before `at`

    def to_dict(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "at": self.at.isoformat(), "model": self.model,
                "version": self.version,
                "scores": [{"score": s.score, "value": s.value, "label": s.label,
                            "version": s.version, "computed_at": s.computed_at.isoformat()}
                           for s in self.scores]}


def _no_version(version_id: int) -> LeadscoreError:
    return LeadscoreError.single(
        "LS361", f"no model version {version_id}", Location(field="version"),
        hint="`leadscore model history` lists the versions")


__all__ = ["ModelDiff", "RuleChange", "ScoresAt", "Spread", "VersionHistory", "VersionOperations",
           "rule_changes"]  # the diff's types live in `project.model_diff`
