"""Company lists: a list with `of: companies` in the lists file. Its groups and exclusions are
criteria on the company's own scores (`{score: account, label: Hot}`, `at_least`, …, tested
on the company scores of the model's `companies:` section) and on company properties (the
operators of property criteria, on the company catalog). Membership is computed set-wise after
every company run (`storage.company_lists.store_company_lists`), never per contact.

Contacts test it with `{company_list: NAME}` (`model.company_conditions`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadscore.model import criteria as c
from leadscore.model.spec import CriterionSpec

if TYPE_CHECKING:
    from leadscore.model import Model
    from leadscore.model.compile import CriteriaCompiler
    from leadscore.model.source import Path

# what a company list's filters cannot test, and why
_NOT_FOR_COMPANIES = {
    "event": "events (a company has none: score them in a contact score, aggregate it in a "
             "company score)",
    "company_score": "'company_score' (here 'score' is the company's own: {score: NAME, …})",
    "company_list": "'company_list' (a company list cannot use another list)",
    "in_list": "'list' (a company list cannot use another list)",
}


@dataclass(frozen=True)
class CompanyList:
    name: str
    groups: tuple[tuple[c.Criterion, ...], ...]
    exclude: tuple[c.Criterion, ...] = ()
    description: str | None = None

    def criteria(self) -> list[c.Criterion]:
        return [*(f for group in self.groups for f in group), *self.exclude]


def company_list_compiler(outer: CriteriaCompiler, model: Model) -> CriteriaCompiler:
    """A compiler of company list filters: the company catalog, the company scores as
    `score:`, no lists; its problems go to `outer`'s."""
    from leadscore.companies.catalog import CompanyCatalog
    from leadscore.model.compile import CriteriaCompiler

    companies = model.companies
    inner = CriteriaCompiler(outer.doc, outer.remap,
                             catalog=companies.catalog if companies else CompanyCatalog(),
                             scores=dict(companies.scores) if companies else {},
                             lists=set(), company_scores={}, company_lists=set())
    inner.problems = outer.problems
    return inner


def company_criterion(compiler: CriteriaCompiler, spec: CriterionSpec, path: Path
                      ) -> c.Criterion | None:
    """One filter of a company list (LS196 for what a company cannot be tested on)."""
    if not _check(compiler, spec, path):
        return None
    return compiler.criterion(spec, path)


def _check(compiler: CriteriaCompiler, spec: CriterionSpec, path: Path) -> bool:
    given = spec.model_fields_set
    for key, why in _NOT_FOR_COMPANIES.items():
        if key in given:
            written = "list" if key == "in_list" else key
            compiler.error("LS196", f"a company list's filters cannot test {why}",
                           path + (written,), key=True,
                           hint="company lists test company scores ({score: NAME, label: "
                           "…}) and company properties ({property: industry, is: …})")
            return False
    if spec.changed_within is not None:
        compiler.error("LS196", "a company list's filters cannot test 'changed_within': "
                       "they read the companies' current values", path + ("changed_within",),
                       key=True, hint="test the value itself, e.g. {property: tier, "
                       "equals: strategic}")
        return False
    children = [*(spec.all or []), *(spec.any or [])]
    kind = "all" if spec.all else "any"
    ok = True
    for i, child in enumerate(children):
        ok = _check(compiler, child, path + (kind, i)) and ok
    if spec.not_ is not None:
        ok = _check(compiler, spec.not_, path + ("not",)) and ok
    return ok


__all__ = ["CompanyList", "company_criterion", "company_list_compiler"]
