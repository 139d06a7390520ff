from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from leadscore.diagnostics import LeadscoreError, Location, did_you_mean
from leadscore.evaluation.matchers import AllMatcher, AnyMatcher, Reason, compile_criterion
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.lists.companies import CompanyList, company_criterion, company_list_compiler
from leadscore.lists.membership import ListTest
from leadscore.model import Model
from leadscore.model import criteria as c
from leadscore.model.compile import CriteriaCompiler, model_company_scores
from leadscore.model.limits import check_durations
from leadscore.model.source import read_source, read_yaml
from leadscore.model.spec import CriterionSpec, _Spec
from leadscore.model.structure import validate_structure


class ListSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str | None = None
    of: Literal["contacts", "companies"] = Field(
        "contacts", description="What the list holds: contacts (the default), or companies "
        "(filters on company scores and company properties)")
    groups: list[list[CriterionSpec]] = Field(
        min_length=1, description="Any group qualifies; inside a group every filter holds")
    exclude: list[CriterionSpec] = Field(
        default_factory=list, description="Those matching any of these are never members")


class ListsFileSpec(_Spec):
    """Active lists (version 1)."""

    version: Literal[1]
    lists: list[ListSpec]


@dataclass(frozen=True)
class ActiveList:
    name: str
    groups: tuple[tuple[c.Criterion, ...], ...]
    exclude: tuple[c.Criterion, ...] = ()
    description: str | None = None
    uses: frozenset[str] = frozenset()  # other lists its filters refer to


@dataclass
class _Compiled:
    definition: ActiveList
    groups: list[AllMatcher]
    excluded: AnyMatcher | None
    filters: list[list] = field(default_factory=list)  # per group, per filter matcher


class ListSet:
    """The lists of a project, compiled, in an order where a list comes after those it uses."""

    def __init__(self, lists: list[ActiveList], path: str | None = None,
                 company_lists: list[CompanyList] | None = None) -> None:
        self.path = path
        self.lists = {item.name: item for item in lists}  # of contacts
        # `of: companies`: computed after each company run, never per contact
        self.company_lists = {item.name: item for item in company_lists or []}
        self._compiled: list[_Compiled] = []
        shared: dict = {}
        for item in lists:
            filters = [[compile_criterion(f, shared) for f in group] for group in item.groups]
            excluded = (AnyMatcher([compile_criterion(x, shared) for x in item.exclude])
                        if item.exclude else None)
            self._compiled.append(_Compiled(item, [AllMatcher(fs) for fs in filters], excluded,
                                            filters))

    def __contains__(self, name: str) -> bool:
        return name in self.lists

    def __iter__(self):
        return iter(self.lists.values())

    def __len__(self) -> int:
        return len(self.lists)

    def matchers(self) -> list[Any]:
        """Every compiled filter and exclusion (for `schedule.next_change_at`)."""
        found: list[Any] = [m for x in self._compiled for m in x.groups]
        found += [x.excluded for x in self._compiled if x.excluded is not None]
        return found

    def evaluate(self, snap: ContactSnapshot) -> set[str]:
        """The lists the contact belongs to. `snap.scores` must hold its current scores; lists
        that use other lists see the memberships computed before them in this pass."""
        memo: dict = {}
        members: set[str] = set()
        snap.lists = members
        for compiled in self._compiled:
            if compiled.excluded is not None and compiled.excluded.evidence(snap, memo) is not None:
                continue
            if any(group.evidence(snap, memo) is not None for group in compiled.groups):
                members.add(compiled.definition.name)
        return members

    def test(self, snap: ContactSnapshot, name: str) -> ListTest:
        if name not in self.lists:
            hint = (f"'{name}' is a company list: `leadscore list members {name}` shows its "
                    "companies" if name in self.company_lists else
                    did_you_mean(name, self.lists) or "lists: " + ", ".join(self.lists))
            raise LeadscoreError.single("LS162", f"no list named '{name}'", Location(field="list"),
                                        hint=hint)
        self.evaluate(snap)  # memberships of the lists it may use
        memo: dict = {}
        compiled = next(x for x in self._compiled if x.definition.name == name)
        groups: list[list[Reason]] = [[f.explain(snap, memo) for f in fs]
                                      for fs in compiled.filters]
        exclusions = ([m.explain(snap, memo) for m in compiled.excluded.children]
                      if compiled.excluded else [])
        return ListTest(name, snap.contact_id, groups, exclusions)


