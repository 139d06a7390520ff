"""The meaning of criteria — property, event, score, company and list conditions, their value
tests, ranges, times and durations — checked against a catalog and built as the frozen tree of
`criteria.py`; the part of `CriteriaCompiler` (`compile.py`) that lists and workflows files
share with model files."""


from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from leadscore.catalog import (
    Catalog,
    CoercionError,
    EventTypeDef,
    PropertyType,
    parse_datetime,
    parse_duration,
)
from leadscore.catalog.catalog import LIFECYCLE_STAGE_VALUES
from leadscore.diagnostics import (
    Diagnostic,
    DiagnosticList,
    did_you_mean,
)
from leadscore.model import criteria as c
from leadscore.model.company_conditions import company_list_criterion, company_score_criterion
from leadscore.model.label_ranges import label_range
from leadscore.model.limits import MAX_COUNT
from leadscore.model.model import (
    Score,
)
from leadscore.model.operators import OPERATORS, read_expected
from leadscore.model.source import Path, SourceDocument
from leadscore.model.spec import (
    CountSpec,
    CriterionSpec,
    TierSpec,
    ValueTest,
)

VALUE_OPS = tuple(ValueTest.model_fields)
EVENT_KEYS = ("where", "since", "until", "count")
KINDS = ("property", "event", "score", "company_score", "company_list", "in_list", "all", "any",
         "not_")
CONTEXT_KEYS = ("score", "label", "in_list")


def combine(kind: str, spec: Any, path: Path, criterion: Callable[[Any, Path], Any],
            error: Callable[..., None], empty_code: str) -> c.Criterion | None:
    """`not`, `all` or `any` of a criterion spec (contacts' or companies'), its children
    compiled by `criterion`; an empty `all`/`any` is the mistake `empty_code`."""
    if kind == "not_":
        assert spec.not_ is not None
        child = criterion(spec.not_, path + ("not",))
        return c.Not(child) if child is not None else None
    items = spec.all if kind == "all" else spec.any
    if not items:
        error(empty_code, f"'{kind}' needs at least one criterion", path + (kind,))
        return None
    children = [criterion(item, path + (kind, i)) for i, item in enumerate(items)]
    if any(child is None for child in children):
        return None
    node = c.AllOf if kind == "all" else c.AnyOf
    return node(tuple(child for child in children if child is not None))


