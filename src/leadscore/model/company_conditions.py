"""`company_score:` and `company_list:` conditions.

`{company_score: account, label: Hot}` tests the stored value or label of a score of the
contact's company. It belongs where `score:` does (lists, workflow triggers and conditions,
stage rules); in a scoring rule — or in a company rule's
contact criteria — a company score, which reads contact scores, would make contact scores
depend on themselves (LS194). An unknown company score name is LS195. The value and label
tests are those of `score:` conditions (`CriterionCompiler.score_condition`).

`{company_list: target-accounts}` holds when the contact's company is a member of that company
list (`of: companies` in the lists file). Company lists live in the lists file, so the condition
belongs in contact lists and workflows (LS199 elsewhere: scoring and stage rules, which the
model file holds); an unknown company list, or a contact list named there, is LS198."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadscore.diagnostics import did_you_mean
from leadscore.model import criteria as c

if TYPE_CHECKING:
    from leadscore.model.criterion_compile import CriterionCompiler
    from leadscore.model.source import Path
    from leadscore.model.spec import CriterionSpec

KEY = "company_score"
_OTHERS = {"where": "where", "since": "since", "until": "until", "count": "count",
           "property": "property", "event": "event", "score": "score", "in_list": "list"}


def company_score_criterion(compiler: CriterionCompiler, spec: CriterionSpec, path: Path
                            ) -> c.CompanyScoreCriterion | None:
    if compiler.scores is None or compiler.company_scores is None:
        compiler.error("LS194", "'company_score' conditions belong in lists, workflows and "
                       "stage rules, not in scoring rules", path + (KEY,), key=True,
                       hint="a company score reads its contacts' scores: a contact score "
                       "that read it would depend on itself")
        return None
    given = spec.model_fields_set
    for field_name, written in _OTHERS.items():
        if field_name in given:
            compiler.error("LS112", f"'{written}' cannot stand beside '{KEY}'",
                           path + (written,), key=True)
            return None
    name = spec.company_score or ""
    known = compiler.company_scores
    score = known.get(name)
    if score is None:
        compiler.error("LS195", f"unknown company score '{name}'", path + (KEY,),
                       hint=did_you_mean(name, known)
                       or ("company scores: " + ", ".join(known) if known
                           else "company scores are declared in the model's 'companies:' "
                           "section"))
        return None
    found = compiler.score_condition(spec, path, name, score, "company score")
    if found is None:
        return None
    return c.CompanyScoreCriterion(found.score, found.test, found.labels, found.labels_written)


LIST_KEY = "company_list"


def company_list_criterion(compiler: CriterionCompiler, spec: CriterionSpec, path: Path
                           ) -> c.CompanyListCriterion | None:
    if compiler.company_lists is None:
        compiler.error("LS199", "'company_list' conditions belong in lists and workflows, "
                       "not in scoring or stage rules", path + (LIST_KEY,), key=True,
                       hint="company lists are defined in the lists file; a stage rule can "
                       "test the company's score: {company_score: NAME, label: …}")
        return None
    given = spec.model_fields_set
    extra = sorted(given - {LIST_KEY})
    if extra:
        written = {"in_list": "list", "not_": "not"}.get(extra[0], extra[0])
        compiler.error("LS112", f"'{written}' cannot stand beside '{LIST_KEY}'",
                       path + (written,), key=True)
        return None
    name = spec.company_list or ""
    known = compiler.company_lists
    if name not in known:
        if name in compiler.lists:
            hint = f"'{name}' is a list of contacts: {{list: {name}}}"
        else:
            hint = did_you_mean(name, known) or (
                "company lists: " + ", ".join(sorted(known)) if known else
                "company lists are lists with 'of: companies' in the lists file")
        compiler.error("LS198", f"unknown company list '{name}'", path + (LIST_KEY,),
                       hint=hint)
        return None
    return c.CompanyListCriterion(name)
