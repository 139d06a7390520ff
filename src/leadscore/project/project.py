"""The Python library: everything the command line does, as calls.

    from leadscore import Project
    project = Project.open("my-project")          # finds leadscore.toml
    project.import_contacts("data/contacts.csv")
    project.import_events("data/events.jsonl")
    run = project.score()                          # scores everyone, moves stages forward
    print(project.explain("c0000042").render_text())
    for lead in project.leads(label="SQL", limit=20): ...
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.automation import Automation, mark_changed_due
from leadscore.catalog import CoercionError, coerce_value, parse_datetime, parse_duration
from leadscore.delivery import Channels, load_channels
from leadscore.diagnostics import LeadscoreError, Location, did_you_mean
from leadscore.evaluation import (
    ContactScores,
    ContactSnapshot,
    Explanation,
    PropertyChange,
    Scorer,
)
from leadscore.evaluation.explanation import explain_snapshot
from leadscore.ingestion import ImportReport, import_contacts, import_events, load_mapping
from leadscore.ingestion.outcomes import OutcomeImportReport, import_outcomes
from leadscore.lifecycle import StageRules
from leadscore.lists import ListSet, load_lists
from leadscore.model import Model, load_model
from leadscore.project.config import (
    CONFIG_FILE,
    ProjectConfig,
    find_project_root,
    resolve_input,
)
from leadscore.project.filters import check_lead_filters
from leadscore.storage import Store
from leadscore.storage.records import ScoreRecord, StageChange
from leadscore.workflows import Workflow, load_workflows

Progress = Callable[[int, int], None]


def open_store(url: str) -> Store:
    """Open (and migrate) a store: `sqlite:///file.db` or `postgresql+psycopg://…`."""
    return Store.open(url)


def explain_contact(store: Store, model: Model, contact_id: str,
                    at: datetime | None = None) -> Explanation:
    """Every rule's verdict for one contact under `model`, as of `at` (default: now)."""
    as_of = at or datetime.now(UTC)
    loaded = store.load_contact(contact_id)
    if loaded is None:
        raise LeadscoreError.single("LS310", f"no contact '{contact_id}' in the store",
                                    Location(field="contact"),
                                    hint="`leadscore leads` lists contact ids")
    email, created_at, changes, events = loaded
    if created_at is not None and created_at > as_of:
        raise LeadscoreError.single(
            "LS311", f"contact '{contact_id}' did not exist yet on {as_of:%Y-%m-%d %H:%M}",
            Location(field="at"), hint=f"it was created {created_at:%Y-%m-%d %H:%M} UTC")
    snapshot = ContactSnapshot.build(contact_id, as_of, created_at=created_at,
                                     property_changes=_typed(changes, model),
                                     events=events)
    stage = snapshot.properties.get("lifecycle_stage")
    return explain_snapshot(model, snapshot, email=email, stage=stage)


def _typed(changes: list[PropertyChange], model: Model) -> list[PropertyChange]:
    """Stored values read as the model declares them; a value that no longer fits is unknown."""
    out = []
    for change in changes:
        definition = model.catalog.property(change.name)
        value = change.value
        if definition is not None and value is not None:
            try:
                value = coerce_value(value, definition.type, options=definition.options)
            except CoercionError:
                value = None
        out.append(PropertyChange(change.name, value, change.changed_at))
    return out


@dataclass
class ScoreRun:
    model: str
    as_of: datetime
    contacts: int = 0
    events: int = 0
    seconds: float = 0.0
    changed: int = 0  # stored score values (contact × score) that changed
    labels: dict[str, Counter] = field(default_factory=dict)
    stage_moves: Counter = field(default_factory=Counter)
    written: bool = True
    results: list[ContactScores] = field(default_factory=list)  # kept only on request

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "as_of": self.as_of.isoformat(), "contacts": self.contacts,
            "events": self.events, "seconds": round(self.seconds, 3), "changed": self.changed,
            "labels": {s: dict(c) for s, c in self.labels.items()},
            "stage_moves": dict(self.stage_moves), "written": self.written,
        }