class CriterionCompiler:
    """Checks criteria of a validated spec and builds them, reporting every mistake with its
    place (`error`); `CriteriaCompiler` adds the model file's own parts."""

    def __init__(self, doc: SourceDocument, remap=lambda path: path, *,
                 catalog: Catalog | None = None,
                 scores: dict[str, Score] | None = None,
                 lists: set[str] | None = None,
                 exclusions: tuple[c.EventExclusion, ...] = (),
                 company_scores: dict[str, Score] | None = None,
                 company_lists: set[str] | None = None) -> None:
        self.doc = doc
        self.remap = remap
        self.problems = DiagnosticList()
        self.catalog = catalog or Catalog()
        self.scores = scores  # None: score/list conditions are not allowed here
        self.lists = lists or set()
        # None: company_score conditions are not allowed here (LS194); else the model's
        # company scores by name (none without a `companies:` section)
        self.company_scores = company_scores if scores is not None else None
        # None: company_list conditions are not allowed here (LS199); else the company lists
        # of the lists file
        self.company_lists = company_lists
        self.exclusions = exclusions  # every event criterion carries those of its type
        self.stage_names: tuple[str, ...] = LIFECYCLE_STAGE_VALUES[:-1]
        self.contact_catalog = self.catalog  # in a model's `companies:`, the contacts' own

    # reporting
    def error(self, code: str, message: str, path: Path, *, key: bool = False,
              hint: str | None = None) -> None:
        location, text = self.doc.location(self.remap(path), key=key)
        self.problems.add(Diagnostic(code, message, location, text=text, hint=hint))

    def range_of(self, spec: TierSpec | CountSpec, path: Path, *,
                 is_count: bool) -> tuple[float | None, float | None]:
        given = [k for k in ("exactly", "between", "at_least", "at_most")
                 if getattr(spec, k) is not None]
        if len(given) != 1:
            self.error("LS115", "write exactly one of exactly, between, at_least, at_most"
                       + (f" (found {', '.join(given)})" if given else ""), path,
                       hint="e.g. between: [2, 5] or at_least: 6")
            return None, None
        low: float | None
        high: float | None
        written = [spec.exactly, spec.at_least, spec.at_most, *(spec.between or [])]
        if any(isinstance(v, float) and not math.isfinite(v) for v in written):
            self.error("LS115", "a range is written with finite numbers", path,
                       hint="leave out the upper end instead: at_least: 6")
            return None, None
        if spec.exactly is not None:
            low = high = spec.exactly
        elif spec.between is not None:
            if len(spec.between) != 2 or spec.between[0] > spec.between[1]:
                self.error("LS115", "'between' takes [low, high] with low ≤ high",
                           path + ("between",))
                return None, None
            low, high = spec.between
        elif spec.at_least is not None:
            low, high = spec.at_least, None
        else:
            low, high = None, spec.at_most
        if spec.include_none and spec.at_most is None:
            self.error("LS115", "'include_none' goes with 'at_most'", path + ("include_none",),
                       key=True, hint="exactly: 0 or between: [0, n] already include none")
        if is_count:
            if low is None:
                low = 0 if spec.include_none else 1
            if any(v is not None and (v < 0 or v > MAX_COUNT or v != int(v))
                   for v in (low, high)):
                self.error("LS115", f"event counts are whole numbers from 0 to {MAX_COUNT:,}",
                           path)
        return low, high

    def check_bounds(self, low: float | None, high: float | None, path: Path) -> None:
        if low is not None and high is not None and low > high:
            self.error("LS135", f"min ({low:g}) is above max ({high:g})", path + ("min",))

    # criteria ------------------------------------------------------------------------------
    def criterion(self, spec: CriterionSpec, path: Path, *, bare_ok: bool = False
                  ) -> c.Criterion | None:
        given = spec.model_fields_set
        kinds = [k for k in KINDS if k in given]
        if len(kinds) != 1:
            found = f" (found {', '.join(_key(k) for k in kinds)})" if kinds else ""
            self.error("LS110", "a criterion needs exactly one of property, event, score, "
                       "company_score, company_list, list, all, any, not" + found, path,
                       key=True,
                       hint="combine several criteria with all: [...] or any: [...]")
            return None
        kind = kinds[0]
        if kind == "company_score":
            return company_score_criterion(self, spec, path)
        if kind == "company_list":
            return company_list_criterion(self, spec, path)
        if kind in ("score", "in_list"):
            return self.context_criterion(spec, path, kind)
        if "label" in given:
            self.error("LS112", "'label' goes with 'score' or 'company_score'",
                       path + ("label",), key=True)
        if kind == "property":
            return self.property_criterion(spec, path, bare_ok=bare_ok)
        if kind == "event":
            return self.event_criterion(spec, path)
        extra = sorted(given - {kind})
        if extra:
            self.error("LS112", f"'{_key(extra[0])}' cannot stand beside '{_key(kind)}'",
                       path + (_key(extra[0]),), key=True,
                       hint="put it inside one of the combined criteria")
        return combine(kind, spec, path, self.criterion, self.error, "LS110")

    def context_criterion(self, spec: CriterionSpec, path: Path, kind: str
                          ) -> c.ScoreCriterion | c.ListCriterion | None:
        """`score:` and `list:` conditions (lists, workflows and stage rules only)."""
        key = _key(kind)
        if self.scores is None:
            self.error("LS117", f"'{key}' conditions belong in lists, workflows and stage "
                       "rules, not in scoring rules", path + (key,), key=True,
                       hint="a score cannot depend on scores or lists")
            return None
        given = spec.model_fields_set
        for other in [*EVENT_KEYS, "property", "event"]:
            if other in given:
                self.error("LS112", f"'{other}' cannot stand beside '{key}'", path + (other,),
                           key=True)
        if kind == "in_list":
            name = spec.in_list or ""
            if name not in self.lists and name in (self.company_lists or ()):
                self.error("LS198", f"'{name}' is a company list, not a list of contacts",
                           path + ("list",), hint=f"{{company_list: {name}}}: the contact's "
                           "company is in it")
                return None
            if name not in self.lists:
                self.error("LS124", f"unknown list '{name}'", path + ("list",),
                           hint=did_you_mean(name, self.lists)
                           or "lists are defined in the lists file")
                return None
            return c.ListCriterion(name)
        name = spec.score or ""
        score = self.scores.get(name)
        if score is None:
            self.error("LS123", f"unknown score '{name}'", path + ("score",),
                       hint=did_you_mean(name, self.scores)
                       or "scores: " + ", ".join(self.scores))
            return None
        return self.score_condition(spec, path, name, score, "score")

    def score_condition(self, spec: CriterionSpec, path: Path, name: str, score: Score,
                        what: str) -> c.ScoreCriterion | None:
        """The value or label test of a `score:` or `company_score:` condition."""
        given = spec.model_fields_set
        ops = [k for k in VALUE_OPS if k in given]
        if "label" in given:
            if ops:
                self.error("LS111", f"test either the {what}'s 'label' or its value, not both",
                           path + (ops[0],), key=True)
                return None
            if isinstance(spec.label, dict):
                return label_range(self, name, score, spec.label, path + ("label",))
            written = spec.label if isinstance(spec.label, list) else [spec.label]
            known = {t.label for t in score.thresholds}
            for label in written:
                if str(label) not in known:
                    self.error("LS125", f"{what} '{name}' has no threshold label '{label}'",
                               path + ("label",), hint=did_you_mean(str(label), known)
                               or "labels: " + ", ".join(sorted(known)))
                    return None
            return c.ScoreCriterion(name, labels=frozenset(str(x).lower() for x in written))
        if len(ops) != 1:
            key = "score" if what == "score" else "company_score"
            self.error("LS111", f"the condition on {what} '{name}' needs one operator or "
                       "'label'", path, key=True, hint=f"e.g. {{{key}: {name}, at_least: 65}} "
                       f"or {{{key}: {name}, label: Hot}}")
            return None
        test = self.value_test(ops[0], getattr(spec, ops[0]), PropertyType.NUMBER, (),
                               path + (ops[0],), subject=f"{what} '{name}'")
        return c.ScoreCriterion(name, test) if test else None

    def property_criterion(self, spec: CriterionSpec, path: Path, *, bare_ok: bool
                           ) -> c.PropertyCriterion | None:
        name = spec.property or ""
        given = spec.model_fields_set
        for key in EVENT_KEYS:
            if key in given:
                self.error("LS112", f"'{key}' applies to event criteria, not to properties",
                           path + (key,), key=True)
        definition = self.catalog.property(name)
        if definition is None:
            self.error("LS120", f"unknown property '{name}'", path + ("property",),
                       hint=did_you_mean(name, self.catalog.properties)
                       or "declare it under 'properties:' with its type")
            return None
        ops = [k for k in VALUE_OPS if k in given]
        if not ops:
            if bare_ok:
                return c.PropertyCriterion(name, None, definition.type, definition.options)
            self.error("LS111", f"the criterion on '{name}' needs an operator", path, key=True,
                       hint="operators for " + definition.type + ": "
                       + ", ".join(o.name for o in OPERATORS.values()
                                   if definition.type in o.types))
            return None
        if len(ops) > 1:
            self.error("LS111", f"one operator per criterion (found {', '.join(ops)})",
                       path + (ops[1],), key=True,
                       hint="combine them with all: [...] or any: [...]")
            return None
        test = self.value_test(ops[0], getattr(spec, ops[0]), definition.type, definition.options,
                               path + (ops[0],), subject=f"property '{name}'")
        return (c.PropertyCriterion(name, test, definition.type, definition.options) if test
                else None)

    def value_test(self, op_name: str, written: Any, kind: PropertyType,
                   options: tuple[str, ...], path: Path, *, subject: str) -> c.ValueTest | None:
        op = OPERATORS[op_name]
        if kind not in op.types:
            suitable = [o.name for o in OPERATORS.values() if kind in o.types]
            self.error("LS113", f"'{op_name}' does not apply to {subject} ({kind})", path,
                       key=True, hint="use one of: " + ", ".join(suitable))
            return None
        try:
            expected = read_expected(op, written, kind, options)
        except CoercionError as exc:
            self.error("LS114", f"{subject}: {exc}", path)
            return None
        return c.ValueTest(op_name, expected, written)

    def event_criterion(self, spec: CriterionSpec, path: Path) -> c.EventCriterion | None:
        name = spec.event or ""
        given = spec.model_fields_set
        definition = self.catalog.event_type(name)
        if definition is None:
            self.error("LS121", f"unknown event type '{name}'", path + ("event",),
                       hint=did_you_mean(name, self.catalog.event_types)
                       or "declare it under 'event_types:'")
            return None
        for key in VALUE_OPS:
            if key in given and key != "within_last":
                self.error("LS112", f"'{key}' tests a value; on events it goes under 'where'",
                           path + (key,), key=True,
                           hint=f"where: {{url: {{{key}: ...}}}}")
        filters: list[c.AttributeFilter] = []
        for attribute, test in (spec.where or {}).items():
            found = self.attribute_filter(definition, str(attribute), test,
                                          path + ("where", attribute))
            if found is not None:
                filters.append(found)
        window = c.Window(
            within_last=self.duration_of(spec.within_last, path + ("within_last",)),
            since=self.date_of(spec.since, path + ("since",)),
            until=self.date_of(spec.until, path + ("until",)),
        )
        if window.since and window.until and window.since > window.until:
            self.error("LS114", "'since' is after 'until'", path + ("since",))
        count = c.CountRange()
        if spec.count is not None:
            low, high = self.range_of(spec.count, path + ("count",), is_count=True)
            count = c.CountRange(int(low if low is not None else 1),
                                 None if high is None else int(high))
        return c.EventCriterion(name, tuple(filters), window, count,
                                count_written=spec.count is not None,
                                excluding=tuple(e for e in self.exclusions if e.applies_to(name)))

    def attribute_filter(self, definition: EventTypeDef, attribute: str, test: Any,
                         path: Path) -> c.AttributeFilter | None:
        kind = definition.attributes.get(attribute)
        if kind is None and not definition.open_attributes:
            self.error("LS122", f"event type '{definition.name}' has no attribute '{attribute}'",
                       path, key=True, hint=did_you_mean(attribute, definition.attributes)
                       or "attributes: " + ", ".join(definition.attributes))
            return None
        if not isinstance(test, dict):
            test = {"any_of" if isinstance(test, list) else "equals": test}
        if len(test) != 1 or next(iter(test)) not in OPERATORS:
            key = next(iter(test), "")
            self.error("LS111", f"a filter on '{attribute}' takes one operator",
                       path + ((key,) if key else ()), key=bool(key),
                       hint=did_you_mean(str(key), OPERATORS) or "e.g. {matches: '*/pricing*'}")
            return None
        op_name, written = next(iter(test.items()))
        if op_name == "changed_within":
            self.error("LS113", "'changed_within' applies to properties, not event attributes",
                       path + (op_name,), key=True)
            return None
        if kind is None:
            numeric = OPERATORS[op_name].types == frozenset({PropertyType.NUMBER,
                                                             PropertyType.DATE})
            kind = PropertyType.NUMBER if numeric else PropertyType.STRING
        value = self.value_test(op_name, written, kind, (), path + (op_name,),
                                subject=f"attribute '{attribute}'")
        if kind is PropertyType.ENUM:  # attributes carry no options: compared as text
            kind = PropertyType.STRING
        return c.AttributeFilter(attribute, value, kind) if value else None

    def duration_of(self, value: Any, path: Path):  # -> timedelta | None
        if value is None:
            return None
        try:
            return parse_duration(value)
        except CoercionError as exc:
            self.error("LS114", str(exc), path)
            return None

    def date_of(self, value: Any, path: Path):  # -> datetime | None
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except CoercionError as exc:
            self.error("LS114", str(exc), path)
            return None


def _key(field_name: str) -> str:
    """The key as written in the file for a spec field name."""
    return {"not_": "not", "in_list": "list"}.get(field_name, field_name)
