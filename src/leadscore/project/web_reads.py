"""What the web app reads about one contact beyond the API's reads: its whole timeline —
events, property changes, stage changes, list joins and leaves, workflow steps and
notifications — newest first, and its owner (for `[web] sales_leads = "own"`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadscore.lists import ListSet
    from leadscore.model import Model
    from leadscore.project.config import ProjectConfig
    from leadscore.storage import Store
    from leadscore.storage.automation_reads import Task, TimelineEntry

SKIPPED_PROPERTIES = ("email",)  # shown at the top of the page, not as a change


@dataclass(frozen=True)
class TimelineItem:
    """One line of a contact's timeline: when, of what kind (event, property, stage, list,
    workflow, notification), what happened and any detail."""

    at: datetime
    kind: str
    what: str
    detail: str


@dataclass(frozen=True)
class ModelRow:
    score: str
    group: str | None
    rule: str
    points: str
    decay: str
    caps: str
    description: str


@dataclass(frozen=True)
class ModelScore:
    name: str
    thresholds: list[tuple[str, str]]  # (label, range)
    sum_of: list[str]
    description: str
    caps: str


@dataclass(frozen=True)
class ModelTable:
    name: str
    scores: list[ModelScore]
    rules: list[ModelRow]
    text: str  # the live model file
    file: str


@dataclass(frozen=True)
class LeadChoices:
    scores: list[str]  # the model's scores; the first is not always the primary one
    primary: str
    labels: list[str]  # of the primary score
    stages: list[str]
    grades: list[str]
    lists: list[str]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class WebReadOperations:
    """`Project`'s reads for the web app's contact page."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...
        def require_contact(self, contact_id: str) -> None: ...
        def contact_log(self, contact_id: str) -> list[TimelineEntry]: ...
        @property
        def lists(self) -> ListSet: ...
        config: ProjectConfig

    def contact_timeline(self, contact_id: str, *, limit: int = 200) -> list[TimelineItem]:
        """The contact's newest `limit` timeline lines (LS310 for an unknown contact)."""
        from leadscore.delivery import outbox_items

        self.require_contact(contact_id)
        items: list[TimelineItem] = []
        loaded = self.store.load_contact(contact_id, catalog=self.model.catalog)
        if loaded is not None:
            _email, _created, changes, events = loaded
            for event in events:
                items.append(TimelineItem(_utc(event.occurred_at), "event", event.type,
                                          _attributes(event.attributes)))
            for change in changes:
                if change.name in SKIPPED_PROPERTIES:
                    continue
                items.append(TimelineItem(_utc(change.changed_at), "property", change.name,
                                          "cleared" if change.value is None
                                          else f"→ {_text(change.value)}"))
        for entry in self.contact_log(contact_id):
            kind, _, name = entry.what.partition(" ")
            if not name:  # a stage change: what changed, and why
                items.append(TimelineItem(_utc(entry.at), kind, entry.change, entry.detail))
                continue
            items.append(TimelineItem(_utc(entry.at), kind, name,
                                      " ".join(x for x in (entry.change, entry.detail) if x)))
        for sent in outbox_items(self.store, contact_id=contact_id, limit=limit):
            items.append(TimelineItem(_utc(sent.created_at), "notification",
                                      f"{sent.kind} to {sent.channel}",
                                      sent.status + (f" ({sent.workflow})" if sent.workflow
                                                     else "")))
        items.sort(key=lambda item: (item.at, item.kind, item.what), reverse=True)
        return items[:limit]

    def lead_choices(self) -> LeadChoices:
        """What the leads page's filters can be set to under the live model."""
        from leadscore.project.filters import _grades

        model = self.model
        return LeadChoices(list(model.scores), model.primary_score.name,
                           [t.label for t in model.primary_score.thresholds],
                           list(model.lifecycle.stages), _grades(model),
                           [item.name for item in self.lists])

    def model_table(self) -> ModelTable:
        """The live model as rows a person reads: per score, its rules (in their groups) with
        their points or tiers, decay and caps; and the file's text, to start a draft from."""
        model = self.model
        rows: list[ModelRow] = []
        for score in model.scores.values():
            plain = [(None, rule) for rule in score.rules]
            grouped = [(group, rule) for group in score.groups for rule in group.rules]
            for group, rule in plain + grouped:
                if rule.tiers:
                    points = ", ".join(f"{t.describe()} → {t.points:+g}" for t in rule.tiers)
                elif rule.points_from:
                    points = f"the value of {rule.points_from}"
                else:
                    points = f"{rule.points or 0:+g}" + (" each" if rule.per_event else "")
                caps = ", ".join(x for x in (
                    f"max {rule.max:,.10g}" if rule.max is not None else "",
                    f"min {rule.min:,.10g}" if rule.min is not None else "",
                    f"group max {group.max:,.10g}" if group and group.max is not None else "",
                    f"group min {group.min:,.10g}" if group and group.min is not None else "")
                    if x)
                rows.append(ModelRow(score.name, group.name if group else None, rule.name,
                                     points, rule.decay.describe() if rule.decay else "", caps,
                                     rule.description or ""))
        scores = [ModelScore(s.name, [(t.label, t.describe()) for t in s.thresholds],
                             list(s.sum_of), s.description or "",
                             ", ".join(x for x in (
                                 f"max {s.max:,.10g}" if s.max is not None else "",
                                 f"min {s.min:,.10g}" if s.min is not None else "") if x))
                  for s in model.scores.values()]
        path = self.config.model_path
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        return ModelTable(model.name, scores, rows, text, str(path.name))

    def contact_stage(self, contact_id: str) -> str | None:
        """The contact's lifecycle stage now (None: none); LS310 for an unknown contact."""
        self.require_contact(contact_id)
        return self.store.current_stage(contact_id)

    def task(self, task_id: int) -> Task | None:
        """The follow-up task of this id, or None."""
        if not 0 < task_id < 2**63:
            return None
        found = self.store.task_page(None, 1, task_id - 1).items
        return found[0] if found and found[0].id == task_id else None

    def contact_owner(self, contact_id: str) -> str | None:
        """The contact's owner property now (None: none, or no such contact)."""
        loaded = self.store.load_contact(contact_id)
        if loaded is None:
            return None
        owner = None
        for change in sorted(loaded[2], key=lambda c: _utc(c.changed_at)):
            if change.name == "owner":
                owner = change.value
        return None if owner is None else str(owner)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return str(value)


def _attributes(attributes: Any) -> str:
    if not attributes:
        return ""
    return ", ".join(f"{k}={_text(v)}" for k, v in list(dict(attributes).items())[:6])


__all__ = ["LeadChoices", "ModelRow", "ModelScore", "ModelTable", "TimelineItem",
           "WebReadOperations"]
