"""The contact's company's scores as context for automation: lists, workflow triggers and
conditions, and stage rules may read them (`{company_score: account, label: Hot}`).

- `company_scores_read` says which company scores the project's automation reads (none: the
  company tables are never read while processing);
- `attach_company_scores` fills `ContactSnapshot.company_scores` of a batch from the stored
  membership (`company_members`) and scores (`company_scores`), as the snapshot carries the
  contact's own scores;
- the company run (`scoring.companies.score_companies`, told which scores these are) makes
  the contacts of companies whose read scores changed due for `process`, so a list that reads
  a company score updates without new contact data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.lists import ListSet
from leadscore.model import Model
from leadscore.model.criteria import Criterion
from leadscore.model.criteria import company_scores_read as _read
from leadscore.workflows import Workflow


def workflow_criteria(workflow: Workflow) -> list[Criterion]:
    """Every criterion of a workflow: its trigger's and its branches' conditions."""
    found: list[Criterion] = []
    if workflow.trigger.criterion is not None:
        found.append(workflow.trigger.criterion)
    steps = list(workflow.steps)
    while steps:
        step = steps.pop()
        if step.condition is not None:
            found.append(step.condition)
        steps += [*step.then, *step.otherwise]
    return found


def company_scores_read(model: Model, lists: ListSet | None,
                        workflows: Sequence[Workflow] = ()) -> frozenset[str]:
    """The company scores that the stage rules, lists and workflows read."""
    criteria: list[Criterion] = [*model.lifecycle.exclude,
                                 *(x for _, x in model.lifecycle.qualify)]
    for item in lists or ():
        criteria += [*(f for group in item.groups for f in group), *item.exclude]
    for workflow in workflows:
        criteria += workflow_criteria(workflow)
    return frozenset(_read(criteria))


def attach_company_scores(connection: Connection, model: Model,
                          snaps: Iterable[ContactSnapshot], names: frozenset[str]) -> None:
    """Give each snapshot its company's stored scores (those in `names`); a contact without a
    company keeps none (every company score unknown)."""
    if not names:
        return
    chosen = list(snaps)
    from leadscore.storage.companies import contact_company_scores

    found = contact_company_scores(connection, model.name, [s.contact_id for s in chosen],
                                   names)
    for snap in chosen:
        snap.company_scores = found.get(snap.contact_id, {})