@dataclass
class Lead:
    contact_id: str
    email: str | None
    scores: dict[str, float | None]
    labels: dict[str, str | None]
    grade: str | None
    stage: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "email": self.email, "scores": self.scores,
                "labels": self.labels, "grade": self.grade, "stage": self.stage}


class Project:
    """A project folder (leadscore.toml + model + store), or just a store and a model.

    The import methods look a relative path that does not exist from the current folder up in
    the project folder (`resolve_input`); the command line turns that off, so that its paths are
    relative to where it runs, as in any shell."""

    resolve_inputs = True

    def __init__(self, config: ProjectConfig) -> None:
        self.config = config
        self._model: Model | None = None
        self._store: Store | None = None
        self._automation: Automation | None = None
        self._channels: Channels | None = None

    @classmethod
    def open(cls, path: str | Path | None = None) -> Project:
        start = Path(path) if path else None
        root = find_project_root(start)
        if root is None:
            where = start or Path.cwd()
            raise LeadscoreError.single(
                "LS300", f"no leadscore project at or above {where}", Location(str(where)),
                hint="run `leadscore init DIR` to create one, or pass --project DIR")
        return cls(ProjectConfig.load(root))

    @classmethod
    def at(cls, store_url: str, model_path: str | Path) -> Project:
        """A project from a store URL and a model file, with no leadscore.toml."""
        return cls(ProjectConfig(Path.cwd(), store_url, Path(model_path)))

    # parts -----------------------------------------------------------------------------------
    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = load_model(self.config.model_path)
        return self._model

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.config.store_url)
        return self._store

    @property
    def channels(self) -> Channels:
        if self._channels is None:
            self._channels = load_channels(self.config.data,
                                           source=str(self.config.root / CONFIG_FILE))
        return self._channels

    @property
    def lists(self) -> ListSet:
        path = self.config.lists_path
        return load_lists(path, self.model) if path else ListSet([])

    @property
    def channel_kinds(self) -> dict[str, str]:
        channels = self.channels
        return {**{n: "webhook" for n in channels.webhooks},
                **{n: "email" for n in channels.email}}

    def workflows(self, lists: ListSet | None = None) -> list[Workflow]:
        """The workflows file, checked against the model, lists and delivery channels."""
        path = self.config.workflows_path
        if path is None:
            return []
        return load_workflows(path, self.model, lists or self.lists, set(self.channel_kinds))

    @property
    def automation(self) -> Automation:
        """The project's lists and workflows acting on its store (see leadscore.automation)."""
        if self._automation is None:
            lists = self.lists
            self._automation = Automation(self.store, self.model, lists, self.workflows(lists),
                                          channel_kinds=self.channel_kinds)
        return self._automation

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # operations ------------------------------------------------------------------------------
    def import_contacts(self, path: str | Path, *, mapping: str | Path | None = None,
                        progress: Progress | None = None) -> ImportReport:
        path, mapping = self._input(path), self._input(mapping)
        loaded = load_mapping(mapping) if mapping else None
        with mark_changed_due(self.store, "import"):
            return import_contacts(self.store, path, catalog=self.model.catalog,
                                   mapping=loaded, progress=progress)

    def import_outcomes(self, path: str | Path, *, mapping: str | Path | None = None,
                        progress: Progress | None = None) -> OutcomeImportReport:
        """Outcomes for backtests; opportunities and wins also move lifecycle stages."""
        path, mapping = self._input(path), self._input(mapping)
        loaded = load_mapping(mapping) if mapping else None
        with mark_changed_due(self.store, "outcomes import"):
            return import_outcomes(self.store, path, mapping=loaded, progress=progress)

    def import_events(self, path: str | Path, *, create_missing_contacts: bool = False,
                      progress: Progress | None = None) -> ImportReport:
        path = self._input(path)
        with mark_changed_due(self.store, "import"):
            return import_events(self.store, path, catalog=self.model.catalog,
                                 create_missing_contacts=create_missing_contacts,
                                 progress=progress)

    def _input(self, path: Any) -> Any:
        return resolve_input(path, self.config.root) if path and self.resolve_inputs else path

    def score(self, *, as_of: datetime | None = None, model: Model | None = None,
              write: bool = True, keep_results: bool = False,
              progress: Progress | None = None) -> ScoreRun:
        """Score every contact as of `as_of` (default now). With `write`, store the scores
        (history kept on change) and move lifecycle stages forward where thresholds say so."""
        model = model or self.model
        return score_store(self.store, model, as_of=as_of, write=write,
                           keep_results=keep_results, progress=progress)

    def explain(self, contact_id: str, *, at: datetime | None = None,
                model: Model | None = None) -> Explanation:
        return explain_contact(self.store, model or self.model, contact_id, at)

    def leads(self, *, model: Model | None = None, label: str | None = None,
              stage: str | None = None, grade: str | None = None,
              min_scores: dict[str, float] | None = None, limit: int | None = None,
              sort: str | None = None) -> list[Lead]:
        """Scored contacts, best first, filtered by the primary score's label, stage, grade
        and minimum scores (e.g. {"fit": 30})."""
        model = model or self.model
        return list_leads(self.store, model, label=label, stage=stage, grade=grade,
                          min_scores=min_scores, limit=limit, sort=sort)

    def context_snapshot(self, contact_id: str, at: datetime | None = None) -> ContactSnapshot:
        """The contact as of `at` (default now) with its computed scores, for testing lists
        and workflow conditions against it."""
        moment = at or datetime.now(UTC)
        types = {name: p.type for name, p in self.model.catalog.properties.items()}
        found = next(iter(self.store.load_snapshots(moment, property_types=types,
                                                    contact_ids=[contact_id])), None)
        if found is None:
            raise LeadscoreError.single("LS310", f"no contact '{contact_id}' in the store at "
                                        f"{moment:%Y-%m-%d %H:%M}", Location(field="contact"))
        result = Scorer(self.model).score(found)
        found.scores = {n: (s.value, s.label) for n, s in result.scores.items()}
        return found

    def stats(self, *, model: Model | None = None) -> dict[str, Any]:
        return store_stats(self.store, model or self.model)

    def dry_run(self, model: Model, *, contacts: str | Path | None = None,
                events: str | Path | None = None, as_of: datetime | None = None,
                mapping: str | Path | None = None) -> ScoreRun:
        """Score a (draft) model without touching the project's store: on the given files in a
        scratch store, or, with no files, on the store's data without writing anything."""
        if contacts is None and events is None:
            return self.score(as_of=as_of, model=model, write=False, keep_results=True)
        with tempfile.TemporaryDirectory(prefix="leadscore-dry-run-") as folder:
            scratch = Project.at(f"sqlite:///{folder}/scratch.db", self.config.model_path)
            scratch._model = model
            try:
                if contacts is not None:
                    scratch.import_contacts(contacts, mapping=mapping)
                if events is not None:
                    scratch.import_events(events, create_missing_contacts=contacts is None)
                return scratch.score(as_of=as_of, write=False, keep_results=True)
            finally:
                scratch.close()


