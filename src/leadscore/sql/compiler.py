"""`compile_model`: one model (with its lists and stage rules) as one SQL query.

The query is a chain of layers, each `SELECT *, <new columns> FROM <previous>`:

    events   one scan of ls_events, one conditional aggregate per fact the criteria need
    ledger   (with `ledger`) per contact, each score's set-to and change-by of ls_ledger
    base     ls_contacts ⋈ ls_values ⋈ events ⋈ ledger: typed properties, event facts
    rules    each rule's points after its cap, whether it applied (and when its decayed points
             next change)
    groups   each group's total after its cap
    scores   scores, then sum scores (one layer per depth of sums), each after its ledger,
             each with whether it is scored (a rule applied, a part is scored, a ledger
             entry applies)
    labels   threshold labels, the grade, the threshold stage
    lists    list memberships (one layer per depth of `list:` conditions)
    stage    the stage target and the kind of its cause
    output   the documented columns (`CompiledQuery.columns`)

Every engine's optimizer inlines the chain; the layers only keep each expression small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlglot import exp

from leadscore.catalog import PropertyType, to_micros
from leadscore.diagnostics import Diagnostic, LeadscoreError, Location, did_you_mean
from leadscore.lists import ListSet
from leadscore.model import criteria as c
from leadscore.model.model import Model
from leadscore.sql import expr as x
from leadscore.sql import ledger as ledger_sql
from leadscore.sql import lifecycle, lists, schedule, scores
from leadscore.sql.context import NAMES, UNKNOWN_DIALECT, CompileContext
from leadscore.sql.criteria import CriteriaSql, Resolver
from leadscore.sql.dialect import DIALECTS, Dialect, dialect_named
from leadscore.sql.events import EventScan
from leadscore.sql.relations import (
    COMPANY_SCORES,
    CONTACTS,
    EVENTS,
    LEDGER,
    TARGETS,
    VALUES,
    relation_names,
)
from leadscore.sql.rules import RuleCompiler
from leadscore.sql.values import PropertyValues

GRADE, GRADE_LABEL, STAGE = "grade", "grade_label", "stage"
SCORED = ":scored"  # "<score>:scored": BOOLEAN, FALSE when the score is unscored
STAGE_TARGET, STAGE_REASON, NEXT_CHANGE = "stage_target", "stage_reason", "next_change_us"


@dataclass
class CompiledQuery:
    """A model compiled for one dialect and one moment. Run `sql` over the canonical relations
    (`relations` names them); `columns` are the output columns in order."""

    sql: str
    tree: exp.Expression
    dialect: Dialect
    as_of_us: int
    model: Model
    required_properties: dict[str, tuple[PropertyType, bool]]  # name → (type, needs :changed)
    required_attributes: frozenset[tuple[str, str]]  # (attribute, kind)
    relations: dict[str, str]
    columns: tuple[str, ...]
    score_columns: dict[str, str] = field(default_factory=dict)  # score → column
    label_columns: dict[str, str] = field(default_factory=dict)  # score → label column
    scored_columns: dict[str, str] = field(default_factory=dict)  # score → scored column
    list_columns: dict[str, str] = field(default_factory=dict)  # list → column
    rule_columns: dict[tuple[str, str | None, str], str] = field(default_factory=dict)
    group_columns: dict[tuple[str, str], str] = field(default_factory=dict)

    event_types: tuple[str, ...] = ()  # the event types the query reads
    reads_company_scores: bool = False  # whether it reads `ls_company_scores`


@dataclass(frozen=True)
class Probes:
    """More per-contact columns, for callers that act on the results (the automation's bulk
    path): whether each named criterion holds (`holds:<key>`, after scores and lists, so it may
    use them), the time in µs of the latest event matching each named event criterion
    (`latest:<key>`), of the latest recorded change of each named property (`changed:<key>`),
    a property's typed value (`value:<property>`), and the number of events matching each
    named event criterion (`count:<key>`: `suggest`'s event inputs). The `holds` and `latest`
    criteria count in the schedule."""

    holds: Mapping[str, c.Criterion] = field(default_factory=dict)
    latest: Mapping[str, c.EventCriterion] = field(default_factory=dict)
    changed: Mapping[str, str] = field(default_factory=dict)
    values: tuple[str, ...] = ()
    counts: Mapping[str, c.EventCriterion] = field(default_factory=dict)


def compile_model(model: Model, *, as_of: datetime | int, dialect: str | Dialect = "duckdb",
                  lists: ListSet | None = None, stage_rules: bool = False,
                  schedule: bool = False, detail: bool = False, targets: bool = False,
                  relations: Mapping[str, str] | None = None,
                  pretty: bool = False, probes: Probes | None = None,
                  ledger: bool = False) -> CompiledQuery:
    """Compile the whole model (with `lists`, the stage target when `stage_rules`, the next
    change time when `schedule`, every rule's and group's points when `detail`, only the
    contacts of `ls_targets` when `targets`, the `probes` columns, the score ledger of
    `ls_ledger` when `ledger`) as of `as_of` (a datetime, or microseconds).
    Raises LeadscoreError with every construct the dialect cannot express."""
    found = dialect_named(dialect)
    if found is None:
        raise LeadscoreError.single(
            UNKNOWN_DIALECT, f"unknown SQL dialect '{dialect}'", Location(field="dialect"),
            hint=did_you_mean(str(dialect), DIALECTS) or "dialects: " + ", ".join(DIALECTS))
    as_of_us = as_of if isinstance(as_of, int) else to_micros(as_of)
    return _Compiler(model, found, as_of_us, relation_names(relations), ledger).run(
        lists, stage_rules, schedule, detail, targets, pretty, probes or Probes())


class _Compiler:
    def __init__(self, model: Model, dialect: Dialect, as_of_us: int,
                 names: dict[str, str], ledger: bool = False) -> None:
        self.model = model
        self.ledger = ledger
        self.names = names
        self.ctx = CompileContext(model, dialect, as_of_us)
        self.values = PropertyValues()
        self.scan = EventScan(self.ctx)
        self.resolver = Resolver(self.score_value, self.score_label, self.list_member,
                                 self.company_value, self.company_label, self.score_scored)
        self.company_cols: dict[str, tuple[str, str]] = {}  # company score → value, label
        self.criteria = CriteriaSql(self.ctx, self.scan, self.values, self.resolver)
        self.layers: list[tuple[str, list[exp.Expression]]] = []
        self.score_cols: dict[str, str] = {}
        self.scored_cols: dict[str, str] = {}  # score → its BOOLEAN "scored" column
        self.label_cols: dict[str, str] = {}
        self.list_cols: dict[str, str] = {}

    # resolver for score:, label and list: conditions -------------------------------------------
    def score_value(self, name: str) -> exp.Expression:
        return x.column(self.score_cols[name])

    def score_scored(self, name: str) -> exp.Expression:
        return x.column(self.scored_cols[name])

    def score_label(self, name: str) -> exp.Expression:
        column = self.label_cols.get(name)
        return x.column(column) if column else exp.null()

    def list_member(self, name: str) -> exp.Expression:
        return x.column(self.list_cols[name])

    def company_columns(self, name: str) -> tuple[str, str]:
        """The base columns of a company score (value, label), from `ls_company_scores`."""
        found = self.company_cols.get(name)
        if found is None:
            n = len(self.company_cols) + 1
            found = self.company_cols[name] = (f"cv{n}", f"cl{n}")
        return found

    def company_value(self, name: str) -> exp.Expression:
        return x.column(self.company_columns(name)[0])

    def company_label(self, name: str) -> exp.Expression:
        return x.column(self.company_columns(name)[1])

    def layer(self, name: str, columns: list[exp.Expression]) -> None:
        if columns:
            self.layers.append((name, columns))

    # the model -----------------------------------------------------------------------------------
    def run(self, list_set: ListSet | None, stage_rules: bool, with_schedule: bool,
            detail: bool, targets: bool, pretty: bool, probes: Probes) -> CompiledQuery:
        model, dialect = self.model, self.ctx.dialect
        rules = RuleCompiler(self.ctx, self.criteria, with_schedule)
        parts, applied, rule_cols, group_cols, moments = self.rule_layers(rules)
        self.score_layers(parts, applied)
        stage_expr = self.label_layer()
        list_criteria = self.list_layers(list_set) if list_set is not None else []
        probe_columns = self.probe_layer(probes)
        if stage_rules:
            target, reason = lifecycle.stage_target(model, self.criteria, stage_expr)
            self.layer("stage", [x.alias(target, "st"), x.alias(reason, "sr")])
        next_change = None
        if with_schedule:
            nodes = [r.criterion for s in model.scores.values() for r in s.all_rules()
                     if not (r.tiers and isinstance(r.criterion, c.PropertyCriterion))]
            nodes += list_criteria
            nodes += [*probes.holds.values(), *probes.latest.values()]
            if stage_rules:  # an exclusion or qualification may end or begin with time
                nodes += [*model.lifecycle.exclude, *(n for _, n in model.lifecycle.qualify)]
            with self.ctx.at("the schedule"):
                candidates = schedule.moments(nodes, self.criteria) + moments
                if self.ledger:
                    candidates.append(x.column(ledger_sql.NEXT_COLUMN))
                next_change = schedule.earliest(self.criteria, candidates)
        output = self.output(stage_rules, next_change, rule_cols if detail else {},
                             group_cols if detail else {}, list_set)
        output += [x.alias(x.column(col), name) for name, col in probe_columns.items()]
        self.ctx.problems.raise_if_errors()
        tree = self.assemble(output, targets)
        names = tuple(node.alias_or_name for node in output)
        self.check_names(names)
        self.ctx.problems.raise_if_errors()
        return CompiledQuery(
            dialect.render(tree, pretty=pretty), tree, dialect, self.ctx.as_of_us, model,
            self.values.required(), frozenset(self.scan.attributes), dict(self.names),
            names, {s: s for s in model.scores}, {s: f"{s}:label" for s in model.scores},
            {s: s + SCORED for s in model.scores},
            {n: f"list:{n}" for n in self.list_cols},
            {k: f"rule:{v[1:]}" for k, v in rule_cols.items()} if detail else {},
            {k: f"group:{v[1:]}" for k, v in group_cols.items()} if detail else {},
            tuple(self.scan.types), bool(self.company_cols))

    def rule_layers(self, rules: RuleCompiler) -> tuple[
            dict[str, list[exp.Expression]], dict[str, list[exp.Expression]],
            dict[tuple[str, str | None, str], str], dict[tuple[str, str], str],
            list[exp.Expression]]:
        """The rules layer and the groups layer; returns each score's parts (its ungrouped
        rules, then its groups), each score's rules' "applied" columns, the rule and group
        columns, and the decay moments."""
        rule_cols: dict[tuple[str, str | None, str], str] = {}
        group_cols: dict[tuple[str, str], str] = {}
        moments: list[exp.Expression] = []
        rule_layer: list[exp.Expression] = []
        group_layer: list[exp.Expression] = []
        parts: dict[str, list[exp.Expression]] = {}
        applied: dict[str, list[exp.Expression]] = {}
        for score in self.model.scores.values():
            if score.sum_of:
                continue
            applied[score.name] = []
            placed = [(None, r) for r in score.rules] + [(g, r) for g in score.groups
                                                          for r in g.rules]
            finals: dict[int, exp.Expression] = {}
            for group, rule in placed:
                name = f"r{len(rule_cols) + 1}"
                with self.ctx.at(f"score '{score.name}', rule '{rule.name}'"):
                    compiled = rules.rule(rule)
                rule_layer.append(x.alias(compiled.final, name))
                rule_layer.append(x.alias(compiled.applied, "a" + name[1:]))
                applied[score.name].append(x.column("a" + name[1:]))
                rule_cols[(score.name, group.name if group else None, rule.name)] = name
                finals[id(rule)] = x.column(name)
                if compiled.moment is not None:
                    moment_name = f"m{len(moments) + 1}"
                    rule_layer.append(x.alias(compiled.moment, moment_name))
                    moments.append(x.column(moment_name))
            parts[score.name] = [finals[id(r)] for r in score.rules]
            for group in score.groups:
                name = f"g{len(group_cols) + 1}"
                total = x.add_all(finals[id(r)] for r in group.rules)
                group_layer.append(x.alias(
                    scores.clamp(self.ctx.dialect, total, group.min, group.max), name))
                group_cols[(score.name, group.name)] = name
                parts[score.name].append(x.column(name))
        self.layer("rules", rule_layer)
        self.layer("groups", group_layer)
        return parts, applied, rule_cols, group_cols, moments

    def list_layers(self, list_set: ListSet) -> list[c.Criterion]:
        """One layer per depth of `list:` conditions; returns every filter and exclusion."""
        criteria: list[c.Criterion] = []
        for depth, items in enumerate(lists.layers(list_set)):
            columns = []
            for item in items:
                name = f"l{len(self.list_cols) + 1}"
                columns.append(x.alias(lists.membership(item, self.criteria), name))
                self.list_cols[item.name] = name
                criteria += [*(f for g in item.groups for f in g), *item.exclude]
            self.layer(f"lists{depth}", columns)
        return criteria

    def probe_layer(self, probes: Probes) -> dict[str, str]:
        """The `probes` columns in a layer after the lists; returns output name → column."""
        columns: list[exp.Expression] = []
        names: dict[str, str] = {}

        def add(name: str, value: exp.Expression) -> None:
            column = f"q{len(names) + 1}"
            columns.append(x.alias(value, column))
            names[name] = column

        catalog = self.model.catalog
        for key, node in probes.holds.items():
            with self.ctx.at(f"criterion '{key}'"):
                add(f"holds:{key}", self.criteria.holds(node))
        for key, event in probes.latest.items():
            with self.ctx.at(f"event '{key}'"):
                add(f"latest:{key}", self.scan.latest(event))
        for key, prop in probes.changed.items():
            add(f"changed:{key}", self.values.changed_at(prop, catalog.property_type(prop)))
        for key, event in probes.counts.items():
            with self.ctx.at(f"event '{key}'"):
                add(f"count:{key}", self.scan.count(event))
        for prop in probes.values:
            definition = catalog.properties.get(prop)
            add(f"value:{prop}", self.values.value(
                prop, catalog.property_type(prop), definition.options if definition else ()))
        self.layer("probes", columns)
        return names

    def score_layers(self, parts: dict[str, list[exp.Expression]],
                     applied: dict[str, list[exp.Expression]]) -> None:
        depth: dict[str, int] = {}
        for score in self.model.scores.values():
            depth[score.name] = 1 + max((depth[p] for p in score.sum_of), default=-1)
        for level in range(max(depth.values(), default=-1) + 1):
            columns = []
            for score in self.model.scores.values():
                if depth[score.name] != level:
                    continue
                name = f"s{len(self.score_cols) + 1}"
                inputs: list[exp.Expression] = (
                    [x.column(self.score_cols[p]) for p in score.sum_of] if score.sum_of
                    else parts[score.name])
                value = scores.score_value(self.ctx.dialect, score, inputs)
                # scored: a rule applied; a sum: a part is scored (each a column of before)
                scored = x.or_(*([x.column(self.scored_cols[p]) for p in score.sum_of]
                                 if score.sum_of else applied[score.name]))
                if self.ledger:
                    index = list(self.model.scores).index(score.name) + 1
                    value = ledger_sql.adjusted(self.ctx.dialect, value, index)
                    scored = x.or_(scored, ledger_sql.applies(index))
                columns.append(x.alias(value, name))
                columns.append(x.alias(x.wrap(scored), "z" + name[1:]))
                self.score_cols[score.name] = name
                self.scored_cols[score.name] = "z" + name[1:]
            self.layer(f"scores{level}", columns)

    def label_layer(self) -> exp.Expression | None:
        """Labels, grade and threshold stage; returns the stage's expression (or None)."""
        columns = []
        for score in self.model.scores.values():
            if score.thresholds:
                name = f"b{len(self.label_cols) + 1}"
                columns.append(x.alias(scores.label(score, self.score_value(score.name)), name))
                self.label_cols[score.name] = name
        stage_score = self.model.stage_score
        stage_expr = None
        if stage_score is not None:
            columns.append(x.alias(scores.stage(stage_score, self.score_value(stage_score.name)),
                                   "ts"))
            stage_expr = x.column("ts")
        self.layer("labels", columns)
        grade = self.model.grade
        if grade is not None:  # reads the labels: a layer of its own
            cell, named = scores.grade(self.ctx.dialect, grade, self.score_label(grade.rows),
                                       self.score_label(grade.columns))
            self.layer("grade", [x.alias(cell, "gr")])
            self.layer("grade_label", [x.alias(named, "gl")])
        return stage_expr

    def output(self, stage_rules: bool, next_change: exp.Expression | None,
               rule_cols: dict, group_cols: dict, list_set: ListSet | None
               ) -> list[exp.Expression]:
        varchar = exp.DataType.build("VARCHAR")
        out: list[exp.Expression] = [x.alias(x.column("contact_id"), "contact_id")]
        for name in self.model.scores:
            out.append(x.alias(x.column(self.score_cols[name]), name))
            label = self.label_cols.get(name)
            out.append(x.alias(x.column(label) if label else exp.cast(exp.null(), varchar),
                               f"{name}:label"))
            out.append(x.alias(x.column(self.scored_cols[name]), name + SCORED))
        null_text = exp.cast(exp.null(), varchar)
        has_grade = self.model.grade is not None
        out.append(x.alias(x.column("gr") if has_grade else null_text, GRADE))
        out.append(x.alias(x.column("gl") if has_grade else null_text.copy(), GRADE_LABEL))
        out.append(x.alias(x.column("ts") if self.model.stage_score else null_text.copy(),
                           STAGE))
        if stage_rules:
            out += [x.alias(x.column("st"), STAGE_TARGET), x.alias(x.column("sr"), STAGE_REASON)]
        if list_set is not None:
            out += [x.alias(x.column(col), f"list:{name}") for name, col in self.list_cols.items()]
        if next_change is not None:
            out.append(x.alias(next_change, NEXT_CHANGE))
        out += [x.alias(x.column(col), f"rule:{col[1:]}") for col in rule_cols.values()]
        out += [x.alias(x.column(col), f"group:{col[1:]}") for col in group_cols.values()]
        return out

    def assemble(self, output: list[exp.Expression], targets: bool) -> exp.Expression:
        dialect = self.ctx.dialect.sqlglot
        names = self.names
        now = self.ctx.now()

        def table(canonical: str, alias: str) -> exp.Expression:
            return cast(exp.Expression,
                        exp.alias_(exp.to_table(names[canonical], dialect=dialect), alias))

        def in_targets(col: exp.Expression) -> exp.Expression:
            return col.isin(query=exp.select(x.column("contact_id")).from_(
                exp.to_table(names[TARGETS], dialect=dialect)))

        # a caller whose contacts and values are one relation (one row per contact with
        # created_us and the typed properties) binds both names to it: it is read once
        one = names[VALUES] == names[CONTACTS]
        base_cols: list[exp.Expression] = [x.alias(x.column("contact_id", "c"), "contact_id")]
        base_cols += self.values.base_columns("c" if one else "v", "c")
        query = exp.select(*base_cols).from_(table(CONTACTS, "c"))
        if self.values.types and not one:
            query = query.join(table(VALUES, "v"), on=x.eq(x.column("contact_id", "v"),
                                                          x.column("contact_id", "c")),
                               join_type="left")
        ctes: list[tuple[str, exp.Expression]] = []
        if self.scan.has_aggregates():
            events = self.scan.select(names[EVENTS])
            if targets:
                events = events.where(in_targets(x.column("contact_id")), append=True)
            ctes.append(("lsq_events", events))
            query = query.select(*self.scan.base_columns("e")).join(
                exp.alias_(exp.to_table("lsq_events"), "e"),
                on=x.eq(x.column("contact_id", "e"), x.column("contact_id", "c")),
                join_type="left")
        if self.scan.has_daily():  # per-event rules with a daily limit: days, then contacts
            daily = self.scan.daily_select(names[EVENTS])
            if targets:
                daily = daily.where(in_targets(x.column("contact_id")), append=True)
            ctes.append(("lsq_daily", daily))
            query = query.select(*self.scan.daily_columns("d")).join(
                exp.alias_(exp.to_table("lsq_daily"), "d"),
                on=x.eq(x.column("contact_id", "d"), x.column("contact_id", "c")),
                join_type="left")
        if self.ledger:
            ctes.append(("lsq_ledger", ledger_sql.ledger_select(
                names[LEDGER], names[TARGETS] if targets else None, list(self.model.scores),
                self.ctx.as_of_us)))
            ledger_cols = [ledger_sql.NEXT_COLUMN]
            for i in range(1, len(self.model.scores) + 1):
                ledger_cols += [ledger_sql.set_column(i), ledger_sql.change_column(i)]
            query = query.select(*(x.alias(x.column(col, "lg"), col) for col in ledger_cols)
                                 ).join(exp.alias_(exp.to_table("lsq_ledger"), "lg"),
                                        on=x.eq(x.column("contact_id", "lg"),
                                                x.column("contact_id", "c")),
                                        join_type="left")
        if self.company_cols:  # `company_score:` conditions: the company's stored scores
            ctes.append(("lsq_company", self.company_select(names[COMPANY_SCORES])))
            query = query.select(*(x.alias(x.column(col, "cs"), col)
                                   for pair in self.company_cols.values() for col in pair)
                                 ).join(exp.alias_(exp.to_table("lsq_company"), "cs"),
                                        on=x.eq(x.column("contact_id", "cs"),
                                                x.column("contact_id", "c")),
                                        join_type="left")
        where = x.lte(x.column("created_us", "c"), now)
        if targets:
            where = x.and_(where, in_targets(x.column("contact_id", "c")))
        ctes.append(("lsq_base", query.where(where)))
        previous = "lsq_base"
        for name, columns in self.layers:
            cte = f"lsq_{name}"
            ctes.append((cte, exp.select(exp.Star(), *columns).from_(previous)))
            previous = cte
        final = exp.select(*output).from_(previous)
        for name, body in ctes:  # not copied: a copy per CTE of the query so far was 1.0 s
            final = final.with_(name, as_=body, copy=False)  # of the example model's 1.2 s
        return final

    def company_select(self, relation: str) -> exp.Expression:
        """One row per contact with a company: each company score read, value and label."""
        dialect = self.ctx.dialect.sqlglot
        columns: list[exp.Expression] = [x.column("contact_id")]
        for name, (value, label) in self.company_cols.items():
            this = x.eq(x.column("score"), x.string(name))
            columns.append(x.alias(exp.Max(this=x.when(this, x.column("value"))), value))
            columns.append(x.alias(exp.Max(this=x.when(this, x.column("label"))), label))
        return (exp.select(*columns).from_(exp.to_table(relation, dialect=dialect))
                .where(exp.In(this=x.column("score"),
                              expressions=[x.string(n) for n in self.company_cols]))
                .group_by(x.column("contact_id")))

    def check_names(self, columns: tuple[str, ...]) -> None:
        dialect = self.ctx.dialect
        seen: dict[str, str] = {}
        for name in columns:
            key = name.lower() if dialect.case_insensitive_names else name
            if key in seen:
                self.ctx.problems.add(Diagnostic(
                    NAMES, f"two output columns are both named '{name}'"
                    + (" (Spark ignores case)" if seen[key] != name else ""),
                    Location(file=self.model.path, field=name),
                    hint="rename a score or list so that every output column is distinct"))
            seen[key] = name
            limit = dialect.max_identifier_bytes
            if limit is not None and len(name.encode()) > limit:
                self.ctx.problems.add(Diagnostic(
                    NAMES, f"the output column '{name}' is longer than {dialect.title} keeps "
                    f"({limit} bytes)", Location(file=self.model.path, field=name),
                    hint="give the score or list a shorter name"))
        inputs: dict[str, str] = {}
        for column in [*self.values.types, *(f"{a}:{k}" for a, k in self.scan.attributes)]:
            key = column.lower()
            if dialect.case_insensitive_names and inputs.get(key, column) != column:
                self.ctx.problems.add(Diagnostic(
                    NAMES, f"the input columns '{inputs[key]}' and '{column}' differ only in "
                    f"case, which {dialect.title} ignores", Location(file=self.model.path,
                                                                     field=column),
                    hint="rename one of the properties or attributes"))
            inputs[key] = column
        for prop in self.values.types:
            limit = dialect.max_identifier_bytes
            for column in (prop, f"{prop}:changed"):
                if limit is not None and len(column.encode()) > limit:
                    self.ctx.problems.add(Diagnostic(
                        NAMES, f"the property column '{column}' is longer than "
                        f"{dialect.title} keeps ({limit} bytes)",
                        Location(file=self.model.path, field=prop),
                        hint="give the property a shorter name"))
