"""What the web app reads about one contact beyond the API's reads: its whole timeline —
events, property changes, stage changes, list joins and leaves, workflow steps and
notifications — newest first, and its owner (for `[web] sales_leads = "own"`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
class Funnel:
    stages: list[str]  # in lifecycle order
    now: dict[str, int]  # stage (or "none") → contacts now
    moves: list[tuple[datetime, str | None, str, int]]  # (week, from, to, contacts)
    reached: dict[str, int]  # stage → contacts that reached it or a later one
    conversion: list[tuple[str, str, int, int]]  # (stage, next, reached it, reached next)
    since: datetime


@dataclass(frozen=True)
class ListPage:
    name: str
    description: str
    definition: str  # the list's entry of the lists file, as YAML
    members: Any  # a Page of members
    activity: list[tuple[datetime, int, int]]  # (week, joins, leaves)


@dataclass(frozen=True)
class WorkflowSummary:
    workflows: list[tuple[str, dict[str, int]]]  # (name, status → enrollments)
    steps: list[tuple[Any, ...]]  # (id, workflow, contact, position, action, outcome, at)
    dead: list[Any]  # outbox items


@dataclass(frozen=True)
class ModelRow:
    score: str
    group: str | None
    rule: str
    when: str  # what the rule asks for, in words (`evaluation.describe`)
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
        def list_members(self, name: str, *, limit: int | None = 50,
                         cursor: str | None = None) -> Any: ...
        def workflows(self, lists: Any = None) -> list[Any]: ...
        def outbox_page(self, *, status: str | None = None, limit: int | None = 50,
                        cursor: str | None = None) -> Any: ...
        @property
        def lists(self) -> ListSet: ...
        config: ProjectConfig

    def contact_timeline(self, contact_id: str, *, limit: int = 200,
                         kinds: set[str] | None = None) -> list[TimelineItem]:
        """The contact's newest `limit` timeline lines, of the `kinds` given (event, property,
        stage, list, workflow, notification; None: all) — LS310 for an unknown contact."""
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
        if kinds is not None:
            items = [item for item in items if item.kind in kinds]
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
        from leadscore.evaluation.describe import describe_criterion

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
                when = describe_criterion(rule.criterion) if rule.criterion else ""
                rows.append(ModelRow(score.name, group.name if group else None, rule.name,
                                     when, points,
                                     rule.decay.describe() if rule.decay else "", caps,
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

    def funnel(self, *, weeks: int = 8) -> Funnel:
        """Contacts per stage now, stage moves per week (the last `weeks`), and how many
        contacts ever reached each stage with the share that went on to the next."""
        from leadscore.storage.views import DataView
        from leadscore.storage.web_reads import stage_moves, stages_reached, week_of

        order = list(self.model.lifecycle.stages)
        now = {k or "none": v for k, v in self.store.stage_counts().items()}
        since = week_of(datetime.now(UTC)) - timedelta(weeks=weeks - 1)
        with self.store.read_raw() as connection, DataView(connection) as view:
            moves = stage_moves(view, since)
            reached = stages_reached(view, order)
        steps = []
        path = [stage for stage in order if stage != "other"]  # HubSpot's stage off the path
        for before, after in zip(path, path[1:], strict=False):
            base = reached.get(before, 0)
            steps.append((before, after, base, reached.get(after, 0)))
        return Funnel(order, now, moves, reached, steps, since)

    def list_page(self, name: str, *, weeks: int = 12, limit: int = 50,
                  cursor: str | None = None) -> ListPage:
        """A list's definition, newest members and joins and leaves per week (LS162 for no
        such list)."""
        from leadscore.storage.web_reads import list_activity, week_of

        members = self.list_members(name, limit=limit, cursor=cursor)  # LS162 first
        item = next(x for x in self.lists if x.name == name)
        since = week_of(datetime.now(UTC)) - timedelta(weeks=weeks - 1)
        with self.store.read() as connection:
            activity = list_activity(connection, name, since)
        return ListPage(name, item.description or "", self._list_source(name), members,
                        activity)

    def _list_source(self, name: str) -> str:
        """The list's entry of the lists file, as YAML (aliases written out)."""
        import yaml

        path = self.config.lists_path
        if path is None or not path.is_file():
            return ""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            return ""
        entries = data.get("lists", []) if isinstance(data, dict) else []
        entry = next((x for x in entries if isinstance(x, dict) and x.get("name") == name), {})
        return yaml.safe_dump(entry, sort_keys=False, allow_unicode=True, width=90)

    def workflow_summary(self, *, steps: int = 50) -> WorkflowSummary:
        """Each workflow with its enrollments by status, the newest steps, and the dead
        letters (notifications that gave up) waiting for a retry."""
        from leadscore.storage.web_reads import enrollment_counts, recent_steps

        with self.store.read() as connection:
            counts = enrollment_counts(connection)
            recent = recent_steps(connection, None, steps)
        names = [w.name for w in self.workflows()]
        dead = self.outbox_page(status="dead", limit=100).items
        return WorkflowSummary([(n, counts.get(n, {})) for n in names], recent, dead)

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


__all__ = ["Funnel", "LeadChoices", "ListPage", "ModelRow", "ModelScore", "ModelTable",
           "TimelineItem", "WorkflowSummary",
           "WebReadOperations"]
