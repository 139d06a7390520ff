"""From a model file to a validated `Model`, reporting every mistake of the file at once."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path as FilePath
from typing import Any

from leadscore.catalog import (
    Catalog,
    CoercionError,
    EventTypeDef,
    PropertyDef,
    PropertyType,
    parse_duration,
)
from leadscore.catalog.catalog import LIFECYCLE_STAGE_VALUES
from leadscore.diagnostics import (
    LeadscoreError,
    Location,
    did_you_mean,
)
from leadscore.model import criteria as c
from leadscore.model.criterion_compile import CriterionCompiler
from leadscore.model.daily import check_daily_limit
from leadscore.model.exclusions import compile_exclusions
from leadscore.model.limits import MAX_POINTS, check_durations, check_model_limits
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
from leadscore.model.source import Path, read_source, read_yaml
from leadscore.model.spec import (
    DecaySpec,
    GroupSpec,
    LifecycleSpec,
    ModelSpec,
    ProbabilitySpec,
    RuleSpec,
    ScoreSpec,
    ThresholdSpec,
    TierSpec,
)
from leadscore.model.structure import validate_structure


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

def model_company_scores(model: Model) -> dict[str, Score]:
    """The company scores a lists or workflows file may read (none without `companies:`)."""
    return dict(model.companies.scores) if model.companies is not None else {}


class CriteriaCompiler(CriterionCompiler):
    """Checks the meaning of a validated spec and builds typed objects. For a model file it
    builds the Model; lists and workflows files use it with the model's catalog, and with the
    score and list names that their `score:` and `list:` conditions may refer to."""

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
