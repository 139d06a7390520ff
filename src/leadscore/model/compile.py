"""From a model file to a validated `Model`, reporting every mistake of the file at once."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

from leadscore.catalog import (
    Catalog,
    CoercionError,
    EventTypeDef,
    PropertyDef,
    PropertyType,
    parse_datetime,
    parse_duration,
)
from leadscore.catalog.catalog import LIFECYCLE_STAGE_VALUES
from leadscore.diagnostics import (
    Diagnostic,
    DiagnosticList,
    LeadscoreError,
    Location,
    did_you_mean,
)
from leadscore.model import criteria as c
from leadscore.model.company_conditions import company_list_criterion, company_score_criterion
from leadscore.model.daily import check_daily_limit
from leadscore.model.exclusions import compile_exclusions
from leadscore.model.label_ranges import label_range
from leadscore.model.limits import MAX_COUNT, MAX_POINTS, check_durations, check_model_limits
from leadscore.model.model import (
    Decay,
    Grade,
    Group,
    Lifecycle,
    Model,
    Probability,
    Rule,
    Score,
    Threshold,
    Tier,
)
from leadscore.model.operators import OPERATORS, read_expected
from leadscore.model.source import Path, SourceDocument, read_source, read_yaml
from leadscore.model.spec import (
    CountSpec,
    CriterionSpec,
    DecaySpec,
    GroupSpec,
    LifecycleSpec,
    ModelSpec,
    ProbabilitySpec,
    RuleSpec,
    ScoreSpec,
    ThresholdSpec,
    TierSpec,
    ValueTest,
)
from leadscore.model.structure import validate_structure

VALUE_OPS = tuple(ValueTest.model_fields)
EVENT_KEYS = ("where", "since", "until", "count")
KINDS = ("property", "event", "score", "company_score", "company_list", "in_list", "all", "any",
         "not_")
CONTEXT_KEYS = ("score", "label", "in_list")


def load_model(path: str | FilePath) -> Model:
    """Read and validate a model file. Raises LeadscoreError with every mistake found."""
    text = read_source(path, code="LS100", what="model file",
                       hint="pass the path of a .yaml model file")
    return parse_model(text, str(path))


def parse_model(text: str, file: str = "<model>") -> Model:
    document = read_yaml(text, file)
    if not isinstance(document.data, dict):
        raise LeadscoreError.single(
            "LS104", "a model file must be a mapping with version, name and scores",
            Location(file, 1, 1), hint="start with 'version: 1'")
    spec, remap, structural = validate_structure(document, ModelSpec)
    compiler = CriteriaCompiler(document, remap)
    compiler.problems.extend(structural)
    compiler.problems.extend(check_durations(document))
    if spec is not None:
        check_model_limits(spec, lambda code, message, path, hint:
                           compiler.error(code, message, path, hint=hint))
    model = compiler.model(spec) if spec is not None else None
    compiler.problems.raise_if_errors()
    assert model is not None
    return model


# --- meaning ---------------------------------------------------------------------------------

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


def model_company_scores(model: Model) -> dict[str, Score]:
    """The company scores a lists or workflows file may read (none without `companies:`)."""
    return dict(model.companies.scores) if model.companies is not None else {}


class CriteriaCompiler:
    """Checks the meaning of a validated spec and builds typed objects. For a model file it
    builds the Model; lists and workflows files use it with the model's catalog, and with the
    score and list names that their `score:` and `list:` conditions may refer to."""

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

    def model(self, spec: ModelSpec) -> Model | None:
        self.stage_names = self.stage_order(spec)
        self.catalog = self.declarations(spec)
        self.exclusions = compile_exclusions(self, spec.exclude_events)
        scores: dict[str, Score] = {}
        for name, score_spec in spec.scores.items():
            score = self.score(name, score_spec, ("scores", name), spec)
            if score is not None:
                scores[name] = score
        scores = self.order_sums(scores, spec)
        self.check_stages(scores)
        grade = self.grade(spec, scores) if spec.grade else None
        companies = None
        if spec.companies is not None:
            from leadscore.model.company_compile import CompanyCompiler

            self.contact_catalog = self.catalog
            companies = CompanyCompiler(self, scores).companies(spec.companies)
            self.catalog = self.contact_catalog
        # stage rules may read the scores (`{score: fit, label: {at_least: B}}`), never a list
        self.scores, self.lists = scores, set()
        self.company_scores = dict(companies.scores) if companies is not None else {}
        lifecycle = (self.lifecycle(spec.lifecycle) if spec.lifecycle
                     else Lifecycle(order=self.stage_names))
        digest = hashlib.sha256(self.doc.text.encode()).hexdigest()[:16]
        return Model(name=spec.name, scores=scores, catalog=self.catalog, grade=grade,
                     lifecycle=lifecycle, description=spec.description, version=spec.version,
                     path=self.doc.file, digest=digest, exclusions=self.exclusions,
                     companies=companies)

    def stage_order(self, spec: ModelSpec) -> tuple[str, ...]:
        order = spec.lifecycle.order if spec.lifecycle else None
        if order is None:
            return LIFECYCLE_STAGE_VALUES[:-1]  # all but 'other'
        path: Path = ("lifecycle", "order")
        if not order or len(set(order)) != len(order) or "other" in order:
            self.error("LS147", "the stage order lists each stage once, lowest first, without "
                       "'other'", path, key=True, hint="e.g. [subscriber, lead, mql, sql, "
                       "opportunity, customer]")
            return LIFECYCLE_STAGE_VALUES[:-1]
        return tuple(str(stage) for stage in order)

    def lifecycle(self, spec: LifecycleSpec) -> Lifecycle:
        path: Path = ("lifecycle",)
        known = (*self.stage_names, "other")
        exclude = [self.criterion(item, path + ("exclude", i))
                   for i, item in enumerate(spec.exclude)]
        qualify = []
        for stage, item in spec.qualify.items():
            if stage not in known:
                self.error("LS144", f"unknown lifecycle stage '{stage}'",
                           path + ("qualify", stage), key=True,
                           hint=did_you_mean(stage, known))
                continue
            criterion = self.criterion(item, path + ("qualify", stage))
            if criterion is not None:
                qualify.append((stage, criterion))
        qualify.sort(key=lambda pair: -known.index(pair[0]))
        return Lifecycle(tuple(x for x in exclude if x is not None), tuple(qualify),
                         self.stage_names)

    def declarations(self, spec: ModelSpec) -> Catalog:
        standard = Catalog()
        properties: dict[str, PropertyDef] = {}
        for name, decl in spec.properties.items():
            path: Path = ("properties", name)
            existing = standard.property(name)
            if existing is not None and existing.type != decl.type:
                self.error("LS151", f"'{name}' is a standard property of type "
                           f"{existing.type}; it cannot be redeclared as {decl.type}", path,
                           key=True, hint="choose another name for your own property")
                continue
            if decl.type == "enum" and not decl.values:
                self.error("LS150", f"enum property '{name}' needs 'values'", path, key=True,
                           hint="list the allowed values: values: [a, b, c]")
            properties[name] = PropertyDef(name, PropertyType(decl.type), decl.description or "",
                                           tuple(decl.values or ()))
        event_types: dict[str, EventTypeDef] = {}
        for name, event_decl in spec.event_types.items():
            base = standard.event_type(name)
            attributes = {**(base.attributes if base else {}),
                          **{k: PropertyType(v) for k, v in event_decl.attributes.items()}}
            event_types[name] = EventTypeDef(
                name, event_decl.description or "", attributes,
                open_attributes=not event_decl.attributes and base is None)
        if self.stage_names != LIFECYCLE_STAGE_VALUES[:-1]:
            properties["lifecycle_stage"] = PropertyDef(
                "lifecycle_stage", PropertyType.ENUM, "Lifecycle stage",
                (*self.stage_names, "other"))
        return Catalog(properties, event_types)

    # scores --------------------------------------------------------------------------------
    def score(self, name: str, spec: ScoreSpec, path: Path, model: ModelSpec) -> Score | None:
        self.check_bounds(spec.min, spec.max, path)
        thresholds = self.thresholds(spec.thresholds, path + ("thresholds",))
        probability = (self.probability(spec.probability, path + ("probability",))
                       if spec.probability is not None else None)
        if spec.sum is not None:
            if spec.rules or spec.groups:
                self.error("LS141", f"score '{name}' is a sum; it cannot also have rules",
                           path + ("sum",), key=True,
                           hint="move the rules into one of the summed scores")
            for i, part in enumerate(spec.sum):
                if part not in model.scores or part == name:
                    self.error("LS140", f"score '{name}' sums unknown score '{part}'",
                               path + ("sum", i),
                               hint=did_you_mean(part, [s for s in model.scores if s != name]))
            return Score(name, max=spec.max, min=spec.min, thresholds=thresholds,
                         sum_of=tuple(spec.sum), description=spec.description,
                         probability=probability)
        if not spec.rules and not spec.groups:
            self.error("LS105", f"score '{name}' has no rules", path, key=True,
                       hint="add 'rules:' (or 'groups:'), or 'sum: [fit, engagement]'")
        default_decay = self.decay(spec.decay, path + ("decay",)) if spec.decay else None
        names: dict[str, Path] = {}
        rules = self.rules(spec.rules, path, default_decay, names)
        groups = []
        for gi, group_spec in enumerate(spec.groups):
            group = self.group(group_spec, path + ("groups", gi), default_decay, names)
            if group is not None:
                groups.append(group)
        return Score(name, rules=rules, groups=tuple(groups), max=spec.max, min=spec.min,
                     thresholds=thresholds, description=spec.description,
                     probability=probability)

    def probability(self, spec: ProbabilitySpec, path: Path) -> Probability | None:
        """A score's calibration: `points` (scores rising, probabilities from 0 to 1) or
        `logistic`, not both (LS148)."""
        within = self.duration_of(spec.within, path + ("within",))
        if (spec.points is None) == (spec.logistic is None):
            self.error("LS148", "a probability needs 'points' ([score, probability] pairs) "
                       "or 'logistic' ({intercept, slope}), one of them", path, key=True,
                       hint="`leadscore suggest` writes one; or leave 'probability' out")
            return None
        seconds = within.total_seconds() if within is not None else None
        if spec.logistic is not None:
            values = (spec.logistic.intercept, spec.logistic.slope)
            if not all(math.isfinite(v) for v in values):
                self.error("LS148", "the logistic's intercept and slope must be finite numbers",
                           path + ("logistic",))
                return None
            return Probability((), *values, within=seconds, description=spec.description)
        points: list[tuple[float, float]] = []
        for i, pair in enumerate(spec.points or []):
            if len(pair) != 2 or not all(math.isfinite(v) for v in pair):
                self.error("LS148", "each point is [score, probability]",
                           path + ("points", i), hint="e.g. [40, 0.25]")
                return None
            if not 0 <= pair[1] <= 1:
                self.error("LS148", f"probability {pair[1]:g} is not between 0 and 1",
                           path + ("points", i, 1))
                return None
            if points and pair[0] <= points[-1][0]:
                self.error("LS148", f"the scores of the points must rise: {pair[0]:g} comes "
                           f"after {points[-1][0]:g}", path + ("points", i, 0))
                return None
            points.append((float(pair[0]), float(pair[1])))
        if not points:
            self.error("LS148", "a probability's points are empty", path + ("points",),
                       hint="e.g. points: [[0, 0.05], [40, 0.25], [80, 0.6]]")
            return None
        return Probability(tuple(points), within=seconds, description=spec.description)

    def group(self, spec: GroupSpec, path: Path, decay: Decay | None,
              names: dict[str, Path]) -> Group | None:
        self.check_bounds(spec.min, spec.max, path)
        if spec.decay is False:
            decay = None
        elif spec.decay is not None:
            decay = self.decay(spec.decay, path + ("decay",))
        rules = self.rules(spec.rules, path, decay, names)
        return Group(spec.name, rules, max=spec.max, min=spec.min, description=spec.description)

    def rules(self, specs: list[RuleSpec], path: Path, decay: Decay | None,
              names: dict[str, Path]) -> tuple[Rule, ...]:
        built = (self.rule(spec, path + ("rules", i), decay, names) for i, spec in enumerate(specs))
        return tuple(rule for rule in built if rule is not None)

    def rule(self, spec: RuleSpec, path: Path, decay: Decay | None,
             names: dict[str, Path]) -> Rule | None:
        if spec.name in names:
            self.error("LS134", f"rule name '{spec.name}' is used twice in this score",
                       path + ("name",), hint="rule names appear in explanations; make them unique")
        names[spec.name] = path
        self.check_bounds(spec.min, spec.max, path)
        if spec.decay is False:
            decay = None
        elif spec.decay is not None:
            decay = self.decay(spec.decay, path + ("decay",))
        tiered = spec.tiers is not None
        criterion = self.criterion(spec.when, path + ("when",), bare_ok=tiered)
        given = [k for k in ("points", "tiers", "points_from") if getattr(spec, k) is not None]
        if len(given) != 1:
            self.error("LS130", f"rule '{spec.name}' needs one of 'points', 'tiers' or "
                       "'points_from'", path,
                       hint="points: 10 — or tiers: [{between: [2, 5], points: 3}, …]")
            return None
        if spec.points_from is not None:
            source = self.catalog.property(spec.points_from)
            if source is None or source.type is not PropertyType.NUMBER:
                self.error("LS136", f"'points_from' needs a number property; "
                           f"'{spec.points_from}' is " + (source.type if source else "unknown"),
                           path + ("points_from",),
                           hint=did_you_mean(spec.points_from, [
                               n for n, p in self.catalog.properties.items()
                               if p.type is PropertyType.NUMBER]))
        tiers: tuple[Tier, ...] = ()
        if criterion is None:
            return None
        if spec.per_event:
            if not isinstance(criterion, c.EventCriterion) or tiered:
                self.error("LS131", "'per_event' needs an event criterion and 'points'",
                           path + ("per_event",), key=True,
                           hint="per_event gives the points for every matching event")
        if tiered:
            tiers = self.tiers(spec.tiers or [], criterion, path)
        low, high = spec.min, spec.max
        if spec.points_from is not None:  # a property's value, capped: no score is infinite
            low = -MAX_POINTS if low is None else low
            high = MAX_POINTS if high is None else high
        if spec.max_per_day is not None:
            check_daily_limit(self, spec, path)
        return Rule(spec.name, criterion, spec.points, tiers, spec.per_event, high, low,
                    decay, spec.description, spec.points_from, spec.max_per_day)

    def tiers(self, specs: list[TierSpec], criterion: c.Criterion, path: Path) -> tuple[Tier, ...]:
        tpath = path + ("tiers",)
        if isinstance(criterion, c.EventCriterion):
            if criterion.count_written:
                self.error("LS132", "a tiered event rule takes its counts from the tiers, "
                           "not from 'count'", path + ("when", "count"), key=True,
                           hint="remove 'count' and write the ranges in the tiers")
            subject = "event count"
        elif isinstance(criterion, c.PropertyCriterion) and criterion.test is None:
            kind = self.catalog.property_type(criterion.property)
            if kind is not PropertyType.NUMBER:
                self.error("LS132", f"tiers need a number property; '{criterion.property}' is "
                           f"{kind}", path + ("when", "property"),
                           hint="use separate rules with any_of for text properties")
            subject = f"'{criterion.property}'"
        else:
            self.error("LS132", "tiers apply to a single event criterion or a number property",
                       tpath, key=True, hint="write when: {event: visit} or "
                       "when: {property: employees} with no operator")
            return ()
        tiers: list[tuple[Tier, Path]] = []
        for i, spec in enumerate(specs):
            tier = self.tier(spec, tpath + (i,), is_count=subject == "event count")
            if tier is not None:
                tiers.append((tier, tpath + (i,)))
        if not tiers:
            return ()
        ordered = sorted(tiers, key=lambda pair: -1e300 if pair[0].low is None else pair[0].low)
        for (a, _), (b, b_path) in zip(ordered, ordered[1:], strict=False):
            a_high = 1e300 if a.high is None else a.high
            b_low = -1e300 if b.low is None else b.low
            if b_low <= a_high:
                self.error("LS133", f"tiers overlap: {a.describe()} and {b.describe()} of the "
                           f"{subject} both include {b_low if b.low is not None else a_high:g}",
                           b_path, hint="ranges are not cumulative; make each range start after "
                           "the previous one ends")
        return tuple(t for t, _ in ordered)

    def tier(self, spec: TierSpec, path: Path, *, is_count: bool) -> Tier | None:
        low, high = self.range_of(spec, path, is_count=is_count)
        if low is None and high is None and not spec.include_none:
            return None
        return Tier(low, high, spec.points)

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

    def thresholds(self, specs: list[ThresholdSpec], path: Path) -> tuple[Threshold, ...]:
        items: list[tuple[Threshold, Path]] = []
        labels: set[str] = set()
        for i, spec in enumerate(specs):
            tpath = path + (i,)
            if spec.label in labels:
                self.error("LS143", f"threshold label '{spec.label}' is used twice",
                           tpath + ("label",))
            labels.add(spec.label)
            self.check_bounds(spec.min, spec.max, tpath)
            stage = spec.stage
            known = (*self.stage_names, "other")
            if stage is not None and stage not in known:
                self.error("LS144", f"unknown lifecycle stage '{stage}'", tpath + ("stage",),
                           hint=did_you_mean(stage, known) or f"stages: {', '.join(known)}")
                stage = None
            items.append((Threshold(spec.label, spec.min, spec.max, stage), tpath))
        items.sort(key=lambda pair: -1e300 if pair[0].min is None else pair[0].min)
        for (a, _), (b, b_path) in zip(items, items[1:], strict=False):
            a_low = -1e300 if a.min is None else a.min
            b_low = -1e300 if b.min is None else b.min
            if a.max is None and a_low == b_low or a.max is not None and b_low <= a.max:
                self.error("LS142", f"threshold '{b.label}' ({b.describe()}) overlaps "
                           f"'{a.label}' ({a.describe()})", b_path,
                           hint="each score range may carry one label; "
                           "make each start above the previous one's max")
        return tuple(t for t, _ in items)

    def order_sums(self, scores: dict[str, Score], spec: ModelSpec) -> dict[str, Score]:
        ordered: dict[str, Score] = {}
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in ordered or name not in scores:
                return
            if name in visiting:
                self.error("LS140", f"score '{name}' sums itself through other scores",
                           ("scores", name, "sum"), key=True)
                return
            visiting.add(name)
            for part in scores[name].sum_of:
                visit(part)
            visiting.discard(name)
            ordered[name] = scores[name]

        for name in scores:
            visit(name)
        return ordered

    def check_stages(self, scores: dict[str, Score]) -> None:
        carriers = [s.name for s in scores.values() if any(t.stage for t in s.thresholds)]
        if len(carriers) > 1:
            self.error("LS145", f"lifecycle stages are set by the thresholds of more than one "
                       f"score ({', '.join(carriers)})", ("scores", carriers[1], "thresholds"),
                       key=True, hint="let one score (often the total) carry 'stage:'")

    def grade(self, spec: ModelSpec, scores: dict[str, Score]) -> Grade | None:
        assert spec.grade is not None
        for axis in ("rows", "columns"):
            name = getattr(spec.grade, axis)
            if name not in spec.scores:
                self.error("LS146", f"grade {axis} refer to unknown score '{name}'",
                           ("grade", axis), hint=did_you_mean(name, spec.scores))
            elif name in scores and not scores[name].thresholds:
                self.error("LS146", f"grade {axis} need thresholds on score '{name}'",
                           ("grade", axis), hint="label its ranges, e.g. A/B/C or 1/2/3")
        return Grade(spec.grade.rows, spec.grade.columns, dict(spec.grade.labels))

    def decay(self, spec: DecaySpec, path: Path) -> Decay | None:
        def duration(key: str) -> float | None:
            value = getattr(spec, key)
            if value is None:
                return None
            try:
                seconds = parse_duration(value).total_seconds()
            except CoercionError as exc:
                self.error("LS114", str(exc), path + (key,))
                return None
            if seconds <= 0:
                self.error("LS114", f"'{key}' must be longer than zero", path + (key,))
                return None
            return seconds

        kinds = [k for k in ("half_life", "every", "linear") if getattr(spec, k) is not None]
        if len(kinds) > 1:
            self.error("LS116", f"choose one kind of decay (found {', '.join(kinds)})", path,
                       key=True, hint="half_life, every + lose, or linear; expire_after combines")
        if (spec.every is None) != (spec.lose is None):
            self.error("LS116", "'every' and 'lose' go together, e.g. every: 30d, lose: 50%",
                       path, key=True)
        if not kinds and spec.expire_after is None:
            self.error("LS116", "decay needs half_life, every + lose, linear or expire_after",
                       path, key=True)
        lose = None
        if spec.lose is not None:
            lose = _fraction(spec.lose)
            if lose is None:
                self.error("LS114", f"'lose' takes a percentage such as 50%, got {spec.lose!r}",
                           path + ("lose",))
        return Decay(half_life=duration("half_life"), step_every=duration("every"),
                     step_lose=lose, linear=duration("linear"),
                     expire_after=duration("expire_after"))

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


def _fraction(value: Any) -> float | None:
    text = str(value).strip()
    try:
        if text.endswith("%"):
            number = float(text[:-1]) / 100
        else:
            number = float(text)
            number = number / 100 if number > 1 else number
    except ValueError:
        return None
    return number if 0 < number <= 1 else None
