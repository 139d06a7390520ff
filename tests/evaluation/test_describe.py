"""A criterion in words (`evaluation.describe`), as the web app's Model page shows each rule."""

from __future__ import annotations

from leadscore.evaluation.describe import describe_criterion
from leadscore.model import criteria as c


def test_every_kind_of_node_reads_as_words():
    title = c.PropertyCriterion("job_title", c.ValueTest("contains", ("vp",), ["vp"]))
    pricing = c.EventCriterion("page_view", (c.AttributeFilter(
        "url", c.ValueTest("matches", "*/pricing*", "*/pricing*")),), count=c.CountRange(3))
    none = c.EventCriterion("email_open", count=c.CountRange(0, 0))
    tree = c.AllOf((title, c.AnyOf((pricing, c.ListCriterion("sql"))),
                    c.Not(c.ScoreCriterion("total", labels=frozenset({"mql", "sql"}))), none))
    assert describe_criterion(tree) == (
        "job_title contains 'vp' and (at least 3 page_view events where url matches "
        "'*/pricing*' or in list sql) and not (score total label mql or sql) and "
        "exactly 0 email_open events")