def score_store(store: Store, model: Model, *, as_of: datetime | None = None,
                write: bool = True, keep_results: bool = False,
                progress: Progress | None = None) -> ScoreRun:
    now = datetime.now(UTC)
    as_of = as_of or now
    started = time.perf_counter()
    scorer = Scorer(model)
    rules = StageRules(model)
    current = store.current_stages() if write else {}
    run = ScoreRun(model.name, as_of, written=write,
                   labels={name: Counter() for name in model.scores})
    records: list[ScoreRecord] = []
    moves: list[StageChange] = []
    types = {name: p.type for name, p in model.catalog.properties.items()}
    total = store.counts().get("contacts", 0) if progress else 0
    for snap in store.load_snapshots(as_of, property_types=types):
        result = scorer.score(snap)
        run.contacts += 1
        run.events += snap.event_count()
        if progress and run.contacts % 2000 == 0:
            progress(run.contacts, total)
        for name, score in result.scores.items():
            run.labels[name][score.label or "—"] += 1
            records.append(ScoreRecord(snap.contact_id, name, score.value, score.label))
        if result.grade is not None:
            records.append(ScoreRecord(snap.contact_id, "grade", None, result.grade))
        if keep_results:
            run.results.append(result)
        if write:
            previous = current.get(snap.contact_id)
            found = rules.move(snap, result, previous)
            if found is not None:
                target, cause = found
                moves.append(StageChange(snap.contact_id, target, previous, as_of, cause))
                run.stage_moves[target] += 1
    if progress:
        progress(run.contacts, total)
    if write:
        run.changed = store.save_scores(model.name, records, computed_at=now, as_of=as_of)
        if moves:
            store.record_stage_changes(moves)
        store.refresh_statistics(("scores", "score_history", "stage_changes"))
    run.seconds = time.perf_counter() - started
    return run


