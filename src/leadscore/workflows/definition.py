"""Workflows as files: a trigger, enrollment options and steps, validated like the model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from leadscore.catalog import CoercionError, PropertyType, coerce_value, parse_duration
from leadscore.diagnostics import did_you_mean
from leadscore.lists import ListSet
from leadscore.model import Model
from leadscore.model import criteria as c
from leadscore.model.compile import CriteriaCompiler, model_company_scores
from leadscore.model.limits import check_durations
from leadscore.model.source import Path as SpecPath
from leadscore.model.source import read_source, read_yaml
from leadscore.model.spec import CriterionSpec, _Spec
from leadscore.model.structure import validate_structure

# --- the file's structure -------------------------------------------------------------------


class PropertyTriggerSpec(_Spec):
    property: str
    to: Any = Field(None, description="Only when it changes to this value")


class ScoreTriggerSpec(_Spec):
    score: str
    label: str | None = Field(None, description="Reaches this threshold label")
    at_least: float | None = Field(None, description="Reaches this value")


class TriggerSpec(_Spec):
    """Exactly one enrollment trigger."""

    joins_list: str | None = None
    property_changed: PropertyTriggerSpec | None = None
    property_known: str | None = None
    score_crosses: ScoreTriggerSpec | None = None
    event: CriterionSpec | None = Field(None, description="An event criterion: each new one")


class NotifySpec(_Spec):
    channel: str = Field(description="A webhook or e-mail channel from leadscore.toml")
    message: str = Field(description="Text; {contact.email}, {score.total}, {label.total} …")
    subject: str | None = None
    to: str | None = Field(None, description="E-mail recipient; default: the channel's")


class TaskSpec(_Spec):
    title: str
    due_in: str | None = Field(None, description="e.g. 1d")
    owner: str | None = Field(None, description="Default: the contact's owner property")


class NurtureSpec(_Spec):
    channel: str = Field(description="The e-mail system's webhook channel")
    sequence: str


class AdjustSpec(_Spec):
    score: str
    below: str = Field(description="Take away enough points to fall below this label")
    reason: Literal["manual", "correction", "reset", "not_ready", "unqualified",
                    "workflow"] = Field(
        "workflow", description="The reason the score ledger entry records")


class BranchSpec(_Spec):
    if_: CriterionSpec = Field(alias="if")
    then: list[StepSpec] = Field(default_factory=list)
    else_: list[StepSpec] = Field(default_factory=list, alias="else")


class StepSpec(_Spec):
    """Exactly one action."""

    set_property: dict[str, Any] | None = None
    clear_property: str | None = None
    set_stage: str | None = None
    clear_stage: bool | None = None
    notify: NotifySpec | None = None
    create_task: TaskSpec | None = None
    delay: str | None = Field(None, description="Wait, e.g. 2d")
    branch: BranchSpec | None = None
    nurture: NurtureSpec | None = None
    adjust_score: AdjustSpec | None = None


BranchSpec.model_rebuild()


class WorkflowSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str | None = None
    trigger: TriggerSpec
    enroll_existing: bool = Field(
        False, description="When the workflow is first loaded, enroll everyone who qualifies")
    reenroll: bool = Field(
        False, description="Enroll again on each new transition from not matching to matching")
    steps: list[StepSpec] = Field(min_length=1)


class WorkflowsFileSpec(_Spec):
    """Workflows (version 1)."""

    version: Literal[1]
    workflows: list[WorkflowSpec]


# --- typed workflows ------------------------------------------------------------------------

ACTIONS = tuple(StepSpec.model_fields)


@dataclass(frozen=True)
class Step:
    action: str  # one of ACTIONS
    args: dict[str, Any] = field(default_factory=dict)
    condition: c.Criterion | None = None  # branch
    then: tuple[Step, ...] = ()
    otherwise: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Trigger:
    """State triggers enroll on a transition from not matching to matching; occurrence
    triggers (an event happens, a property changes to anything) on each new occurrence."""

    kind: str  # joins_list | property_changed | property_known | score_crosses | event
    criterion: c.Criterion | None = None  # state triggers
    event: c.EventCriterion | None = None  # occurrence: new events matching this
    changed_property: str | None = None  # occurrence: any new change of this property

    @property
    def is_occurrence(self) -> bool:
        return self.criterion is None

    def describe(self) -> str:
        return self.kind.replace("_", " ")


@dataclass(frozen=True)
class Workflow:
    name: str
    trigger: Trigger
    steps: tuple[Step, ...]
    enroll_existing: bool = False
    reenroll: bool = False
    description: str | None = None


PLACEHOLDER = re.compile(r"\{(contact|score|label)\.([A-Za-z0-9_]+)\}")


def load_workflows(path: str | Path, model: Model, lists: ListSet,
                   channels: set[str] | None = None) -> list[Workflow]:
    text = read_source(path, code="LS170", what="workflows file",
                       hint="create it, or remove [automation] workflows from leadscore.toml")
    return parse_workflows(text, str(path), model, lists, channels)


def parse_workflows(text: str, file: str, model: Model, lists: ListSet,
                    channels: set[str] | None = None) -> list[Workflow]:
    """`channels`: the delivery channel names configured (None: not checked)."""
    document = read_yaml(text, file)
    spec, remap, structural = validate_structure(document, WorkflowsFileSpec)
    compiler = CriteriaCompiler(document, remap, catalog=model.catalog, scores=model.scores,
                                company_scores=model_company_scores(model),
                                exclusions=model.exclusions,
                                lists=set(lists.lists),
                                company_lists=set(lists.company_lists))
    compiler.problems.extend(structural)
    compiler.problems.extend(check_durations(document))
    builder = _Builder(compiler, model, lists, channels)
    workflows = builder.workflows(spec.workflows) if spec is not None else []
    compiler.problems.raise_if_errors()
    return workflows


class _Builder:
    def __init__(self, compiler: CriteriaCompiler, model: Model, lists: ListSet,
                 channels: set[str] | None) -> None:
        self.compiler = compiler
        self.model = model
        self.lists = lists
        self.channels = channels

    def error(self, code: str, message: str, path: SpecPath, *, key: bool = False,
              hint: str | None = None) -> None:
        self.compiler.error(code, message, path, key=key, hint=hint)

    def workflows(self, specs: list[WorkflowSpec]) -> list[Workflow]:
        out: list[Workflow] = []
        seen: set[str] = set()
        for i, spec in enumerate(specs):
            path: SpecPath = ("workflows", i)
            if spec.name in seen:
                self.error("LS171", f"workflow name '{spec.name}' is used twice",
                           path + ("name",))
            seen.add(spec.name)
            trigger = self.trigger(spec.trigger, path + ("trigger",))
            steps = self.steps(spec.steps, path + ("steps",))
            if trigger is not None:
                out.append(Workflow(spec.name, trigger, steps, spec.enroll_existing,
                                    spec.reenroll, spec.description))
        return out

    def trigger(self, spec: TriggerSpec, path: SpecPath) -> Trigger | None:
        given = [k for k in TriggerSpec.model_fields if getattr(spec, k) is not None]
        if len(given) != 1:
            self.error("LS172", "a trigger needs exactly one of "
                       + ", ".join(TriggerSpec.model_fields), path, key=True)
            return None
        kind = given[0]
        if kind == "joins_list":
            name = spec.joins_list or ""
            if name in self.lists.company_lists:
                self.error("LS198", f"'{name}' is a company list: workflows follow contacts",
                           path + (kind,), hint="a list of contacts on {company_list: "
                           f"{name}}} gives the contacts whose company joins it")
                return None
            if name not in self.lists:
                self.error("LS124", f"unknown list '{name}'", path + (kind,),
                           hint=did_you_mean(name, self.lists.lists))
                return None
            return Trigger(kind, c.ListCriterion(name))
        if kind == "property_known":
            name = spec.property_known or ""
            if self.property_type(name, path + (kind,)) is None:
                return None
            definition = self.model.catalog.properties[name]
            return Trigger(kind, c.PropertyCriterion(name, c.ValueTest("is_known", True, True),
                                                     definition.type, definition.options))
        if kind == "property_changed":
            assert spec.property_changed is not None
            name, to = spec.property_changed.property, spec.property_changed.to
            ptype = self.property_type(name, path + (kind, "property"))
            if ptype is None:
                return None
            if to is None:
                return Trigger(kind, changed_property=name)
            try:
                options = self.model.catalog.properties[name].options
                expected = coerce_value(to, ptype, options=options)
            except CoercionError as exc:
                self.error("LS114", f"property '{name}': {exc}", path + (kind, "to"))
                return None
            folded = expected.lower() if isinstance(expected, str) else expected
            return Trigger(kind, c.PropertyCriterion(name, c.ValueTest("equals", folded, to),
                                                     ptype, options))
        if kind == "score_crosses":
            assert spec.score_crosses is not None
            crosses = spec.score_crosses
            score = self.model.scores.get(crosses.score)
            if score is None:
                self.error("LS123", f"unknown score '{crosses.score}'", path + (kind, "score"),
                           hint=did_you_mean(crosses.score, self.model.scores))
                return None
            if (crosses.label is None) == (crosses.at_least is None):
                self.error("LS172", "score_crosses needs 'label' or 'at_least'", path + (kind,),
                           key=True)
                return None
            if crosses.label is not None:
                labels = {t.label for t in score.thresholds}
                if crosses.label not in labels:
                    self.error("LS125", f"score '{crosses.score}' has no threshold label "
                               f"'{crosses.label}'", path + (kind, "label"),
                               hint=did_you_mean(crosses.label, labels))
                    return None
                return Trigger(kind, c.ScoreCriterion(crosses.score,
                                                      labels=frozenset({crosses.label.lower()})))
            return Trigger(kind, c.ScoreCriterion(crosses.score, c.ValueTest(
                "at_least", crosses.at_least, crosses.at_least)))
        assert spec.event is not None
        criterion = self.compiler.criterion(spec.event, path + ("event",))
        if criterion is None:
            return None
        if not isinstance(criterion, c.EventCriterion) or criterion.count_written:
            self.error("LS172", "an event trigger is one event criterion (type and filters, "
                       "no count)", path + ("event",), key=True)
            return None
        return Trigger(kind, event=criterion)

    def property_type(self, name: str, path: SpecPath) -> PropertyType | None:
        definition = self.model.catalog.property(name)
        if definition is None:
            self.error("LS120", f"unknown property '{name}'", path,
                       hint=did_you_mean(name, self.model.catalog.properties))
            return None
        return definition.type

    def steps(self, specs: list[StepSpec], path: SpecPath) -> tuple[Step, ...]:
        out = []
        for i, spec in enumerate(specs):
            step = self.step(spec, path + (i,))
            if step is not None:
                out.append(step)
        return tuple(out)

    def step(self, spec: StepSpec, path: SpecPath) -> Step | None:
        given = [k for k in ACTIONS if getattr(spec, k) is not None]
        if len(given) != 1:
            self.error("LS173", "a step needs exactly one action" + (
                f" (found {', '.join(given)})" if given else ""), path, key=True,
                hint="actions: " + ", ".join(ACTIONS))
            return None
        action = given[0]
        value = getattr(spec, action)
        where = path + (action,)
        if action == "set_property":
            values = {}
            for name, raw in value.items():
                ptype = self.property_type(str(name), where + (name,))
                if ptype is None:
                    continue
                try:
                    values[name] = coerce_value(raw, ptype, options=self.model.catalog.properties[
                        name].options)
                except CoercionError as exc:
                    self.error("LS114", f"property '{name}': {exc}", where + (name,))
            return Step(action, {"values": values})
        if action == "clear_property":
            if self.property_type(value, where) is None:
                return None
            return Step(action, {"property": value})
        if action == "set_stage":
            if value not in self.model.lifecycle.stages:
                self.error("LS144", f"unknown lifecycle stage '{value}'", where,
                           hint=did_you_mean(value, self.model.lifecycle.stages))
                return None
            return Step(action, {"stage": value})
        if action == "clear_stage":
            return Step(action) if value else None
        if action == "delay":
            seconds = self.duration(value, where)
            return Step(action, {"seconds": seconds}) if seconds else None
        if action in ("notify", "nurture"):
            self.check_channel(value.channel, where + ("channel",))
            args = value.model_dump(by_alias=True)
            for key in ("message", "subject"):
                if args.get(key):
                    self.check_template(args[key], where + (key,))
            return Step(action, args)
        if action == "create_task":
            args = value.model_dump()
            self.check_template(value.title, where + ("title",))
            args["due_seconds"] = self.duration(value.due_in, where + ("due_in",)) \
                if value.due_in else None
            return Step(action, args)
        if action == "adjust_score":
            score = self.model.scores.get(value.score)
            if score is None:
                self.error("LS123", f"unknown score '{value.score}'", where + ("score",),
                           hint=did_you_mean(value.score, self.model.scores))
                return None
            threshold = next((t for t in score.thresholds if t.label == value.below), None)
            if threshold is None or threshold.min is None:
                self.error("LS125", f"score '{value.score}' has no threshold label "
                           f"'{value.below}' with a min", where + ("below",),
                           hint=did_you_mean(value.below, [t.label for t in score.thresholds]))
                return None
            return Step(action, {"score": value.score, "below": threshold.min,
                                 "label": value.below, "reason": value.reason})
        # branch
        condition = self.compiler.criterion(value.if_, where + ("if",))
        then = self.steps(value.then, where + ("then",))
        otherwise = self.steps(value.else_, where + ("else",))
        if condition is None:
            return None
        return Step(action, condition=condition, then=then, otherwise=otherwise)

    def duration(self, value: Any, path: SpecPath) -> float | None:
        try:
            return parse_duration(value).total_seconds()
        except CoercionError as exc:
            self.error("LS114", str(exc), path)
            return None

    def check_channel(self, name: str, path: SpecPath) -> None:
        if self.channels is not None and name not in self.channels:
            self.error("LS174", f"no delivery channel named '{name}'", path,
                       hint=did_you_mean(name, self.channels)
                       or "configure it under [delivery] in leadscore.toml")

    def check_template(self, text: str, path: SpecPath) -> None:
        for match in re.finditer(r"\{([^{}]*)\}", text):
            whole = match.group(0)
            found = PLACEHOLDER.fullmatch(whole)
            if found is None:
                self.error("LS175", f"unknown placeholder {whole} in text", path,
                           hint="use {contact.PROPERTY}, {score.NAME} or {label.NAME}")
                continue
            kind, name = found.groups()
            known = (self.model.catalog.properties if kind == "contact" else self.model.scores)
            if name not in known and name not in ("id", "email"):
                self.error("LS175", f"unknown {kind} '{name}' in placeholder {whole}", path,
                           hint=did_you_mean(name, known))


def render_template(text: str, properties: dict[str, Any], contact_id: str,
                    scores: dict[str, tuple[float, str | None]]) -> str:
    """Fill {contact.X}, {score.X} and {label.X} (nothing else is evaluated)."""

    def fill(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "contact":
            value = contact_id if name == "id" else properties.get(name)
        elif kind == "score":
            value = scores.get(name, (None, None))[0]
        else:
            value = scores.get(name, (None, None))[1]
        if value is None:
            return ""
        return f"{value:g}" if isinstance(value, float) else str(value)

    return PLACEHOLDER.sub(fill, text)
