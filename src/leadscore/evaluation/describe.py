"""A criterion as a person reads it, without a contact: what a rule, a list filter or a trigger
asks for ("job_title contains 'vp', 'director' and 3+ page_view events where url matches
'*/pricing*' in the last 30d"). The words are those `explain` uses for each verdict."""

from __future__ import annotations

from leadscore.evaluation.matchers import EventMatcher, describe_test
from leadscore.model import criteria as c


def describe_criterion(node: c.Criterion) -> str:
    if isinstance(node, c.PropertyCriterion):
        return node.property if node.test is None else f"{node.property} {describe_test(node.test)}"
    if isinstance(node, c.EventCriterion):
        matcher = EventMatcher(node, key=-1)  # words only: never evaluated, no memo
        count = matcher.describe_count()
        return matcher.describe() if count == "at least 1" else f"{count} {matcher.describe()}"
    if isinstance(node, c.ScoreCriterion):
        if node.labels is not None:
            return f"score {node.score} label " + " or ".join(sorted(node.labels))
        assert node.test is not None
        return f"score {node.score} {describe_test(node.test)}"
    if isinstance(node, c.CompanyScoreCriterion):
        if node.labels is not None:
            return f"company score {node.score} label " + " or ".join(sorted(node.labels))
        assert node.test is not None
        return f"company score {node.score} {describe_test(node.test)}"
    if isinstance(node, c.ListCriterion):
        return f"in list {node.list_name}"
    if isinstance(node, c.CompanyListCriterion):
        return f"company in company list {node.list_name}"
    if isinstance(node, c.Not):
        return f"not ({describe_criterion(node.child)})"
    joiner = " and " if isinstance(node, c.AllOf) else " or "
    parts = [describe_criterion(child) for child in node.children]
    shown = [f"({part})" if isinstance(child, c.AllOf | c.AnyOf) else part
             for part, child in zip(parts, node.children, strict=True)]
    return joiner.join(shown)


__all__ = ["describe_criterion"]
