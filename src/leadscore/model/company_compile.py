"""Checks the meaning of a model's `companies:` section and builds `CompanyModel`.

Company property criteria go through the contact compiler's own checks with the company
catalog; contact criteria (inside `contacts:`) with the model's catalog and its contact
scores, but no events, lists or recent-change tests: a company reads its contacts' current
values and scores (LS180–LS189)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadscore.catalog import PropertyDef, PropertyType
from leadscore.diagnostics import did_you_mean
from leadscore.model import criteria as c
from leadscore.model.company import AGGREGATES, CompanyModel, ContactAggregate, ContactCount
from leadscore.model.company_spec import CompaniesSpec, CompanyCriterionSpec, CompanyScoreSpec
from leadscore.model.criterion_compile import combine
from leadscore.model.model import Rule, Score, Tier
from leadscore.model.source import Path
from leadscore.model.spec import CriterionSpec, ValueTest

if TYPE_CHECKING:
    from leadscore.model.compile import CriteriaCompiler

VALUE_OPS = tuple(ValueTest.model_fields)
KINDS = ("property", "contacts", "contact_score", "all", "any", "not_")


class CompanyCompiler:
    def __init__(self, outer: CriteriaCompiler, contact_scores: dict[str, Score]) -> None:
        self.outer = outer
        self.contact_scores = contact_scores

    def error(self, code: str, message: str, path: Path, *, key: bool = False,
              hint: str | None = None) -> None:
        self.outer.error(code, message, path, key=key, hint=hint)

    def companies(self, spec: CompaniesSpec) -> CompanyModel | None:
        from leadscore.companies.association import FREE_MAIL_DOMAINS
        from leadscore.companies.catalog import COMPANY_PROPERTIES, CompanyCatalog

        base = ("companies",)
        declared: dict[str, PropertyDef] = {}
        for name, decl in spec.properties.items():
            existing = COMPANY_PROPERTIES.get(name)
            if existing is not None and existing.type != decl.type:
                self.error("LS181", f"'{name}' is a standard company property of type "
                           f"{existing.type}; it cannot be redeclared as {decl.type}",
                           (*base, "properties", name), key=True,
                           hint="choose another name for your own property")
                continue
            if decl.type == "enum" and not decl.values:
                self.error("LS150", f"enum property '{name}' needs 'values'",
                           (*base, "properties", name), key=True)
            declared[name] = PropertyDef(name, PropertyType(decl.type), decl.description or "",
                                         tuple(decl.values or ()))
        catalog = CompanyCatalog(declared)
        for i, domain in enumerate(spec.free_mail_domains):
            core = domain[:-2] if domain.endswith(".*") else domain
            if not core or "@" in domain or "*" in core or " " in domain.strip():
                self.error("LS182", f"'{domain}' is not a domain (or a 'name.*' pattern)",
                           (*base, "free_mail_domains", i),
                           hint="e.g. mail.example.com or webmail.* ")
        free = (*(FREE_MAIL_DOMAINS if spec.default_free_mail_domains else ()),
                *(d.strip().lower() for d in spec.free_mail_domains))
        scores: dict[str, Score] = {}
        saved = self.outer.catalog
        try:
            for name, score_spec in spec.scores.items():
                score = self.score(name, score_spec, (*base, "scores", name), spec, catalog)
                if score is not None:
                    scores[name] = score
        finally:
            self.outer.catalog = saved
        ordered: dict[str, Score] = {}

        def visit(name: str, seen: tuple[str, ...]) -> None:
            if name in ordered or name not in scores:
                return
            if name in seen:
                self.error("LS183", f"company score '{name}' sums itself through "
                           + " → ".join((*seen, name)), (*base, "scores", name, "sum"))
                return
            for part in scores[name].sum_of:
                visit(part, (*seen, name))
            ordered[name] = scores[name]

        for name in scores:
            visit(name, ())
        return CompanyModel(ordered, catalog, tuple(dict.fromkeys(free)))

    def score(self, name: str, spec: CompanyScoreSpec, path: Path, companies: CompaniesSpec,
              catalog) -> Score | None:
        outer = self.outer
        if name.lower().startswith(c.COMPANY_LIST_PREFIX):
            # company lists are stored beside company scores under `list:NAME`
            self.error("LS188", f"company score '{name}' starts with '{c.COMPANY_LIST_PREFIX}', "
                       "which names company lists", path, key=True,
                       hint=f"rename it, e.g. '{name[len(c.COMPANY_LIST_PREFIX):] or 'score'}'")
        outer.check_bounds(spec.min, spec.max, path)
        thresholds = outer.thresholds(spec.thresholds, path + ("thresholds",))
        if spec.sum is not None:
            if spec.rules:
                self.error("LS184", f"company score '{name}' is a sum; it cannot also have "
                           "rules", path + ("sum",), key=True)
            for i, part in enumerate(spec.sum):
                if part not in companies.scores or part == name:
                    self.error("LS184", f"company score '{name}' sums unknown company score "
                               f"'{part}'", path + ("sum", i),
                               hint=did_you_mean(part, [s for s in companies.scores
                                                        if s != name]))
            return Score(name, max=spec.max, min=spec.min, thresholds=thresholds,
                         sum_of=tuple(spec.sum), description=spec.description)
        if not spec.rules:
            self.error("LS184", f"company score '{name}' has no rules", path, key=True,
                       hint="add 'rules:', or 'sum: [fit, engagement]'")
        names: set[str] = set()
        rules = []
        for i, rule_spec in enumerate(spec.rules):
            rpath = path + ("rules", i)
            if rule_spec.name in names:
                self.error("LS134", f"rule name '{rule_spec.name}' is used twice in this "
                           "score", rpath + ("name",))
            names.add(rule_spec.name)
            outer.check_bounds(rule_spec.min, rule_spec.max, rpath)
            tiered = rule_spec.tiers is not None
            outer.catalog = catalog
            criterion = self.criterion(rule_spec.when, rpath + ("when",), bare_ok=tiered)
            if (rule_spec.points is None) == (rule_spec.tiers is None):
                self.error("LS130", f"rule '{rule_spec.name}' needs one of 'points' or "
                           "'tiers'", rpath, hint="points: 10 — or tiers: [{at_least: 3, "
                           "points: 20}, …]")
                continue
            if criterion is None:
                continue
            tiers: tuple[Tier, ...] = ()
            if tiered:
                tiers = self.tiers(rule_spec.tiers or [], criterion, rpath, catalog)
            rules.append(Rule(rule_spec.name, criterion, rule_spec.points, tiers,
                              max=rule_spec.max, min=rule_spec.min,
                              description=rule_spec.description))
        return Score(name, rules=tuple(rules), max=spec.max, min=spec.min,
                     thresholds=thresholds, description=spec.description)

    def tiers(self, specs, criterion, path: Path, catalog) -> tuple[Tier, ...]:
        outer = self.outer
        if isinstance(criterion, ContactCount):
            if criterion.count_written:
                self.error("LS132", "a tiered rule on contacts takes its counts from the "
                           "tiers, not from 'count'", path + ("when", "count"), key=True)
            is_count = True
        elif isinstance(criterion, ContactAggregate) and criterion.test is None:
            is_count = False
        elif isinstance(criterion, c.PropertyCriterion) and criterion.test is None:
            if catalog.property_type(criterion.property) is not PropertyType.NUMBER:
                self.error("LS132", f"tiers need a number property; '{criterion.property}' "
                           f"is {catalog.property_type(criterion.property)}",
                           path + ("when", "property"))
            is_count = False
        else:
            self.error("LS132", "tiers apply to contacts, a contact score's aggregate or a "
                       "number property", path + ("tiers",), key=True,
                       hint="e.g. when: {contacts: all} or when: {contact_score: fit, "
                       "aggregate: max} with no operator")
            return ()
        built = []
        for i, spec in enumerate(specs):
            tier = outer.tier(spec, path + ("tiers", i), is_count=is_count)
            if tier is not None:
                built.append(tier)
        built.sort(key=lambda t: -1e300 if t.low is None else t.low)
        for a, b in zip(built, built[1:], strict=False):
            if (-1e300 if b.low is None else b.low) <= (1e300 if a.high is None else a.high):
                self.error("LS133", f"tiers overlap: {a.describe()} and {b.describe()}",
                           path + ("tiers",), hint="ranges are not cumulative")
        return tuple(built)

    # criteria --------------------------------------------------------------------------------
    def criterion(self, spec: CompanyCriterionSpec, path: Path, *, bare_ok: bool = False):
        given = spec.model_fields_set
        kinds = [k for k in KINDS if k in given]
        if len(kinds) != 1:
            found = f" (found {', '.join(k.rstrip('_') for k in kinds)})" if kinds else ""
            self.error("LS185", "a company criterion needs exactly one of property, contacts, "
                       "contact_score, all, any, not" + found, path, key=True,
                       hint="combine several with all: [...] or any: [...]")
            return None
        kind = kinds[0]
        ops = [k for k in VALUE_OPS if k in given]
        if kind == "property":
            for extra in ("count", "aggregate"):
                if extra in given:
                    self.error("LS185", f"'{extra}' cannot stand beside 'property'",
                               path + (extra,), key=True)
            if "changed_within" in ops:
                self.error("LS186", "a company rule cannot test 'changed_within': company "
                           "scores read the companies' current values",
                           path + ("changed_within",), key=True)
                return None
            as_contact = CriterionSpec.model_validate(
                {"property": spec.property, **{k: getattr(spec, k) for k in ops}})
            return self.outer.property_criterion(as_contact, path, bare_ok=bare_ok)
        if kind == "contacts":
            return self.contacts(spec, path, ops)
        if kind == "contact_score":
            return self.aggregate(spec, path, ops, bare_ok)
        if ops or {"count", "aggregate"} & given:
            extra = (ops or sorted({"count", "aggregate"} & given))[0]
            self.error("LS185", f"'{extra}' cannot stand beside '{kind.rstrip('_')}'",
                       path + (extra,), key=True)
        return combine(kind, spec, path, self.criterion, self.error, "LS185")

    def contacts(self, spec: CompanyCriterionSpec, path: Path, ops: list[str]):
        if ops or "aggregate" in spec.model_fields_set:
            extra = (ops or ["aggregate"])[0]
            self.error("LS185", f"'{extra}' cannot stand beside 'contacts'", path + (extra,),
                       key=True, hint="say how many contacts with count: {at_least: 3}")
            return None
        count = c.CountRange()
        if spec.count is not None:
            low, high = self.outer.range_of(spec.count, path + ("count",), is_count=True)
            if low is None and high is None:
                return None
            count = c.CountRange(int(low or 0), None if high is None else int(high))
        inner = None
        if spec.contacts != "all":
            assert spec.contacts is not None
            inner = self.contact_criterion(spec.contacts, path + ("contacts",))
            if inner is None:
                return None
        return ContactCount(inner, count, spec.count is not None)

    def contact_criterion(self, spec: CriterionSpec, path: Path):
        """A contact criterion with the model's catalog and contact scores."""
        from leadscore.model.compile import CriteriaCompiler

        outer = self.outer
        inner = CriteriaCompiler(outer.doc, outer.remap, catalog=outer.contact_catalog,
                                 scores=self.contact_scores, lists=set())
        node = inner.criterion(spec, path)
        for problem in inner.problems:
            outer.problems.add(problem)
        if node is None:
            return None
        for part in c.walk(node):
            reason = None
            if isinstance(part, c.EventCriterion):
                reason = "events"
            elif isinstance(part, c.ListCriterion):
                reason = "lists"
            elif isinstance(part, c.PropertyCriterion) and part.test is not None and \
                    part.test.op == "changed_within":
                reason = "'changed_within'"
            if reason is not None:
                self.error("LS186", f"a company's contact criterion cannot test {reason}: it "
                           "reads its contacts' current values and scores", path,
                           hint="score the behaviour in a contact score and test it here "
                           "(e.g. {score: engagement, at_least: 20})")
                return None
        return node

    def aggregate(self, spec: CompanyCriterionSpec, path: Path, ops: list[str],
                  bare_ok: bool):
        name = spec.contact_score or ""
        if name not in self.contact_scores:
            self.error("LS187", f"unknown contact score '{name}'", path + ("contact_score",),
                       hint=did_you_mean(name, self.contact_scores)
                       or "contact scores: " + ", ".join(self.contact_scores))
            return None
        if spec.aggregate is None:
            self.error("LS187", f"say how to aggregate '{name}' over the company's contacts",
                       path, key=True, hint="aggregate: " + " | ".join(AGGREGATES))
            return None
        if "count" in spec.model_fields_set:
            self.error("LS185", "'count' goes with 'contacts'", path + ("count",), key=True)
        if not ops:
            if bare_ok:
                return ContactAggregate(name, spec.aggregate, None)
            self.error("LS111", f"the aggregate of '{name}' needs an operator", path,
                       key=True, hint="e.g. at_least: 50")
            return None
        if len(ops) > 1:
            self.error("LS111", f"one operator per criterion (found {', '.join(ops)})",
                       path + (ops[1],), key=True)
            return None
        test = self.outer.value_test(ops[0], getattr(spec, ops[0]), PropertyType.NUMBER, (),
                                     path + (ops[0],),
                                     subject=f"the {spec.aggregate} of '{name}'")
        return ContactAggregate(name, spec.aggregate, test) if test is not None else None