def list_leads(store: Store, model: Model, *, label: str | None = None,
               stage: str | None = None, grade: str | None = None,
               min_scores: dict[str, float] | None = None, limit: int | None = None,
               sort: str | None = None) -> list[Lead]:
    check_lead_filters(model, label=label, stage=stage, grade=grade)
    primary = model.primary_score.name
    sort_by = sort or primary
    known = set(model.scores) | {"grade"}
    for name in [sort_by, *(min_scores or {})]:
        if name not in known:
            raise LeadscoreError.single(
                "LS312", f"model {model.name} has no score '{name}'", Location(field="score"),
                hint=did_you_mean(name, model.scores) or "scores: " + ", ".join(model.scores))
    stages = store.current_stages()
    by_contact: dict[str, Lead] = {}
    for row in store.current_scores(model.name):
        lead = by_contact.get(row.contact_id)
        if lead is None:
            lead = by_contact[row.contact_id] = Lead(row.contact_id, row.email, {}, {}, None,
                                                     stages.get(row.contact_id))
        if row.score == "grade":
            lead.grade = row.label
        else:
            lead.scores[row.score] = row.value
            lead.labels[row.score] = row.label
    leads: Iterable[Lead] = by_contact.values()
    if label is not None:
        leads = [x for x in leads if (x.labels.get(primary) or "").lower() == label.lower()]
    if stage is not None:
        leads = [x for x in leads if (x.stage or "") == stage.lower()]
    if grade is not None:
        leads = [x for x in leads if (x.grade or "").lower() == grade.lower()]
    for name, minimum in (min_scores or {}).items():
        leads = [x for x in leads if (x.scores.get(name) or 0) >= minimum]
    ordered = sorted(leads, key=lambda x: (-(x.scores.get(sort_by) or float("-inf")),
                                           x.contact_id))
    return ordered[:limit] if limit else ordered


def store_stats(store: Store, model: Model) -> dict[str, Any]:
    counts = store.counts()
    values: dict[str, list[float]] = {name: [] for name in model.scores}
    labels: dict[str, Counter] = {name: Counter() for name in model.scores}
    grades: Counter = Counter()
    for row in store.current_scores(model.name):
        if row.score == "grade":
            grades[row.label] += 1
        elif row.score in values and row.value is not None:
            values[row.score].append(row.value)
            labels[row.score][row.label or "—"] += 1
    distribution = {}
    for name, items in values.items():
        if items:
            items.sort()
            distribution[name] = {
                "min": items[0], "p50": statistics.median(items),
                "p90": items[min(len(items) - 1, int(len(items) * 0.9))], "max": items[-1],
                "mean": round(statistics.fmean(items), 2),
            }
    return {
        "counts": counts,
        "stages": {k or "none": v for k, v in store.stage_counts().items()},
        "labels": {name: dict(c) for name, c in labels.items() if c},
        "grades": dict(grades),
        "scores": distribution,
        "model": model.name,
    }


def parse_moment(text: str | None) -> datetime | None:
    """A --at / --as-of value: ISO date or time; 'now' or None means now; 'now-30d' (any
    duration) that long ago."""
    if text is None or text == "now":
        return None
    if text.startswith("now-"):
        try:
            return datetime.now(UTC) - parse_duration(text[len("now-"):])
        except OverflowError:
            raise ValueError(f"'{text}' is before the year 1") from None
    return parse_datetime(text)