def load_lists(path: str | Path, model: Model) -> ListSet:
    text = read_source(path, code="LS160", what="lists file",
                       hint="create it, or remove [automation] lists from leadscore.toml")
    return parse_lists(text, str(path), model)


def parse_lists(text: str, file: str, model: Model) -> ListSet:
    document = read_yaml(text, file)
    spec, remap, structural = validate_structure(document, ListsFileSpec)
    items = [item for item in (document.data or {}).get("lists", []) or []
             if isinstance(item, dict) and isinstance(item.get("name"), str)]
    of_companies = {item["name"] for item in items if item.get("of") == "companies"}
    compiler = CriteriaCompiler(document, remap, catalog=model.catalog, scores=model.scores,
                                company_scores=model_company_scores(model),
                                exclusions=model.exclusions,
                                lists={item["name"] for item in items} - of_companies,
                                company_lists=of_companies)
    compiler.problems.extend(structural)
    compiler.problems.extend(check_durations(document))
    lists: list[ActiveList] = []
    company_lists: list[CompanyList] = []
    if spec is not None:
        seen: set[str] = set()
        companies = company_list_compiler(compiler, model)
        for i, item in enumerate(spec.lists):
            path = ("lists", i)
            if item.name in seen:
                compiler.error("LS161", f"list name '{item.name}' is used twice",
                               path + ("name",))
                continue
            seen.add(item.name)
            if item.of == "companies":
                found = _company_list(companies, model, item, path)
                if found is not None:
                    company_lists.append(found)
                continue
            groups = tuple(
                tuple(x for x in (compiler.criterion(f, path + ("groups", g, j))
                                  for j, f in enumerate(group)) if x is not None)
                for g, group in enumerate(item.groups))
            exclude = tuple(x for x in (compiler.criterion(f, path + ("exclude", j))
                                        for j, f in enumerate(item.exclude)) if x is not None)
            uses = frozenset(node.list_name for crit in [*exclude, *(f for g in groups for f in g)]
                             for node in c.walk(crit) if isinstance(node, c.ListCriterion))
            lists.append(ActiveList(item.name, groups, exclude, item.description, uses))
        lists = _ordered(lists, compiler)
    compiler.problems.raise_if_errors()
    return ListSet(lists, file, company_lists)


def _company_list(compiler: CriteriaCompiler, model: Model, item: ListSpec, path: tuple
                  ) -> CompanyList | None:
    if model.companies is None:
        compiler.error("LS197", f"list '{item.name}' is of companies, but model "
                       f"'{model.name}' has no companies: section", path + ("of",),
                       hint="add companies: {scores: …} to the model (docs/model.md#companies)"
                       ", or make it a list of contacts")
        return None
    groups = tuple(
        tuple(x for x in (company_criterion(compiler, f, path + ("groups", g, j))
                          for j, f in enumerate(group)) if x is not None)
        for g, group in enumerate(item.groups))
    exclude = tuple(x for x in (company_criterion(compiler, f, path + ("exclude", j))
                                for j, f in enumerate(item.exclude)) if x is not None)
    return CompanyList(item.name, groups, exclude, item.description)


def _ordered(lists: list[ActiveList], compiler: CriteriaCompiler) -> list[ActiveList]:
    by_name = {item.name: (i, item) for i, item in enumerate(lists)}
    done: dict[str, ActiveList] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name not in by_name:
            return
        index, item = by_name[name]
        if name in visiting:
            compiler.error("LS161", f"list '{name}' refers to itself through other lists",
                           ("lists", index, "name"))
            return
        visiting.add(name)
        for used in sorted(item.uses):
            visit(used)
        visiting.discard(name)
        done[name] = item

    for item in lists:
        visit(item.name)
    return list(done.values())
